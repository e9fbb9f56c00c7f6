using Ignis.Server.Data;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Pages.Account;

/// <summary>Ends this browser session (and the online_access grants made in it). Only a POST signs out.</summary>
[AllowAnonymous]
public sealed class LogoutModel(SessionService sessions, UserManager<IgnisUser> users) : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = User.Identity?.IsAuthenticated == true ? await users.GetUserAsync(User) : null;
        await sessions.SignOutAsync(HttpContext, user);
        return LocalRedirect("/");
    }
}
