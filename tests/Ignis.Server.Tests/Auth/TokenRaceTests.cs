using System.Net;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

/// <summary>
/// The token rows of a sign-in are committed together at its end (TokenWriteBatch): the redemption of a code or
/// refresh token still lets exactly one of several simultaneous requests through, and every token handed out is
/// one the database holds.
/// </summary>
public sealed class TokenRaceTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;
    private const string Scope = "openid fhirUser launch/patient patient/*.rs offline_access";

    [Fact]
    public async Task Of_simultaneous_exchanges_of_one_code_exactly_one_gets_tokens_and_they_work()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", Scope);

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => app.ExchangeAsync(code)));

        var granted = responses.Where(r => r.StatusCode == HttpStatusCode.OK).ToList();
        granted.Count.ShouldBe(1);
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
        {
            refused.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
            (await refused.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
        }
        var body = await granted[0].BodyAsync();
        // Whatever the losers did (a replay revokes the grant), the winner's tokens exist in the token table.
        var refresh = await app.RefreshAsync(body["refresh_token"].Str());
        refresh.StatusCode.ShouldBeOneOf(HttpStatusCode.OK, HttpStatusCode.BadRequest);
        if (refresh.StatusCode == HttpStatusCode.BadRequest) (await refresh.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Of_simultaneous_refreshes_with_one_refresh_token_exactly_one_gets_new_tokens()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", Scope);
        var first = await (await app.ExchangeAsync(code)).BodyAsync();

        var responses = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => app.RefreshAsync(first["refresh_token"].Str())));

        responses.Count(r => r.StatusCode == HttpStatusCode.OK).ShouldBe(1);
        foreach (var refused in responses.Where(r => r.StatusCode != HttpStatusCode.OK))
            (await refused.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_refreshed_token_set_is_stored_whole_the_new_refresh_token_refreshes_and_the_new_access_token_is_active()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", Scope);
        var tokens = await (await app.ExchangeAsync(code)).BodyAsync();
        for (var i = 0; i < 3; i++)
        {
            var previousAccess = tokens["access_token"].Str();
            var response = await app.RefreshAsync(tokens["refresh_token"].Str());
            response.StatusCode.ShouldBe(HttpStatusCode.OK);
            tokens = await response.BodyAsync();
            (await SmartApp.IntrospectAsync(Server, tokens["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeTrue();
            (await SmartApp.IntrospectAsync(Server, previousAccess))["active"]!.GetValue<bool>().ShouldBeFalse();
        }
    }
}
