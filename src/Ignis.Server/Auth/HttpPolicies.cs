using System.Net;
using Ignis.Server.Fhir;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Auth;

/// <summary>
/// Security headers on every page and OAuth response (the FHIR API is left as it is): no framing, no
/// sniffing, no referrer (authorize URLs carry state and codes), and a content security policy that allows
/// only this origin's stylesheet and no scripts.
/// </summary>
public sealed class SecurityHeaders(RequestDelegate next)
{
    public const string StylesheetPath = "/assets/ignis.css";

    // form-action is left out on purpose: browsers apply it to the redirect that ends a consent form post,
    // which goes to the app's redirect_uri on another origin. App logos are registered https URLs.
    public const string Policy = "default-src 'none'; style-src 'self'; img-src 'self' data: https:; frame-ancestors 'none'; base-uri 'none'";

    public Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.Path.StartsWithSegments(FhirEndpoints.BasePath))
        {
            http.Response.OnStarting(() =>
            {
                var headers = http.Response.Headers;
                headers.ContentSecurityPolicy = Policy;
                headers.XFrameOptions = "DENY";
                headers.XContentTypeOptions = "nosniff";
                headers["Referrer-Policy"] = "no-referrer";
                return Task.CompletedTask;
            });
        }
        return next(http);
    }

    /// <summary>The pages' one stylesheet (Pages/Shared/ignis.css, embedded in the assembly).</summary>
    public static string Stylesheet { get; } = LoadStylesheet();

    private static string LoadStylesheet()
    {
        using var stream = typeof(SecurityHeaders).Assembly.GetManifestResourceStream("Ignis.Server.ignis.css")
            ?? throw new InvalidOperationException("The embedded stylesheet Ignis.Server.ignis.css is missing from the build.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}

/// <summary>
/// The OAuth endpoints and pages carry passwords and tokens: over plain http they answer only loopback
/// clients (the default insecure interface), unless Ignis:Auth:AllowInsecureHttp is set.
/// </summary>
public sealed class TransportPolicy(RequestDelegate next, IOptions<AuthOptions> options)
{
    private static readonly string[] Protected = ["/oauth", "/account", "/authorize", "/.well-known", "/admin", "/developer", "/launcher"];

    public Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.IsHttps && !options.Value.AllowInsecureHttp
            && Protected.Any(p => http.Request.Path.StartsWithSegments(p))
            && (!options.Value.AllowLoopbackHttp || http.Connection.RemoteIpAddress is not { } remote || !IPAddress.IsLoopback(remote)))
        {
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            return http.Response.WriteAsJsonAsync(new { error = "invalid_request", error_description = "Use https." });
        }
        return next(http);
    }
}
