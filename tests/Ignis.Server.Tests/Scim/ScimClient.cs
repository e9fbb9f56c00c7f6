using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Scim;

/// <summary>An HTTP client of /scim/v2 with a bearer token (by default the demo backend's, scope scim).</summary>
public sealed class ScimClient : IDisposable
{
    public const string Media = "application/scim+json";
    public const string UserUrn = "urn:ietf:params:scim:schemas:core:2.0:User";
    public const string GroupUrn = "urn:ietf:params:scim:schemas:core:2.0:Group";
    public const string EnterpriseUrn = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
    public const string IgnisUrn = "urn:ietf:params:scim:schemas:extension:ignis:2.0:User";
    public const string PatchUrn = "urn:ietf:params:scim:api:messages:2.0:PatchOp";
    public const string ErrorUrn = "urn:ietf:params:scim:api:messages:2.0:Error";

    private readonly HttpClient _http;

    public ScimClient(IgnisServer server, string? token)
    {
        Server = server;
        _http = new HttpClient { BaseAddress = new Uri(server.Origin, "/scim/v2/"), Timeout = TimeSpan.FromSeconds(60) };
        if (token is not null) _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
    }

    public IgnisServer Server { get; }
    public string BaseUrl => new Uri(Server.Origin, "/scim/v2").ToString();

    public static async Task<ScimClient> ForBackendAsync(IgnisServer server, string scope = "scim") =>
        new(server, await BackendTokenAsync(server, scope));

    public static async Task<string> BackendTokenAsync(IgnisServer server, string scope = "scim")
    {
        var body = await SmartApp.PostFormAsync(server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = scope }, ("demo-backend", "demo-backend-secret"));
        return body["access_token"]?.GetValue<string>() ?? throw new InvalidOperationException(body.ToJsonString());
    }

    /// <summary>A user's access token from the demo app (code flow with PKCE, consent allowed).</summary>
    public static async Task<string> UserTokenAsync(IgnisServer server, string user, string password, string scope)
    {
        using var browser = new SmartBrowser(server);
        var app = new SmartApp(server);
        var code = await app.AuthorizeAsync(browser, user, password, scope);
        var tokens = await (await app.ExchangeAsync(code)).BodyAsync();
        return tokens["access_token"]?.GetValue<string>() ?? throw new InvalidOperationException(tokens.ToJsonString());
    }

    public Task<HttpResponseMessage> GetAsync(string path, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Get, path, null, headers);

    public Task<HttpResponseMessage> PostAsync(string path, string json, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Post, path, json, headers);

    public Task<HttpResponseMessage> PutAsync(string path, string json, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Put, path, json, headers);

    public Task<HttpResponseMessage> PatchAsync(string path, string json, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Patch, path, json, headers);

    public Task<HttpResponseMessage> DeleteAsync(string path, params (string Name, string Value)[] headers) => SendAsync(HttpMethod.Delete, path, null, headers);

    public async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, path.TrimStart('/'));
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, Media);
        foreach (var (name, value) in headers)
            if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content?.Headers.TryAddWithoutValidation(name, value);
        return await _http.SendAsync(request);
    }

    /// <summary>Creates a user and returns its resource.</summary>
    public async Task<JsonObject> CreateUserAsync(string json)
    {
        var response = await PostAsync("Users", json);
        var text = await response.Content.ReadAsStringAsync();
        if ((int)response.StatusCode != 201) throw new InvalidOperationException($"create user: {(int)response.StatusCode} {text}");
        return JsonNode.Parse(text)!.AsObject();
    }

    public Task<JsonObject> CreateUserAsync(string userName, string? extra) =>
        CreateUserAsync($$"""{"schemas":["{{UserUrn}}"],"userName":"{{userName}}"{{(extra is null ? "" : "," + extra)}}}""");

    public static string Patch(params string[] operations) =>
        $$"""{"schemas":["{{PatchUrn}}"],"Operations":[{{string.Join(",", operations)}}]}""";

    public void Dispose() => _http.Dispose();
}

public static class ScimAssertions
{
    /// <summary>The response is a SCIM error (RFC 7644 §3.12) with this status and scimType.</summary>
    public static async Task<JsonNode> ShouldBeScimErrorAsync(this HttpResponseMessage response, int status, string? scimType = null)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(status, text);
        response.Content.Headers.ContentType?.MediaType.ShouldBe(ScimClient.Media, text);
        var body = JsonNode.Parse(text)!;
        body["schemas"]!.AsArray().Select(s => s!.GetValue<string>()).ShouldBe([ScimClient.ErrorUrn], text);
        body["status"]!.GetValue<string>().ShouldBe(status.ToString(), text);
        if (scimType is null) body["scimType"].ShouldBeNull(text);
        else body["scimType"]?.GetValue<string>().ShouldBe(scimType, text);
        body["detail"]!.GetValue<string>().ShouldNotBeNullOrWhiteSpace();
        return body;
    }

    public static async Task<JsonObject> ShouldBeScimAsync(this HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(status, text);
        response.Content.Headers.ContentType?.MediaType.ShouldBe(ScimClient.Media, text);
        return JsonNode.Parse(text)!.AsObject();
    }
}
