using Ignis.Server.Auth.Clients;
using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Admin;

public sealed class ClientsModel(ClientAdministration clients) : PortalPageModel
{
    [BindProperty(Name = "client_id")] public string? ClientId { get; set; }

    public List<AppRow> Apps { get; private set; } = [];

    protected override IReadOnlyDictionary<string, string> Notices { get; } = new Dictionary<string, string>
    {
        ["approved"] = "The app is approved and can get tokens.",
        ["disabled"] = "The app is disabled; every token it held was revoked.",
        ["enabled"] = "The app is enabled again.",
        ["legacy"] = "The grant setting is changed.",
        ["deleted"] = "The app is deleted; every token it held was revoked.",
    };

    public async Task OnGetAsync() => Apps = await clients.ListAsync(HttpContext.RequestAborted);

    public async Task<IActionResult> OnPostApproveAsync() => await AfterAsync(await clients.ApproveAsync(HttpContext, CurrentUser, ClientId ?? ""), "approved");

    public async Task<IActionResult> OnPostDisableAsync() => await AfterAsync(await clients.DisableAsync(HttpContext, CurrentUser, ClientId ?? ""), "disabled");

    public async Task<IActionResult> OnPostEnableAsync() => await AfterAsync(await clients.EnableAsync(HttpContext, CurrentUser, ClientId ?? ""), "enabled");

    public async Task<IActionResult> OnPostLegacyAsync([FromForm(Name = "grant")] string? grant, [FromForm(Name = "enabled")] bool enabled)
    {
        if (!Enum.TryParse<LegacyGrant>(grant, ignoreCase: true, out var which))
            return await AfterAsync(new AppChange(null, "Choose the password or the implicit grant."), "");
        return await AfterAsync(await clients.SetLegacyGrantAsync(HttpContext, CurrentUser, ClientId ?? "", which, enabled), "legacy");
    }

    public async Task<IActionResult> OnPostDeleteAsync([FromForm(Name = "confirm")] string? confirm)
    {
        if (confirm != "yes") return await AfterAsync(new AppChange(null, "Tick confirm to delete the app."), "");
        return await AfterAsync(await clients.DeleteAsync(HttpContext, CurrentUser, ClientId ?? ""), "deleted");
    }

    private async Task<IActionResult> AfterAsync(AppChange change, string done)
    {
        if (change.Succeeded) return Done(done);
        Error = change.Error;
        await OnGetAsync();
        return Page();
    }
}
