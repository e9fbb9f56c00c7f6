using System.Net;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

/// <summary>Authorize requests that must not produce a code.</summary>
public sealed class AuthorizeRequestTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Theory]
    [InlineData("plain_pkce", "invalid_request")]
    [InlineData("missing_pkce", "invalid_request")]
    [InlineData("wrong_aud", "invalid_request")]
    [InlineData("missing_aud", "invalid_request")]
    public async Task A_bad_request_gets_an_error_page_and_no_code(string defect, string error)
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var extra = defect switch
        {
            "plain_pkce" => new Dictionary<string, string?> { ["code_challenge"] = app.Verifier, ["code_challenge_method"] = "plain" },
            "missing_pkce" => new Dictionary<string, string?> { ["code_challenge"] = null, ["code_challenge_method"] = null },
            "wrong_aud" => new Dictionary<string, string?> { ["aud"] = "https://evil.example/fhir" },
            _ => new Dictionary<string, string?> { ["aud"] = null },
        };
        // Signed in already, so nothing but the request itself can stop the code.
        await SignInAsync(browser, "alice", "alice-demo-pass");
        var page = await browser.GetAsync(app.AuthorizeUrl("openid launch/patient patient/*.rs", extra));
        // OpenIddict answers a request that fails validation itself, without redirecting to the app.
        page.ExternalRedirect.ShouldBeNull();
        page.Status.ShouldBe(HttpStatusCode.BadRequest);
        page.Html.ShouldContain("error:" + error);
    }

    [Fact]
    public async Task A_redirect_uri_that_is_not_registered_gets_an_error_page_and_no_redirect()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server, redirectUri: "https://evil.example/callback");
        var page = await browser.GetAsync(app.AuthorizeUrl("openid launch/patient"));
        page.ExternalRedirect.ShouldBeNull();
        page.Status.ShouldBe(HttpStatusCode.BadRequest);
        page.Html.ShouldContain("invalid_request");
    }

    [Fact]
    public async Task A_loopback_redirect_may_use_any_port()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server, redirectUri: "http://127.0.0.1:40999/callback");
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient");
        (await app.ExchangeAsync(code)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task A_replayed_code_fails_with_invalid_grant_and_revokes_the_tokens_it_gave()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient patient/*.rs offline_access");
        var first = await (await app.ExchangeAsync(code)).BodyAsync();
        (await SmartApp.IntrospectAsync(Server, first["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeTrue();

        var replay = await app.ExchangeAsync(code);
        replay.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await replay.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
        (await SmartApp.IntrospectAsync(Server, first["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeFalse();
        var refresh = await app.RefreshAsync(first["refresh_token"].Str());
        (await refresh.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task A_wrong_code_verifier_fails_with_invalid_grant()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient");
        var response = await app.ExchangeAsync(code, verifier: new SmartApp(Server).Verifier);
        (await response.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task System_scopes_and_unknown_scopes_are_left_out_of_a_user_grant()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient system/*.rs patient/Observation.xyz bogus patient/Observation.rs?category=laboratory");
        var body = await (await app.ExchangeAsync(code)).BodyAsync();
        body["scope"].Str().Split(' ').ShouldBe(["openid", "launch/patient", "patient/Observation.rs?category=laboratory"], ignoreOrder: true);
    }

    internal static async Task SignInAsync(SmartBrowser browser, string user, string password)
    {
        var page = await browser.GetAsync("/account/login");
        page = await browser.LoginAsync(page, user, password);
        page.Status.ShouldBe(HttpStatusCode.OK);
    }
}
