using System.Globalization;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Microsoft.AspNetCore.WebUtilities;

namespace Ignis.Server.Audit;

/// <summary>What the log page filters on; every part optional.</summary>
public sealed record SecurityLogFilter(string? User, string? Kind, DateOnly? From, DateOnly? To, string? Cursor);

public sealed record SecurityLogPage(IReadOnlyList<SecurityLogEntry> Entries, string? NextCursor);

/// <summary>Reads the security log back from the FHIR store for the admin page, newest first, one page at a time.</summary>
public sealed class SecurityLogQuery(FhirService fhir)
{
    public const int PageSize = 50;

    public async Task<SecurityLogPage> SearchAsync(SecurityLogFilter filter, string fhirBase, CancellationToken ct)
    {
        var query = new List<KeyValuePair<string, string>>
        {
            new("_sort", "-date"),
            new("_count", PageSize.ToString(CultureInfo.InvariantCulture)),
            new("_total", "none"),
        };
        if (filter.User is { Length: > 0 } user) query.Add(new("agent-name:exact", user.Trim()));
        if (SecurityEventCatalog.ByCode(filter.Kind) is { } kind) query.Add(new("subtype", $"{SecurityEventCatalog.IgnisSystem}|{kind.Code}"));
        if (filter.From is { } from) query.Add(new("date", "ge" + from.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        if (filter.To is { } to) query.Add(new("date", "le" + to.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)));
        if (filter.Cursor is { Length: > 0 and < 2048 } cursor) query.Add(new("_cursor", cursor));

        var response = await fhir.ExecuteAsync(new FhirRequest
        {
            Interaction = Interaction.SearchType,
            Method = "GET",
            Type = "AuditEvent",
            Query = query,
        }, fhirBase, ct);
        if (response.Resource is not Bundle bundle) return new SecurityLogPage([], null);
        var entries = bundle.Entry.Select(e => e.Resource).OfType<AuditEvent>().Select(AuditEventMapper.ToEntry).ToList();
        var next = bundle.Link.FirstOrDefault(l => l.Relation == "next")?.Url;
        string? nextCursor = null;
        if (next is not null && Uri.TryCreate(next, UriKind.Absolute, out var uri)
            && QueryHelpers.ParseQuery(uri.Query).TryGetValue("_cursor", out var value))
            nextCursor = value.ToString();
        return new SecurityLogPage(entries, nextCursor);
    }
}
