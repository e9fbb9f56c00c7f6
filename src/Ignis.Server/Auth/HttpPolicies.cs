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
    // which goes to the app's redirect_uri on another origin.
    private const string Policy = "default-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'";

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

    public const string Stylesheet = """
        body { font-family: system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; color: #1d1d1f; background: #fff; line-height: 1.5; }
        h1 { font-size: 1.5rem; }
        label { display: block; margin: .5rem 0; }
        input[type=text], input[type=password], input[type=search] { width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }
        button { font-size: 1rem; padding: .5rem 1.25rem; margin: .5rem .5rem .5rem 0; cursor: pointer; }
        .error { color: #b00020; border: 1px solid #b00020; padding: .5rem; }
        fieldset { border: 1px solid #ccc; margin: 1rem 0; }
        code { font-size: .85rem; color: #555; }
        """;
}

/// <summary>
/// The OAuth endpoints and pages carry passwords and tokens: over plain http they answer only loopback
/// clients (the default insecure interface), unless Ignis:Auth:AllowInsecureHttp is set.
/// </summary>
public sealed class TransportPolicy(RequestDelegate next, IOptions<AuthOptions> options)
{
    private static readonly string[] Protected = ["/oauth", "/account", "/authorize", "/.well-known"];

    public Task InvokeAsync(HttpContext http)
    {
        if (!http.Request.IsHttps && !options.Value.AllowInsecureHttp
            && Protected.Any(p => http.Request.Path.StartsWithSegments(p))
            && http.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
        {
            http.Response.StatusCode = StatusCodes.Status403Forbidden;
            return http.Response.WriteAsJsonAsync(new { error = "invalid_request", error_description = "Use https." });
        }
        return next(http);
    }
}
