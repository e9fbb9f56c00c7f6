using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;

namespace Ignis.Server.Tests.Registration;

/// <summary>
/// The legacy grants switched on server-wide, and enabled per client: the password grant with lockout and rate
/// limit, and the implicit grant.
/// </summary>
public sealed class LegacyGrantTests(LegacyGrantTests.Fixture fixture) : IClassFixture<LegacyGrantTests.Fixture>
{
    public sealed class Fixture() : ConfiguredServerFixture(
        "--Ignis:Auth:LegacyGrants:Password=true",
        "--Ignis:Auth:LegacyGrants:Implicit=true",
        "--Ignis:Auth:Lockout:Duration=00:00:03",
        "--Ignis:Auth:Lockout:Window=00:00:05",
        "--Ignis:Auth:LegacyGrants:PasswordRateLimit=8",
        "--Ignis:Auth:LegacyGrants:PasswordRateWindow=00:01:00");

    private IgnisServer Server => fixture.Server;

    /// <summary>A new client with the password grant enabled by an administrator (each test its own rate-limit partition).</summary>
    private async Task<string> PasswordClientAsync()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata
        {
            ClientName = "Legacy desktop app", RedirectUris = ["http://127.0.0.1/cb"], TokenEndpointAuthMethod = "none",
            GrantTypes = ["authorization_code", "refresh_token"],
        });
        var enabled = await Registrations.WithRegistryAsync(Server, r => r.SetLegacyGrantAsync(result.Client!.ClientId, LegacyGrant.Password, enabled: true));
        enabled.Error.ShouldBeNull();
        enabled.Client!.LegacyGrants.ShouldContain(LegacyGrant.Password);
        return result.Client!.ClientId;
    }

    private Task<HttpResponseMessage> PasswordAsync(string clientId, string user, string password, string scope = "patient/*.rs") =>
        Registrations.TokenAsync(Server, new()
        {
            ["grant_type"] = "password", ["client_id"] = clientId, ["username"] = user, ["password"] = password, ["scope"] = scope,
        });

    [Fact]
    public async Task The_password_grant_issues_tokens_with_the_scopes_the_code_flow_would_grant()
    {
        var clientId = await PasswordClientAsync();
        var response = await PasswordAsync(clientId, "alice", "alice-demo-pass",
            "launch/patient patient/*.rs openid fhirUser offline_access online_access system/*.rs launch launch/encounter");
        var body = await response.BodyAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        body["token_type"].Str().ShouldBe("Bearer");
        body["expires_in"]!.GetValue<long>().ShouldBeInRange(3500, 3600);
        body["refresh_token"].Str().ShouldNotBeNullOrEmpty();
        body["patient"].Str().ShouldBe("alice");
        body["scope"].Str().Split(' ').ShouldBe(["launch/patient", "patient/*.rs", "openid", "fhirUser", "offline_access"], ignoreOrder: true);

        var access = body["access_token"].Str();
        (await Registrations.FhirReadAsync(Server, access, "Patient/alice")).ShouldBe(HttpStatusCode.OK);
        (await Registrations.FhirReadAsync(Server, access, "Patient/dave")).ShouldBe(HttpStatusCode.NotFound);
        var refreshed = await new SmartApp(Server, clientId).RefreshAsync(body["refresh_token"].Str());
        refreshed.StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_clinician_gets_no_patient_scopes_from_the_password_grant_as_there_is_no_patient_to_pick()
    {
        var clientId = await PasswordClientAsync();
        var body = await (await PasswordAsync(clientId, "carol", "carol-demo-pass", "launch/patient patient/*.rs user/*.rs")).BodyAsync();
        body["scope"].Str().Split(' ').ShouldBe(["user/*.rs"]);
        body["patient"].ShouldBeNull();
        body["refresh_token"].ShouldBeNull(); // no offline_access asked
    }

    [Fact]
    public async Task A_client_not_enabled_for_the_password_grant_gets_unauthorized_client()
    {
        var response = await PasswordAsync("demo-app", "alice", "alice-demo-pass");
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.ErrorAsync()).ShouldBe("unauthorized_client");
    }

    [Fact]
    public async Task A_wrong_password_and_an_unknown_user_get_the_same_invalid_grant()
    {
        var clientId = await PasswordClientAsync();
        var user = await Registrations.CreateUserAsync(Server, "right-password-1");
        var wrong = await PasswordAsync(clientId, user, "wrong-password");
        var unknown = await PasswordAsync(clientId, "no-such-user-" + Guid.NewGuid().ToString("N"), "wrong-password");
        wrong.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        unknown.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var a = await wrong.BodyAsync();
        var b = await unknown.BodyAsync();
        a["error"].Str().ShouldBe("invalid_grant");
        a.ToJsonString().ShouldBe(b.ToJsonString());
    }

    [Fact]
    public async Task Five_wrong_passwords_lock_the_account_until_the_lockout_ends()
    {
        var clientId = await PasswordClientAsync();
        const string password = "right-password-2";
        var user = await Registrations.CreateUserAsync(Server, password);
        for (var i = 0; i < 5; i++) (await (await PasswordAsync(clientId, user, "wrong-" + i)).ErrorAsync()).ShouldBe("invalid_grant");

        // Locked: the right password fails the same way, without saying the account exists or is locked.
        var locked = await PasswordAsync(clientId, user, password);
        (await locked.ErrorAsync()).ShouldBe("invalid_grant");
        var unknown = await PasswordAsync(clientId, "no-such-user-" + Guid.NewGuid().ToString("N"), password);
        (await locked.Content.ReadAsStringAsync()).ShouldBe(await unknown.Content.ReadAsStringAsync());

        await Task.Delay(TimeSpan.FromSeconds(3.2)); // Ignis:Auth:Lockout:Duration=00:00:03
        var released = await PasswordAsync(clientId, user, password);
        released.StatusCode.ShouldBe(HttpStatusCode.OK, await released.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Failures_older_than_the_window_no_longer_count_towards_a_lockout()
    {
        var clientId = await PasswordClientAsync();
        const string password = "right-password-3";
        var user = await Registrations.CreateUserAsync(Server, password);
        for (var i = 0; i < 4; i++) await PasswordAsync(clientId, user, "wrong-" + i);
        await Task.Delay(TimeSpan.FromSeconds(5.5)); // Ignis:Auth:Lockout:Window=00:00:05
        await PasswordAsync(clientId, user, "wrong-again");
        // Five failures in all, but only one in the window: not locked.
        (await PasswordAsync(clientId, user, password)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Too_many_attempts_from_one_client_and_address_get_429_with_retry_after()
    {
        var clientId = await PasswordClientAsync();
        for (var i = 0; i < 8; i++) (await PasswordAsync(clientId, "nobody-" + i, "x")).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        var limited = await PasswordAsync(clientId, "alice", "alice-demo-pass");
        limited.StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        var retryAfter = int.Parse(limited.Headers.GetValues("Retry-After").Single());
        retryAfter.ShouldBeInRange(1, 60);
        (await limited.ErrorAsync()).ShouldNotBeNullOrEmpty();

        // The limit is per client and address: another client from the same address still gets through.
        (await PasswordAsync(await PasswordClientAsync(), "alice", "alice-demo-pass")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    /// <summary>A browser authorize request with response_type=token.</summary>
    private async Task<BrowserPage> ImplicitAsync(string clientId, string redirectUri, string state)
    {
        using var browser = new SmartBrowser(Server);
        var url = QueryHelpers.AddQueryString("/oauth/authorize", new Dictionary<string, string?>
        {
            ["response_type"] = "token", ["client_id"] = clientId, ["redirect_uri"] = redirectUri,
            ["scope"] = "launch/patient patient/*.rs", ["state"] = state, ["aud"] = Server.FhirBase,
        });
        var page = await browser.GetAsync(url);
        if (page.Html.Contains("name=\"username\"")) page = await browser.LoginAsync(page, "alice", "alice-demo-pass");
        if (page.Html.Contains("name=\"decision\"")) page = await browser.SubmitAsync(page, "decision", button: ("decision", "allow"));
        return page;
    }

    [Fact]
    public async Task The_implicit_grant_puts_the_token_in_the_fragment_echoes_state_and_gives_no_refresh_token()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata
        {
            ClientName = "Legacy browser app", RedirectUris = ["https://legacy.example/callback"], TokenEndpointAuthMethod = "none",
        });
        var clientId = result.Client!.ClientId;
        (await Registrations.WithRegistryAsync(Server, r => r.SetLegacyGrantAsync(clientId, LegacyGrant.Implicit, enabled: true))).Error.ShouldBeNull();

        var page = await ImplicitAsync(clientId, "https://legacy.example/callback", "xyz-123");
        var redirect = page.ExternalRedirect.ShouldNotBeNull(page.Html);
        redirect.GetLeftPart(UriPartial.Path).ShouldBe("https://legacy.example/callback");
        redirect.Query.ShouldBeEmpty();
        var fragment = QueryHelpers.ParseQuery(redirect.Fragment.TrimStart('#'));
        fragment["state"].ToString().ShouldBe("xyz-123");
        fragment["token_type"].ToString().ShouldBe("Bearer");
        int.Parse(fragment["expires_in"].ToString()).ShouldBeGreaterThan(0);
        fragment.ContainsKey("refresh_token").ShouldBeFalse();
        fragment.ContainsKey("code").ShouldBeFalse();
        (await Registrations.FhirReadAsync(Server, fragment["access_token"].ToString(), "Patient/alice")).ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_client_not_enabled_for_the_implicit_grant_gets_unauthorized_client_and_no_token()
    {
        var page = await ImplicitAsync("demo-app", "http://127.0.0.1:40333/callback", "abc");
        (page.ExternalRedirect?.ToString() ?? "").ShouldNotContain("access_token");
        var error = page.ExternalRedirect is { } r
            ? QueryHelpers.ParseQuery(r.Query.Length > 0 ? r.Query : r.Fragment.TrimStart('#'))["error"].ToString()
            : page.Html;
        error.ShouldContain("unauthorized_client");
    }

    [Fact]
    public async Task The_implicit_grant_is_for_public_clients_only()
    {
        var result = await Registrations.RegisterAsAdminAsync(Server, new ClientMetadata { RedirectUris = ["https://conf.example/cb"] });
        var refused = await Registrations.WithRegistryAsync(Server, r => r.SetLegacyGrantAsync(result.Client!.ClientId, LegacyGrant.Implicit, enabled: true));
        refused.Error!.Code.ShouldBe("invalid_client_metadata");
    }

    [Fact]
    public async Task Discovery_lists_the_legacy_grants_switched_on_server_wide()
    {
        using var http = new HttpClient { BaseAddress = Server.Origin };
        foreach (var path in new[] { "/.well-known/openid-configuration", "/fhir/.well-known/smart-configuration" })
        {
            var doc = JsonNode.Parse(await http.GetStringAsync(path))!;
            doc["grant_types_supported"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldContain("password");
            doc["grant_types_supported"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldContain("implicit");
            doc["response_types_supported"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldContain("token");
        }
    }

    [Fact]
    public async Task A_client_update_cannot_add_or_remove_a_legacy_grant_an_administrator_set()
    {
        var clientId = await PasswordClientAsync();
        var rotated = await Registrations.WithRegistryAsync(Server, r => r.RotateRegistrationAccessTokenAsync(clientId));
        var uri = $"{Server.Origin.GetLeftPart(UriPartial.Authority)}/oauth/register/{clientId}";
        var update = await Registrations.ManageAsync(HttpMethod.Put, uri, rotated.RegistrationAccessToken,
            $$"""{"client_id":"{{clientId}}","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code"]}""");
        var body = await update.BodyAsync();
        update.StatusCode.ShouldBe(HttpStatusCode.OK, body.ToJsonString());
        body["grant_types"]!.AsArray().Select(v => v!.GetValue<string>()).ShouldContain("password");

        var add = await Registrations.ManageAsync(HttpMethod.Put, uri, rotated.RegistrationAccessToken,
            $$"""{"client_id":"{{clientId}}","redirect_uris":["http://127.0.0.1/cb"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","implicit"],"response_types":["code","token"]}""");
        (await add.ErrorAsync()).ShouldBe("invalid_client_metadata");
    }
}
