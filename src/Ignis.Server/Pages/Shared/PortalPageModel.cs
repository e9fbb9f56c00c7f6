using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.Filters;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Pages.Shared;

/// <summary>
/// What the account, developer, admin and launcher pages share: the signed-in user, loaded before every
/// handler, and a confirmation line chosen by a code in the query after a POST-redirect-GET (the text comes
/// from the page's own list, never from the URL).
/// </summary>
public abstract class PortalPageModel : PageModel
{
    public IgnisUser CurrentUser { get; private set; } = null!;

    /// <summary>The confirmation to show, from <see cref="Notices"/>.</summary>
    public string? Notice { get; private set; }

    /// <summary>An error to show above the page's forms.</summary>
    public string? Error { get; protected set; }

    protected virtual IReadOnlyDictionary<string, string> Notices { get; } = new Dictionary<string, string>();

    public override async Task OnPageHandlerExecutionAsync(PageHandlerExecutingContext context, PageHandlerExecutionDelegate next)
    {
        var users = HttpContext.RequestServices.GetRequiredService<UserManager<IgnisUser>>();
        var user = await users.GetUserAsync(User);
        if (user is null)
        {
            context.Result = Challenge();
            return;
        }
        CurrentUser = user;
        if (Request.Query["done"].LastOrDefault() is { } code && Notices.TryGetValue(code, out var text)) Notice = text;
        await next();
    }

    /// <summary>Back to this page (GET) with a confirmation code.</summary>
    protected RedirectResult Done(string code, object? routeValues = null)
    {
        var url = Url.Page(RouteData.Values["page"]?.ToString(), routeValues) ?? Request.Path.ToString();
        return Redirect(url + (url.Contains('?') ? "&" : "?") + "done=" + Uri.EscapeDataString(code));
    }

    protected string FhirBase => Fhir.FhirEndpoints.BaseUrl(HttpContext);

    /// <summary>An app logo URL that may go into an img element (absolute https, as the content security policy allows), else null.</summary>
    public static string? SafeImage(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttps ? uri.AbsoluteUri : null;
}
