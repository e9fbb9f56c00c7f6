using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Account;

/// <summary>The apps the user authorized, with Revoke, and "Sign out everywhere".</summary>
public sealed class AppsModel(ConnectedApps connected) : PortalPageModel
{
    public List<ConnectedApp> Apps { get; private set; } = [];

    protected override IReadOnlyDictionary<string, string> Notices { get; } = new Dictionary<string, string>
    {
        ["revoked"] = "Access revoked. The app can no longer use your data.",
    };

    public async Task OnGetAsync() => Apps = await connected.ListAsync(CurrentUser.Id, HttpContext.RequestAborted);

    public async Task<IActionResult> OnPostRevokeAsync([FromForm(Name = "client_id")] string? clientId)
    {
        if (string.IsNullOrEmpty(clientId) || !await connected.RevokeAsync(HttpContext, CurrentUser, clientId, HttpContext.RequestAborted))
        {
            Error = "That app has no access to revoke.";
            await OnGetAsync();
            return Page();
        }
        return Done("revoked");
    }

    public async Task<IActionResult> OnPostSignOutEverywhereAsync()
    {
        await connected.SignOutEverywhereAsync(HttpContext, CurrentUser, HttpContext.RequestAborted);
        return Redirect(Auth.AuthPages.Login + "?signedout=everywhere");
    }
}
