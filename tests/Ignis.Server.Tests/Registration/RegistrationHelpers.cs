using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Registration;

/// <summary>A demo server started with extra settings, one per test class.</summary>
public abstract class ConfiguredServerFixture(params string[] args) : IAsyncLifetime
{
    public IgnisServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await IgnisServer.StartAsync(["--demo", .. args]);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>Talks to /oauth/register, /oauth/token and the FHIR API the way a client does, over the socket.</summary>
public static class Registrations
{
    public const string Path = "/oauth/register";

    public static async Task<HttpResponseMessage> PostAsync(IgnisServer server, string json, string? bearer = null)
    {
        using var http = new HttpClient { BaseAddress = server.Origin };
        using var request = new HttpRequestMessage(HttpMethod.Post, Path) { Content = new StringContent(json, Encoding.UTF8, "application/json") };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        return await http.SendAsync(request);
    }

    /// <summary>Registers and returns the client information response, failing the test unless it is 201.</summary>
    public static async Task<JsonNode> RegisterAsync(IgnisServer server, string json, string? bearer = null)
    {
        var response = await PostAsync(server, json, bearer);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.Created, text);
        return JsonNode.Parse(text)!;
    }

    /// <summary>An RFC 7592 request to the registration_client_uri.</summary>
    public static async Task<HttpResponseMessage> ManageAsync(HttpMethod method, string uri, string? token, string? json = null)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(method, uri);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) request.Content = new StringContent(json, Encoding.UTF8, "application/json");
        return await http.SendAsync(request);
    }

    /// <summary>Runs <paramref name="action"/> on the server's registry (what the portal, admin pages and CLI call).</summary>
    public static async Task<T> WithRegistryAsync<T>(IgnisServer server, Func<ClientRegistry, Task<T>> action)
    {
        await using var scope = server.Services.CreateAsyncScope();
        return await action(scope.ServiceProvider.GetRequiredService<ClientRegistry>());
    }

    /// <summary>Registers through the registry as an administrator (no approval; legacy grants allowed).</summary>
    public static async Task<ClientResult> RegisterAsAdminAsync(IgnisServer server, ClientMetadata metadata)
    {
        var result = await WithRegistryAsync(server, r => r.RegisterAsync(metadata, Registrant.Administrator("test-admin")));
        result.Error.ShouldBeNull();
        return result;
    }

    public static async Task<HttpResponseMessage> TokenAsync(IgnisServer server, Dictionary<string, string> form, (string Id, string Secret)? basic = null)
    {
        using var http = new HttpClient { BaseAddress = server.Origin };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token") { Content = new FormUrlEncodedContent(form) };
        if (basic is { } b)
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic",
                Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(b.Id)}:{Uri.EscapeDataString(b.Secret)}")));
        return await http.SendAsync(request);
    }

    public static Task<HttpResponseMessage> ClientCredentialsAsync(IgnisServer server, string clientId, string secret, string scope = "system/*.rs") =>
        TokenAsync(server, new() { ["grant_type"] = "client_credentials", ["scope"] = scope }, (clientId, secret));

    public static async Task<HttpStatusCode> FhirReadAsync(IgnisServer server, string token, string path = "Patient/alice")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await server.Client.SendAsync(request);
        return response.StatusCode;
    }

    /// <summary>A public JWK Set for <paramref name="key"/>.</summary>
    public static JsonObject Jwks(ECDsa key, string kid = "k1")
    {
        var p = key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "EC", ["crv"] = "P-384", ["kid"] = kid, ["use"] = "sig",
                ["x"] = SmartApp.Base64Url(p.Q.X!), ["y"] = SmartApp.Base64Url(p.Q.Y!),
            }),
        };
    }

    public static JsonObject Jwks(RSA key, bool includePrivate = false)
    {
        var p = key.ExportParameters(includePrivate);
        var jwk = new JsonObject { ["kty"] = "RSA", ["kid"] = "r1", ["n"] = SmartApp.Base64Url(p.Modulus!), ["e"] = SmartApp.Base64Url(p.Exponent!) };
        if (includePrivate) jwk["d"] = SmartApp.Base64Url(p.D!);
        return new JsonObject { ["keys"] = new JsonArray(jwk) };
    }

    /// <summary>A new patient user linked to Patient/alice's record, for tests that lock accounts.</summary>
    public static async Task<string> CreateUserAsync(IgnisServer server, string password, string fhirUser = "Patient/alice")
    {
        await using var scope = server.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
        var name = "user-" + Guid.NewGuid().ToString("N")[..10];
        var user = new IgnisUser { UserName = name, FhirUser = fhirUser };
        (await users.CreateAsync(user, password)).Succeeded.ShouldBeTrue();
        (await users.AddToRoleAsync(user, IgnisRoles.Patient)).Succeeded.ShouldBeTrue();
        return name;
    }

    public static async Task<string> ErrorAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text)?["error"]?.GetValue<string>() ?? throw new InvalidOperationException("no error in: " + text);
    }
}
