using System.Globalization;
using Ignis.Server.Audit;
using Ignis.Server.Pages.Shared;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.WebUtilities;

namespace Ignis.Server.Pages.Admin;

public sealed class LogModel(SecurityLogQuery query) : PortalPageModel
{
    [BindProperty(Name = "user", SupportsGet = true)] public string? UserFilter { get; set; }
    [BindProperty(Name = "type", SupportsGet = true)] public string? Type { get; set; }
    [BindProperty(Name = "from", SupportsGet = true)] public string? FromText { get; set; }
    [BindProperty(Name = "to", SupportsGet = true)] public string? ToText { get; set; }
    [BindProperty(Name = "cursor", SupportsGet = true)] public string? Cursor { get; set; }

    public DateOnly? From { get; private set; }
    public DateOnly? To { get; private set; }
    public SecurityLogPage Results { get; private set; } = new([], null);

    public async Task OnGetAsync()
    {
        From = ParseDate(FromText, "From");
        To = ParseDate(ToText, "To");
        if (Type is { Length: > 0 } && SecurityEventCatalog.ByCode(Type) is null) Error ??= "Choose an event from the list.";
        if (Error is not null) return;
        Results = await query.SearchAsync(new SecurityLogFilter(UserFilter, Type, From, To, Cursor), FhirBase, HttpContext.RequestAborted);
    }

    public string NextLink(string cursor)
    {
        var parameters = new Dictionary<string, string?> { ["user"] = UserFilter, ["type"] = Type, ["from"] = FromText, ["to"] = ToText, ["cursor"] = cursor };
        return QueryHelpers.AddQueryString("/admin/log", parameters.Where(p => !string.IsNullOrEmpty(p.Value)));
    }

    private DateOnly? ParseDate(string? text, string field)
    {
        if (string.IsNullOrEmpty(text)) return null;
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var date)) return date;
        Error ??= $"{field}: enter a date as YYYY-MM-DD.";
        return null;
    }
}
