using Ignis.Server.Auth;
using Ignis.Server.Auth.External;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using OpenIddict.Client.AspNetCore;

namespace Ignis.Server.Pages.Account;

/// <summary>The sign-in page's "Sign in with ..." buttons post here: a redirect to that provider (Auth/External).</summary>
[AllowAnonymous]
public sealed class ExternalModel(ExternalSignIn signIn) : PageModel
{
    [BindProperty(Name = "provider")] public string? Provider { get; set; }
    [BindProperty(Name = "returnUrl")] public string? ReturnUrl { get; set; }

    public IActionResult OnGet() => Redirect(AuthPages.Login);

    public IActionResult OnPost() => signIn.ChallengeProperties(Provider, ReturnUrl) is { } properties
        ? Challenge(properties, OpenIddictClientAspNetCoreDefaults.AuthenticationScheme)
        : Redirect(AuthPages.Login);
}
