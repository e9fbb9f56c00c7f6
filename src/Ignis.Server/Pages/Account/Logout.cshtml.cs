using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Pages.Account;

/// <summary>Ends this browser session (and the online_access grants made in it).</summary>
public sealed class LogoutModel(SignInManager<IgnisUser> signIn, AuthDbContext db, TimeProvider clock) : PageModel
{
    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        await AuthEndpoints.EndSessionAsync(HttpContext, signIn, db, clock);
        return LocalRedirect("/");
    }
}
