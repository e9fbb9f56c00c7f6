using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Fhir;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Server.Portal;

/// <summary>What the tester shows after the app's code came back.</summary>
public sealed record TesterResult(string? Error, string? TokenResponse, string? AccessTokenHeader, string? AccessTokenPayload, string? IdTokenPayload, string? ClientId);

/// <summary>
/// A standalone launch run by the server for a chosen client, like the public SMART sandbox: it plays the app
/// (PKCE S256, state, the code exchange at the token endpoint) with the redirect URI
/// <see cref="CallbackPath"/>, so the developer sees what their app would get. The flow's secrets (state,
/// verifier, client secret) stay in an encrypted, HttpOnly cookie for ten minutes.
/// </summary>
public sealed class LaunchTester(IDataProtectionProvider protection, IHttpClientFactory clients, SmartDiscovery discovery)
{
    public const string CallbackPath = "/launcher/callback";
    public const string CookieName = "ignis.tester";
    public const string HttpClientName = "ignis-launch-tester";
    public const string DefaultScope = "openid fhirUser launch/patient patient/*.rs offline_access";
    private static readonly TimeSpan Lifetime = TimeSpan.FromMinutes(10);
    // Relaxed escaping keeps "at+jwt" and URLs readable; the page HTML-encodes whatever it shows.
    private static readonly JsonSerializerOptions Pretty = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private ITimeLimitedDataProtector Protector => protection.CreateProtector("Ignis.LaunchTester").ToTimeLimitedDataProtector();

    private sealed record Flow(string State, string Verifier, string ClientId, string? Secret, string RedirectUri);

    public static string CallbackUrl(HttpContext http) => SmartDiscovery.Origin(http) + CallbackPath;

    /// <summary>The SMART configuration document this server publishes, indented.</summary>
    public string DiscoveryDocument(HttpContext http) => discovery.Document(SmartDiscovery.Origin(http)).ToJsonString(Pretty);

    /// <summary>Starts the launch: remembers the flow in the cookie and returns the authorize URL.</summary>
    public string Start(HttpContext http, string clientId, string? secret, string? scope, bool signInAgain)
    {
        var flow = new Flow(Random(16), Random(32), clientId, string.IsNullOrEmpty(secret) ? null : secret, CallbackUrl(http));
        http.Response.Cookies.Append(CookieName, Protector.Protect(JsonSerializer.Serialize(flow), Lifetime), new CookieOptions
        {
            HttpOnly = true,
            Secure = http.Request.IsHttps,
            SameSite = SameSiteMode.Lax, // the callback is a top-level navigation back from /oauth/authorize
            Path = "/launcher",
            MaxAge = Lifetime,
        });
        var parameters = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = flow.RedirectUri,
            ["scope"] = string.IsNullOrWhiteSpace(scope) ? DefaultScope : scope.Trim(),
            ["state"] = flow.State,
            ["aud"] = FhirEndpoints.BaseUrl(http),
            ["code_challenge"] = Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(flow.Verifier))),
            ["code_challenge_method"] = "S256",
        };
        if (signInAgain) parameters["prompt"] = "login";
        return QueryHelpers.AddQueryString(AuthEndpoints.Authorize, parameters);
    }

    /// <summary>Finishes the launch at the callback: checks the state, exchanges the code and decodes the tokens.</summary>
    public async Task<TesterResult> CompleteAsync(HttpContext http, string? code, string? state, string? error, string? errorDescription)
    {
        var flow = ReadFlow(http);
        http.Response.Cookies.Delete(CookieName, new CookieOptions { Path = "/launcher" });
        if (flow is null) return Failed("This launch is unknown or older than ten minutes. Start it again.");
        if (state != flow.State) return Failed("The state does not match the launch started here; the response was not used.", flow.ClientId);
        if (!string.IsNullOrEmpty(error)) return Failed($"The authorization server answered {error}: {errorDescription}", flow.ClientId);
        if (string.IsNullOrEmpty(code)) return Failed("The callback carries no code.", flow.ClientId);

        using var request = new HttpRequestMessage(HttpMethod.Post, SmartDiscovery.Origin(http) + AuthEndpoints.Token)
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "authorization_code",
                ["code"] = code,
                ["redirect_uri"] = flow.RedirectUri,
                ["code_verifier"] = flow.Verifier,
                ["client_id"] = flow.ClientId,
            }),
        };
        if (flow.Secret is { } secret)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(flow.ClientId)}:{Uri.EscapeDataString(secret)}")));
        var client = clients.CreateClient(HttpClientName);
        using var response = await client.SendAsync(request, http.RequestAborted);
        var text = await response.Content.ReadAsStringAsync(http.RequestAborted);
        JsonNode? body;
        try
        {
            body = JsonNode.Parse(text);
        }
        catch (JsonException)
        {
            return Failed($"The token endpoint answered {(int)response.StatusCode} without JSON.", flow.ClientId);
        }
        var pretty = body?.ToJsonString(Pretty);
        if (!response.IsSuccessStatusCode || body?["access_token"]?.GetValue<string>() is not { } accessToken)
            return new TesterResult($"The token endpoint answered {(int)response.StatusCode}.", pretty, null, null, null, flow.ClientId);
        return new TesterResult(null, pretty, DecodePart(accessToken, 0), DecodePart(accessToken, 1),
            body["id_token"]?.GetValue<string>() is { } idToken ? DecodePart(idToken, 1) : null, flow.ClientId);
    }

    private Flow? ReadFlow(HttpContext http)
    {
        var cookie = http.Request.Cookies[CookieName];
        if (string.IsNullOrEmpty(cookie) || cookie.Length > 8192) return null;
        try
        {
            return JsonSerializer.Deserialize<Flow>(Protector.Unprotect(cookie));
        }
        catch (Exception e) when (e is CryptographicException or JsonException)
        {
            return null;
        }
    }

    /// <summary>One part of a JWT, indented; the signature is not checked here (the resource server does that).</summary>
    public static string? DecodePart(string jwt, int index)
    {
        var parts = jwt.Split('.');
        if (parts.Length < 2 || index >= parts.Length) return null;
        try
        {
            return JsonNode.Parse(Base64UrlEncoder.Decode(parts[index]))?.ToJsonString(Pretty);
        }
        catch (Exception e) when (e is FormatException or JsonException or ArgumentException)
        {
            return null;
        }
    }

    private static TesterResult Failed(string error, string? clientId = null) => new(error, null, null, null, null, clientId);

    private static string Random(int bytes) => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(bytes));
}
