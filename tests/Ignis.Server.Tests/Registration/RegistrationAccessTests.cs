using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Registration;

/// <summary>Registration closed (as outside demo mode): initial access tokens, developers, and approval.</summary>
public sealed class RegistrationAccessTests(RegistrationAccessTests.Fixture fixture) : IClassFixture<RegistrationAccessTests.Fixture>
{
    public const string InitialAccessToken = "iat-0123456789-abcdefghij-klmnop";

    public sealed class Fixture() : ConfiguredServerFixture(
        "--Ignis:Auth:Registration:Open=false",
        $"--Ignis:Auth:Registration:InitialAccessTokens:0={InitialAccessToken}",
        "--Ignis:Auth:Registration:RequireApproval=true",
        "--Ignis:Auth:Registration:ClientSecretLifetime=00:00:04");

    private IgnisServer Server => fixture.Server;

    private const string App = """{"client_name":"Closed test","redirect_uris":["https://closed.example/cb"]}""";

    [Fact]
    public async Task Without_credentials_registration_is_401_with_a_bearer_challenge()
    {
        var response = await Registrations.PostAsync(Server, App);
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        challenge.ShouldStartWith("Bearer");
        challenge.ShouldNotContain("error=");
        (await response.BodyAsync())["error_description"].Str().ShouldContain("initial access token");
    }

    [Theory]
    [InlineData("not-the-initial-access-token-at-all")]
    [InlineData("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJib2IifQ.c2ln")]
    public async Task A_wrong_bearer_token_is_401_invalid_token(string token)
    {
        var response = await Registrations.PostAsync(Server, App, token);
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task The_initial_access_token_registers_a_client_held_for_approval()
    {
        var body = await Registrations.RegisterAsync(Server, App, InitialAccessToken);
        body["ignis_status"].Str().ShouldBe("pending_approval");
        var client = await Registrations.WithRegistryAsync(Server, r => r.FindAsync(body["client_id"].Str()));
        client!.Status.ShouldBe(ClientStatus.PendingApproval);
        client.OwnerId.ShouldBeNull();
    }

    [Fact]
    public async Task A_developer_signed_in_with_the_session_cookie_registers_and_owns_the_client()
    {
        using var browser = new SmartBrowser(Server);
        await browser.LoginAsync(await browser.GetAsync("/account/login"), "bob", "bob-demo-pass");
        var page = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, Registrations.Path)
        {
            Content = new StringContent(App, Encoding.UTF8, "application/json"),
        });
        page.Status.ShouldBe(HttpStatusCode.Created, page.Html);
        var clientId = JsonNode.Parse(page.Html)!["client_id"].Str();
        var client = await Registrations.WithRegistryAsync(Server, r => r.FindAsync(clientId));
        client!.OwnerId.ShouldBe(await UserIdAsync("bob"));
        client.Status.ShouldBe(ClientStatus.PendingApproval);
    }

    [Fact]
    public async Task A_developer_s_access_token_held_by_an_app_cannot_register_clients()
    {
        var response = await Registrations.PostAsync(Server, App, await AccessTokenAsync("bob"));
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await response.ErrorAsync()).ShouldBe("invalid_token");
    }

    [Fact]
    public async Task A_signed_in_user_who_is_not_a_developer_is_refused()
    {
        using var browser = new SmartBrowser(Server);
        await browser.LoginAsync(await browser.GetAsync("/account/login"), "alice", "alice-demo-pass");
        var page = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, Registrations.Path)
        {
            Content = new StringContent(App, Encoding.UTF8, "application/json"),
        });
        page.Status.ShouldBe(HttpStatusCode.Forbidden);
        JsonNode.Parse(page.Html)!["error"].Str().ShouldBe("access_denied");

    }

    [Fact]
    public async Task An_administrator_s_registration_needs_no_approval()
    {
        using var browser = new SmartBrowser(Server);
        await browser.LoginAsync(await browser.GetAsync("/account/login"), "admin", "admin-demo-pass");
        var page = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, Registrations.Path)
        {
            Content = new StringContent("""{"client_name":"Admin's backend","grant_types":["client_credentials"],"scope":"system/*.rs"}""", Encoding.UTF8, "application/json"),
        });
        page.Status.ShouldBe(HttpStatusCode.Created, page.Html);
        var body = JsonNode.Parse(page.Html)!;
        body["ignis_status"].ShouldBeNull();
        (await Registrations.ClientCredentialsAsync(Server, body["client_id"].Str(), body["client_secret"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_client_held_for_approval_cannot_start_an_authorization_until_approved()
    {
        var body = await Registrations.RegisterAsync(Server, """
            {"client_name":"Waiting app","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none"}
            """, InitialAccessToken);
        var clientId = body["client_id"].Str();
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server, clientId, "http://127.0.0.1:40222/cb");
        var page = await browser.GetAsync(app.AuthorizeUrl("launch/patient patient/*.rs"));
        page.ExternalRedirect.ShouldBeNull();
        page.Status.ShouldBe(HttpStatusCode.BadRequest);
        page.Html.ShouldContain("unauthorized_client");

        await Registrations.WithRegistryAsync(Server, r => r.ApproveAsync(clientId));
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "launch/patient patient/*.rs");
        (await app.ExchangeAsync(code)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_secret_stops_working_when_client_secret_expires_at_has_passed()
    {
        var body = await Registrations.RegisterAsync(Server, """{"grant_types":["client_credentials"],"scope":"system/Patient.rs"}""", InitialAccessToken);
        var expires = body["client_secret_expires_at"]!.GetValue<long>();
        expires.ShouldBeInRange(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 2, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        var clientId = body["client_id"].Str();
        await Registrations.WithRegistryAsync(Server, r => r.ApproveAsync(clientId));
        (await Registrations.ClientCredentialsAsync(Server, clientId, body["client_secret"].Str(), "system/Patient.rs")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var wait = DateTimeOffset.FromUnixTimeSeconds(expires) - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(300);
        if (wait > TimeSpan.Zero) await Task.Delay(wait);
        var expired = await Registrations.ClientCredentialsAsync(Server, clientId, body["client_secret"].Str(), "system/Patient.rs");
        (await expired.ErrorAsync()).ShouldBe("invalid_client");

        // A rotation issues a secret with a new expiry.
        var rotated = await Registrations.WithRegistryAsync(Server, r => r.RotateSecretAsync(clientId, TimeSpan.Zero));
        rotated.Client!.ClientSecretExpiresAt.ShouldNotBeNull();
        (await Registrations.ClientCredentialsAsync(Server, clientId, rotated.ClientSecret!, "system/Patient.rs")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    private async Task<string> AccessTokenAsync(string user)
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, user, user + "-demo-pass", "openid fhirUser");
        return (await (await app.ExchangeAsync(code)).BodyAsync())["access_token"].Str();
    }

    private async Task<string> UserIdAsync(string name)
    {
        await using var scope = Server.Services.CreateAsyncScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>().FindByNameAsync(name))!.Id;
    }
}
