using System.Text.RegularExpressions;
using Ignis.Client.Login;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Client.Tests.Infrastructure;

/// <summary>
/// A browser without JavaScript standing in for the person at the system browser: it opens the authorize URL the SDK
/// hands over, signs in on the server's real login page, allows on the real consent page (optionally picking a patient
/// and unticking scopes), then follows the redirect to the SDK's loopback listener and keeps the page it answered.
/// </summary>
public sealed class FormBrowserLauncher(IgnisServer server, string user, string password) : IBrowserLauncher
{
    /// <summary>A browser that already holds a session (e.g. the clinician who started an EHR launch).</summary>
    public SmartBrowser? Browser { get; init; }

    public string? Patient { get; init; }
    public string Decision { get; init; } = "allow";
    public Func<Uri, Uri>? TamperRedirect { get; init; }

    public Uri? AuthorizeUrl { get; private set; }
    public string? CallbackPage { get; private set; }
    public int CallbackStatus { get; private set; }

    public async Task LaunchAsync(Uri authorizeUrl, CancellationToken cancellationToken)
    {
        AuthorizeUrl = authorizeUrl;
        var browser = Browser ?? new SmartBrowser(server);
        try
        {
            var page = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Get, authorizeUrl));
            if (page.ExternalRedirect is null && page.Html.Contains("name=\"username\"")) page = await browser.LoginAsync(page, user, password);
            if (page.ExternalRedirect is null && Patient is not null && page.Html.Contains("name=\"patient\""))
                page = await browser.SubmitAsync(page, "patient", new Dictionary<string, string?> { ["patient"] = Patient }, button: ("select", "patient"));
            if (page.ExternalRedirect is null) page = await browser.SubmitAsync(page, "decision", button: ("decision", Decision));
            var redirect = page.ExternalRedirect ?? throw new InvalidOperationException($"The server did not redirect to the app: {page.Url}\n{page.Html}");
            if (TamperRedirect is not null) redirect = TamperRedirect(redirect);
            using var http = new HttpClient();
            using var response = await http.GetAsync(redirect, cancellationToken);
            CallbackStatus = (int)response.StatusCode;
            CallbackPage = await response.Content.ReadAsStringAsync(cancellationToken);
        }
        finally
        {
            if (Browser is null) browser.Dispose();
        }
    }

    /// <summary>The visible text of the page the SDK's listener answered.</summary>
    public string CallbackText => Regex.Replace(Regex.Replace(CallbackPage ?? "", "<style.*?</style>", "", RegexOptions.Singleline), "<[^>]+>", " ");
}
