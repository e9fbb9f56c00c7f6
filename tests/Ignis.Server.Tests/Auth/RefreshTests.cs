using System.Net;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Auth;

public sealed class RefreshTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private async Task<(SmartApp App, System.Text.Json.Nodes.JsonNode Body)> GrantAsync(string scope = "openid fhirUser launch/patient patient/*.rs offline_access")
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", scope);
        var response = await app.ExchangeAsync(code);
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (app, await response.BodyAsync());
    }

    [Fact]
    public async Task A_refresh_rotates_the_refresh_token_and_returns_the_launch_context_again()
    {
        var (app, first) = await GrantAsync();
        var response = await app.RefreshAsync(first["refresh_token"].Str());
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var second = await response.BodyAsync();
        second["refresh_token"].Str().ShouldNotBe(first["refresh_token"].Str());
        second["patient"].Str().ShouldBe("alice");
        second["scope"].Str().ShouldBe(first["scope"].Str());
        second["need_patient_banner"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task A_refresh_invalidates_the_previous_access_token()
    {
        var (app, first) = await GrantAsync();
        (await app.RefreshAsync(first["refresh_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await SmartApp.IntrospectAsync(Server, first["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task A_used_refresh_token_is_rejected_and_presenting_it_revokes_the_whole_family()
    {
        var (app, first) = await GrantAsync();
        var second = await (await app.RefreshAsync(first["refresh_token"].Str())).BodyAsync();

        var reuse = await app.RefreshAsync(first["refresh_token"].Str());
        reuse.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await reuse.BodyAsync())["error"].Str().ShouldBe("invalid_grant");

        // The thief's reuse also kills the legitimate client's current tokens (RFC 9700 §4.14.2).
        (await (await app.RefreshAsync(second["refresh_token"].Str())).BodyAsync())["error"].Str().ShouldBe("invalid_grant");
        (await SmartApp.IntrospectAsync(Server, second["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeFalse();
    }

    [Fact]
    public async Task A_refresh_may_narrow_the_scopes()
    {
        var (app, first) = await GrantAsync();
        var body = await (await app.RefreshAsync(first["refresh_token"].Str(), "launch/patient patient/*.rs offline_access")).BodyAsync();
        body["scope"].Str().Split(' ').ShouldBe(["launch/patient", "patient/*.rs", "offline_access"], ignoreOrder: true);
    }

    [Fact]
    public async Task A_refresh_cannot_widen_the_scopes()
    {
        var (app, first) = await GrantAsync("openid launch/patient patient/Observation.rs offline_access");
        var response = await app.RefreshAsync(first["refresh_token"].Str(), "openid launch/patient patient/*.cruds offline_access");
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.BodyAsync())["error"].Str().ShouldBe("invalid_scope");
    }

    [Fact]
    public async Task A_refresh_token_works_only_for_the_client_it_was_issued_to()
    {
        var (_, first) = await GrantAsync();
        await using (var scope = Server.Services.CreateAsyncScope())
        {
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            if (await applications.FindByClientIdAsync("other-app") is null)
                await applications.CreateAsync(new OpenIddictApplicationDescriptor
                {
                    ClientId = "other-app",
                    ClientType = ClientTypes.Public,
                    ApplicationType = ApplicationTypes.Native,
                    RedirectUris = { new Uri("http://127.0.0.1/callback") },
                    Permissions = { Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code },
                    Requirements = { Requirements.Features.ProofKeyForCodeExchange },
                });
        }
        var thief = new SmartApp(Server, clientId: "other-app");
        var response = await thief.RefreshAsync(first["refresh_token"].Str());
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await response.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Without_offline_or_online_access_there_is_no_refresh_token()
    {
        var (_, body) = await GrantAsync("openid launch/patient patient/*.rs");
        body["refresh_token"].ShouldBeNull();
    }
}
