using Ignis.Server.Pages.Shared;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;

namespace Ignis.Server.Pages.Developer;

public sealed class NewModel(DeveloperApps apps) : PortalPageModel
{
    public AppForm Form { get; private set; } = new();

    /// <summary>After a successful registration: the client and its one-time secrets, rendered once (no redirect).</summary>
    public AppChange? Result { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        Form = AppFormBinding.Read(Request.Form);
        var result = await apps.RegisterAsync(HttpContext, CurrentUser, Form);
        if (result.Succeeded)
        {
            Response.Headers.CacheControl = "no-store";
            Result = result;
        }
        else
        {
            Error = result.Error;
        }
        return Page();
    }
}
