using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Account;

public sealed class PasswordModel(AccountService accounts) : PortalPageModel
{
    [BindProperty(Name = "current")] public string? Current { get; set; }
    [BindProperty(Name = "new")] public string? New { get; set; }
    [BindProperty(Name = "confirm")] public string? Confirm { get; set; }

    public List<string> Errors { get; private set; } = [];

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Errors = await accounts.ChangePasswordAsync(HttpContext, CurrentUser, Current, New, Confirm);
        if (Errors.Count > 0) return Page();
        return Redirect("/account?done=password");
    }
}
