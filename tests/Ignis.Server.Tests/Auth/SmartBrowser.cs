using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Ignis.Server.Tests.Auth;

/// <summary>
/// A browser without JavaScript: keeps cookies, follows redirects within the server's origin and stops at
/// the first redirect elsewhere (the app's redirect_uri), submits forms as they are rendered (hidden fields,
/// checked boxes, the antiforgery token) with the fields a person would change.
/// </summary>
public sealed partial class SmartBrowser : IDisposable
{
    private readonly HttpClient _http;

    /// <param name="cookies">Shared with another browser to act as one browser in front of several nodes.</param>
    public SmartBrowser(IgnisServer server, CookieContainer? cookies = null)
    {
        Server = server;
        _http = new HttpClient(new HttpClientHandler { CookieContainer = cookies ?? new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = server.Origin,
            Timeout = TimeSpan.FromSeconds(60),
        };
    }

    public IgnisServer Server { get; }

    public Task<BrowserPage> GetAsync(string url) => NavigateAsync(new HttpRequestMessage(HttpMethod.Get, url));

    public async Task<BrowserPage> NavigateAsync(HttpRequestMessage request)
    {
        var url = request.RequestUri!.IsAbsoluteUri ? request.RequestUri : new Uri(Server.Origin, request.RequestUri);
        var response = await _http.SendAsync(request);
        for (var hops = 0; hops < 10; hops++)
        {
            if ((int)response.StatusCode is not (301 or 302 or 303 or 307 or 308)) break;
            var location = new Uri(url, response.Headers.Location!);
            if (location.GetLeftPart(UriPartial.Authority) != Server.Origin.GetLeftPart(UriPartial.Authority))
                return new BrowserPage(response.StatusCode, url, "", location, response);
            url = location;
            response = await _http.GetAsync(url);
        }
        return new BrowserPage(response.StatusCode, url, await response.Content.ReadAsStringAsync(), null, response);
    }

    /// <summary>Submits the page's form that has a field or button named <paramref name="marker"/>.</summary>
    public Task<BrowserPage> SubmitAsync(BrowserPage page, string marker, IDictionary<string, string?>? set = null,
        (string Name, string Value)? button = null, IEnumerable<string>? uncheck = null)
    {
        var form = FormPattern().Matches(page.Html).Select(m => m.Value).FirstOrDefault(f => f.Contains($"name=\"{marker}\""))
            ?? throw new InvalidOperationException($"No form with a field named {marker} on {page.Url} ({(int)page.Status}):\n{page.Html}");
        var fields = new List<KeyValuePair<string, string>>();
        var radios = new HashSet<string>();
        foreach (Match input in InputPattern().Matches(form))
        {
            var tag = input.Value;
            var name = Attr(tag, "name");
            if (name is null) continue;
            var type = Attr(tag, "type") ?? "text";
            if (type is "submit") continue;
            var value = WebUtility.HtmlDecode(Attr(tag, "value") ?? "");
            if (type is "checkbox" && (!tag.Contains(" checked") || uncheck?.Contains(value) == true)) continue;
            if (type is "radio")
            {
                if (set?.ContainsKey(name) == true || !tag.Contains(" checked") || !radios.Add(name)) continue;
            }
            if (set?.ContainsKey(name) == true && type is not "checkbox") continue;
            fields.Add(new(name, value));
        }
        foreach (var (name, value) in set ?? new Dictionary<string, string?>())
            if (value is not null) fields.Add(new(name, value));
        if (button is { } b) fields.Add(new(b.Name, b.Value));

        var action = Attr(FormTagPattern().Match(form).Value, "action");
        var target = action is null ? page.Url : new Uri(page.Url, WebUtility.HtmlDecode(action));
        return NavigateAsync(new HttpRequestMessage(HttpMethod.Post, target) { Content = new FormUrlEncodedContent(fields) });
    }

    /// <summary>Signs in on the login page the browser is on.</summary>
    public Task<BrowserPage> LoginAsync(BrowserPage page, string user, string password) =>
        SubmitAsync(page, "username", new Dictionary<string, string?> { ["username"] = user, ["password"] = password });

    private static string? Attr(string tag, string name)
    {
        var m = Regex.Match(tag, $"\\s{name}=\"([^\"]*)\"");
        return m.Success ? m.Groups[1].Value : null;
    }

    public void Dispose() => _http.Dispose();

    [GeneratedRegex("<form[^>]*>.*?</form>", RegexOptions.Singleline)]
    private static partial Regex FormPattern();

    [GeneratedRegex("<form[^>]*>")]
    private static partial Regex FormTagPattern();

    [GeneratedRegex("<(input|button)\\b[^>]*>")]
    private static partial Regex InputPattern();
}

public sealed record BrowserPage(HttpStatusCode Status, Uri Url, string Html, Uri? ExternalRedirect, HttpResponseMessage Response)
{
    public IDictionary<string, string> RedirectQuery =>
        QueryHelpers.ParseQuery(ExternalRedirect?.Query ?? throw new InvalidOperationException($"No redirect to the app; page {Url} ({Status}):\n{Html}"))
            .ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
}

/// <summary>A SMART app: builds authorize URLs with PKCE and talks to the token, introspection and revocation endpoints.</summary>
public sealed class SmartApp(IgnisServer server, string clientId = "demo-app", string redirectUri = "http://127.0.0.1:51234/callback")
{
    public string ClientId => clientId;
    public string RedirectUri => redirectUri;
    public string Verifier { get; } = Base64Url(RandomNumberGenerator.GetBytes(32));
    public string State { get; } = Base64Url(RandomNumberGenerator.GetBytes(12));
    public string Challenge => Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(Verifier)));

    public string AuthorizeUrl(string scope, IDictionary<string, string?>? extra = null)
    {
        var parameters = new Dictionary<string, string?>
        {
            ["response_type"] = "code",
            ["client_id"] = clientId,
            ["redirect_uri"] = redirectUri,
            ["scope"] = scope,
            ["state"] = State,
            ["aud"] = server.FhirBase,
            ["code_challenge"] = Challenge,
            ["code_challenge_method"] = "S256",
            // Every test sees the consent page unless it asks otherwise (remembered consent would skip it).
            ["prompt"] = "consent",
        };
        foreach (var (k, v) in extra ?? new Dictionary<string, string?>()) parameters[k] = v;
        return QueryHelpers.AddQueryString("/oauth/authorize", parameters.Where(p => p.Value is not null)!);
    }

    /// <summary>Logs in and allows everything on the consent page; returns the code.</summary>
    public async Task<string> AuthorizeAsync(SmartBrowser browser, string user, string password, string scope, IDictionary<string, string?>? extra = null)
    {
        var page = await browser.GetAsync(AuthorizeUrl(scope, extra));
        if (page.Html.Contains("name=\"username\"")) page = await browser.LoginAsync(page, user, password);
        page = await browser.SubmitAsync(page, "decision", button: ("decision", "allow"));
        var query = page.RedirectQuery;
        query["state"].ShouldBe(State);
        return query["code"];
    }

    public Task<HttpResponseMessage> ExchangeAsync(string code, string? verifier = null) => TokenAsync(new()
    {
        ["grant_type"] = "authorization_code",
        ["code"] = code,
        ["redirect_uri"] = redirectUri,
        ["client_id"] = clientId,
        ["code_verifier"] = verifier ?? Verifier,
    });

    public Task<HttpResponseMessage> RefreshAsync(string refreshToken, string? scope = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken, ["client_id"] = clientId };
        if (scope is not null) form["scope"] = scope;
        return TokenAsync(form);
    }

    public async Task<HttpResponseMessage> TokenAsync(Dictionary<string, string> form)
    {
        using var http = new HttpClient { BaseAddress = server.Origin };
        return await http.PostAsync("/oauth/token", new FormUrlEncodedContent(form));
    }

    public static async Task<JsonNode> PostFormAsync(IgnisServer server, string path, Dictionary<string, string> form, (string User, string Secret)? basic = null)
    {
        using var http = new HttpClient { BaseAddress = server.Origin };
        using var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        if (basic is { } b)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{b.User}:{b.Secret}")));
        var response = await http.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return text.Length == 0 ? new JsonObject { ["status"] = (int)response.StatusCode } : JsonNode.Parse(text)!;
    }

    public static Task<JsonNode> IntrospectAsync(IgnisServer server, string token) =>
        PostFormAsync(server, "/oauth/introspect", new() { ["token"] = token }, ("demo-backend", "demo-backend-secret"));

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The payload of a JWT, unverified (the tests check the signature separately).</summary>
    public static JsonNode JwtPart(string jwt, int part)
    {
        var s = jwt.Split('.')[part].Replace('-', '+').Replace('_', '/');
        s += new string('=', (4 - s.Length % 4) % 4);
        return JsonNode.Parse(Convert.FromBase64String(s))!;
    }
}
