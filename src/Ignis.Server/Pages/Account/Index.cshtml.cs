using Ignis.Server.Data;
using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Account;

/// <summary>The user's own account: who they are, where they are signed in, and ending those sessions.</summary>
public sealed class AccountModel(SessionService sessions, UserManager<IgnisUser> users) : PortalPageModel
{
    public IList<string> Roles { get; private set; } = [];
    public List<SessionView> Sessions { get; private set; } = [];

    protected override IReadOnlyDictionary<string, string> Notices { get; } = new Dictionary<string, string>
    {
        ["session-ended"] = "That session is signed out.",
        ["password"] = "Your password is changed. Your other sessions were signed out.",
    };

    public async Task OnGetAsync() => await LoadAsync();

    public async Task<IActionResult> OnPostEndSessionAsync([FromForm(Name = "session")] string? session)
    {
        if (string.IsNullOrEmpty(session) || session == SessionService.CurrentId(User)
            || !await sessions.EndAsync(HttpContext, CurrentUser, session))
        {
            Error = "That session is not open any more.";
            await LoadAsync();
            return Page();
        }
        return Done("session-ended");
    }

    private async Task LoadAsync()
    {
        Roles = await users.GetRolesAsync(CurrentUser);
        Sessions = await sessions.ListActiveAsync(CurrentUser.Id, SessionService.CurrentId(User), HttpContext.RequestAborted);
    }
}
