using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Auth;

/// <summary>RFC 7662 §2.1: a protected resource authorizes its introspection call with a bearer token carrying the introspect scope.</summary>
public sealed class BearerIntrospectionTests : IAsyncLifetime
{
    private const string ResourceServer = "resource-server";
    private const string ResourceServerSecret = "resource-server-secret";
    private IgnisServer _server = null!;

    public async ValueTask InitializeAsync()
    {
        // Access tokens live 3 s here, so the expired case needs no clock tricks.
        _server = await IgnisServer.StartAsync("--demo", "--Ignis:Auth:AccessTokenLifetime=00:00:03");
        await using var scope = _server.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        // What an admin does for a resource server: client_credentials with the introspect scope permission.
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
        {
            ClientId = ResourceServer,
            ClientSecret = ResourceServerSecret,
            ClientType = ClientTypes.Confidential,
            Permissions = { Permissions.Endpoints.Token, Permissions.Endpoints.Revocation, Permissions.GrantTypes.ClientCredentials, Permissions.Prefixes.Scope + "introspect" },
        });
    }

    public ValueTask DisposeAsync() => _server.DisposeAsync();

    private async Task<string> ResourceServerTokenAsync(string scope = "introspect")
    {
        var body = await SmartApp.PostFormAsync(_server, "/oauth/token", new() { ["grant_type"] = "client_credentials", ["scope"] = scope },
            (ResourceServer, ResourceServerSecret));
        return body["access_token"].Str();
    }

    private async Task<(HttpResponseMessage Response, JsonNode Body)> IntrospectAsync(string? bearer, string token)
    {
        using var http = new HttpClient { BaseAddress = _server.Origin };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/introspect") { Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }) };
        if (bearer is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", bearer);
        var response = await http.SendAsync(request);
        return (response, JsonNode.Parse(await response.Content.ReadAsStringAsync())!);
    }

    private async Task<JsonNode> AliceGrantAsync()
    {
        using var browser = new SmartBrowser(_server);
        var app = new SmartApp(_server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid fhirUser launch/patient patient/*.rs offline_access");
        return await (await app.ExchangeAsync(code)).BodyAsync();
    }

    [Fact]
    public async Task A_bearer_token_with_the_introspect_scope_describes_an_active_access_token()
    {
        var alice = await AliceGrantAsync();
        var (response, result) = await IntrospectAsync(await ResourceServerTokenAsync(), alice["access_token"].Str());
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        result["active"]!.GetValue<bool>().ShouldBeTrue();
        result["scope"].Str().Split(' ').ShouldBe(["openid", "fhirUser", "launch/patient", "patient/*.rs", "offline_access"], ignoreOrder: true);
        result["client_id"].Str().ShouldBe("demo-app");
        result["sub"].Str().ShouldNotBeNullOrEmpty();
        result["exp"]!.GetValue<long>().ShouldBeGreaterThan(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 1);
        result["iat"]!.GetValue<long>().ShouldBeLessThanOrEqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        result["fhirUser"].Str().ShouldBe(_server.FhirBase + "/Patient/alice");
        result["patient"].Str().ShouldBe("alice");
    }

    [Fact]
    public async Task The_encounter_of_an_ehr_launch_is_introspected_too()
    {
        using var browser = new SmartBrowser(_server);
        await AuthorizeRequestTests.SignInAsync(browser, "carol", "carol-demo-pass");
        var minted = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/launch")
        {
            Content = System.Net.Http.Json.JsonContent.Create(new { patient = "dave", encounter = await FirstEncounterOfAsync("dave"), client_id = "demo-app" }),
        });
        var launch = JsonNode.Parse(await minted.Response.Content.ReadAsStringAsync())!["launch"].Str();
        var app = new SmartApp(_server);
        var code = await app.AuthorizeAsync(browser, "carol", "carol-demo-pass", "launch patient/*.rs", new Dictionary<string, string?> { ["launch"] = launch });
        var tokens = await (await app.ExchangeAsync(code)).BodyAsync();

        var (_, result) = await IntrospectAsync(await ResourceServerTokenAsync(), tokens["access_token"].Str());
        result["patient"].Str().ShouldBe("dave");
        result["encounter"].Str().ShouldBe(tokens["encounter"].Str());
    }

    [Theory]
    [InlineData("unknown")]
    [InlineData("revoked")]
    [InlineData("expired")]
    [InlineData("refresh_token")]
    public async Task A_token_that_is_not_active_gives_only_active_false(string kind)
    {
        var bearer = await ResourceServerTokenAsync();
        var token = "not-a-token";
        if (kind != "unknown")
        {
            var alice = await AliceGrantAsync();
            token = alice[kind == "refresh_token" ? "refresh_token" : "access_token"].Str();
            if (kind == "revoked")
                await SmartApp.PostFormAsync(_server, "/oauth/revoke", new() { ["token"] = token, ["client_id"] = "demo-app" });
            if (kind == "expired")
            {
                await Task.Delay(TimeSpan.FromSeconds(4));
                bearer = await ResourceServerTokenAsync(); // the caller's own token must still be valid
            }
        }
        var (response, result) = await IntrospectAsync(bearer, token);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        result.ToJsonString().ShouldBe("{\"active\":false}");
    }

    [Fact]
    public async Task A_bearer_token_without_the_introspect_scope_is_refused_with_401()
    {
        var alice = await AliceGrantAsync();
        var backend = (await SmartApp.PostFormAsync(_server, "/oauth/token", new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" },
            ("demo-backend", "demo-backend-secret")))["access_token"].Str();
        foreach (var bearer in (string[])[backend, alice["access_token"].Str()])
        {
            var (response, result) = await IntrospectAsync(bearer, alice["access_token"].Str());
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            result["error"].Str().ShouldBe("insufficient_scope");
            result["active"].ShouldBeNull();
            response.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer error=\"insufficient_scope\"");
        }
    }

    [Fact]
    public async Task An_invalid_or_revoked_bearer_token_is_refused_with_401()
    {
        var alice = await AliceGrantAsync();
        var bearer = await ResourceServerTokenAsync();
        (await SmartApp.PostFormAsync(_server, "/oauth/revoke", new() { ["token"] = bearer }, (ResourceServer, ResourceServerSecret)))["error"].ShouldBeNull();
        foreach (var caller in (string[])["garbage", bearer])
        {
            var (response, result) = await IntrospectAsync(caller, alice["access_token"].Str());
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            result["error"].Str().ShouldBe("invalid_token");
            response.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer error=\"invalid_token\"");
        }
    }

    [Fact]
    public async Task Without_client_credentials_or_a_bearer_token_introspection_is_refused()
    {
        var alice = await AliceGrantAsync();
        var (response, result) = await IntrospectAsync(null, alice["access_token"].Str());
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        result["error"].Str().ShouldBe("invalid_client");
    }

    [Fact]
    public async Task The_introspect_scope_is_granted_only_to_clients_an_admin_allowed()
    {
        // demo-backend has no scp:introspect permission.
        var denied = await SmartApp.PostFormAsync(_server, "/oauth/token", new() { ["grant_type"] = "client_credentials", ["scope"] = "introspect" },
            ("demo-backend", "demo-backend-secret"));
        denied["error"].Str().ShouldBe("invalid_scope");
        // Nor can a user grant it to demo-app: it is left out of the grant.
        using var browser = new SmartBrowser(_server);
        var app = new SmartApp(_server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient introspect");
        (await (await app.ExchangeAsync(code)).BodyAsync())["scope"].Str().Split(' ').ShouldNotContain("introspect");
    }

    private async Task<string> FirstEncounterOfAsync(string patient)
    {
        var token = (await SmartApp.PostFormAsync(_server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" }, ("demo-backend", "demo-backend-secret")))["access_token"].Str();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"Encounter?patient={patient}");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var bundle = await (await _server.Client.SendAsync(request)).BodyAsync();
        return bundle["entry"]![0]!["resource"]!["id"].Str();
    }
}
