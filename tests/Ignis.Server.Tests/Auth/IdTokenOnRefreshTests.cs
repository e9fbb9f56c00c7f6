using System.Net;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

/// <summary>Ignis:Auth:IdTokenOnRefresh: whether a refresh of an openid grant returns a new id token (default yes).</summary>
public sealed class IdTokenOnRefreshTests
{
    private const string Scope = "openid fhirUser launch/patient patient/*.rs offline_access";

    [Fact]
    public async Task By_default_a_refresh_returns_a_new_rs256_id_token_for_the_same_user()
    {
        await using var server = await IgnisServer.StartAsync("--demo");
        var (first, refreshed) = await ExchangeAndRefreshAsync(server);

        first["id_token"].Str().ShouldNotBeNullOrEmpty();
        var idToken = refreshed["id_token"].Str();
        idToken.ShouldNotBe(first["id_token"].Str());
        SmartApp.JwtPart(idToken, 0)["alg"].Str().ShouldBe("RS256");
        SmartApp.JwtPart(idToken, 1)["sub"].Str().ShouldBe(SmartApp.JwtPart(first["id_token"].Str(), 1)["sub"].Str());
    }

    [Fact]
    public async Task Switched_off_a_refresh_returns_no_id_token_but_the_code_exchange_still_does()
    {
        await using var server = await IgnisServer.StartAsync("--demo", "--Ignis:Auth:IdTokenOnRefresh=false");
        var (first, refreshed) = await ExchangeAndRefreshAsync(server);

        first["id_token"].Str().ShouldNotBeNullOrEmpty();
        refreshed.AsObject().ContainsKey("id_token").ShouldBeFalse();
        refreshed["access_token"].Str().ShouldNotBeNullOrEmpty();
        refreshed["refresh_token"].Str().ShouldNotBe(first["refresh_token"].Str());
        refreshed["patient"].Str().ShouldBe("alice");
    }

    private static async Task<(System.Text.Json.Nodes.JsonNode First, System.Text.Json.Nodes.JsonNode Refreshed)> ExchangeAndRefreshAsync(IgnisServer server)
    {
        using var browser = new SmartBrowser(server);
        var app = new SmartApp(server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", Scope);
        var exchange = await app.ExchangeAsync(code);
        exchange.StatusCode.ShouldBe(HttpStatusCode.OK);
        var first = await exchange.BodyAsync();
        var refresh = await app.RefreshAsync(first["refresh_token"].Str());
        refresh.StatusCode.ShouldBe(HttpStatusCode.OK);
        return (first, await refresh.BodyAsync());
    }
}
