using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Auth;

/// <summary>Revocation (RFC 7009), introspection (RFC 7662), client credentials and the revocation services.</summary>
public sealed class TokenLifecycleTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private async Task<JsonNode> GrantAsync(string user = "alice", string password = "alice-demo-pass")
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, user, password, "openid fhirUser launch/patient patient/*.rs offline_access");
        return await (await app.ExchangeAsync(code)).BodyAsync();
    }

    [Fact]
    public async Task Introspection_by_a_confidential_client_describes_an_active_access_token()
    {
        var tokens = await GrantAsync();
        var result = await SmartApp.IntrospectAsync(Server, tokens["access_token"].Str());
        result["active"]!.GetValue<bool>().ShouldBeTrue();
        result["scope"].Str().Split(' ').ShouldContain("patient/*.rs");
        result["client_id"].Str().ShouldBe("demo-app");
        result["sub"].Str().ShouldNotBeNullOrEmpty();
        result["exp"]!.GetValue<long>().ShouldBeGreaterThan(DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        result["iat"]!.GetValue<long>().ShouldBeLessThanOrEqualTo(DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5);
        result["fhirUser"].Str().ShouldBe(Server.FhirBase + "/Patient/alice");
        result["patient"].Str().ShouldBe("alice");
    }

    [Fact]
    public async Task Introspecting_an_unknown_token_says_only_that_it_is_inactive()
    {
        var result = await SmartApp.IntrospectAsync(Server, "not-a-token");
        result.ToJsonString().ShouldBe("{\"active\":false}");
    }

    [Fact]
    public async Task A_public_client_cannot_introspect()
    {
        var tokens = await GrantAsync();
        var result = await SmartApp.PostFormAsync(Server, "/oauth/introspect", new() { ["token"] = tokens["access_token"].Str(), ["client_id"] = "demo-app" });
        result["active"].ShouldBeNull();
        result["error"].ShouldNotBeNull();
    }

    [Fact]
    public async Task A_revoked_refresh_token_no_longer_refreshes()
    {
        var tokens = await GrantAsync();
        var revoke = await SmartApp.PostFormAsync(Server, "/oauth/revoke",
            new() { ["token"] = tokens["refresh_token"].Str(), ["token_type_hint"] = "refresh_token", ["client_id"] = "demo-app" });
        revoke["error"].ShouldBeNull();
        var refresh = await new SmartApp(Server).RefreshAsync(tokens["refresh_token"].Str());
        (await refresh.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_revoked_access_token_is_inactive()
    {
        var tokens = await GrantAsync();
        await SmartApp.PostFormAsync(Server, "/oauth/revoke", new() { ["token"] = tokens["access_token"].Str(), ["client_id"] = "demo-app" });
        (await SmartApp.IntrospectAsync(Server, tokens["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task The_backend_client_gets_system_scopes_with_client_credentials()
    {
        var body = await SmartApp.PostFormAsync(Server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds scim" }, ("demo-backend", "demo-backend-secret"));
        body["access_token"].Str().ShouldNotBeNullOrEmpty();
        body["scope"].Str().Split(' ').ShouldBe(["system/*.cruds", "scim"], ignoreOrder: true);
        body["refresh_token"].ShouldBeNull();
        SmartApp.JwtPart(body["access_token"].Str(), 1)["aud"]!.ToJsonString().ShouldContain(Server.FhirBase);

        var denied = await SmartApp.PostFormAsync(Server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "user/*.cruds" }, ("demo-backend", "demo-backend-secret"));
        denied["error"].Str().ShouldBe("invalid_scope");
        var wrongSecret = await SmartApp.PostFormAsync(Server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials" }, ("demo-backend", "nope"));
        wrongSecret["error"].Str().ShouldBe("invalid_client");
    }

    [Fact]
    public async Task Revoking_what_a_user_granted_an_app_ends_those_tokens()
    {
        var tokens = await GrantAsync("dave", "dave-demo-pass");
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var dave = await scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>().FindByNameAsync("dave");
            (await scope.ServiceProvider.GetRequiredService<GrantRevocation>().RevokeAppAsync(dave!.Id, "demo-app")).ShouldBeGreaterThan(0);
        }
        (await SmartApp.IntrospectAsync(Server, tokens["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeFalse();
        (await (await new SmartApp(Server).RefreshAsync(tokens["refresh_token"].Str())).BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Signing_out_everywhere_ends_tokens_and_browser_sessions()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "carol", "carol-demo-pass", "openid fhirUser user/*.rs offline_access");
        var tokens = await (await app.ExchangeAsync(code)).BodyAsync();
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var carol = await scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>().FindByNameAsync("carol");
            await scope.ServiceProvider.GetRequiredService<GrantRevocation>().SignOutEverywhereAsync(carol!.Id);
        }
        (await SmartApp.IntrospectAsync(Server, tokens["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeFalse();
        // The browser's session cookie no longer signs carol in.
        var page = await browser.GetAsync(new SmartApp(Server).AuthorizeUrl("openid"));
        page.Url.AbsolutePath.ShouldBe("/account/login");
    }
}
