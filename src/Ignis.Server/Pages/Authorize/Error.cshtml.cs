using Ignis.Server.Auth;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Pages.Authorize;

/// <summary>
/// An authorize (or logout) request that cannot be answered by redirecting to the app, because its client_id or
/// redirect_uri is missing or not registered (RFC 6749 §4.1.2.1). OpenIddict's status code pages integration
/// re-executes the request here with its 400; GET or POST, like the request it shows.
/// </summary>
[IgnoreAntiforgeryToken]
public sealed class ErrorModel : PageModel
{
    public string? Error { get; private set; }
    public string? Description { get; private set; }

    public void OnGet() => Load();

    public void OnPost() => Load();

    private void Load()
    {
        var response = HttpContext.Items[SmartServerHandlers.ErrorItem] as SmartServerHandlers.AuthorizeError;
        Error = response?.Error;
        Description = response?.Description;
        if (Error is null) Response.StatusCode = StatusCodes.Status404NotFound;
    }
}
