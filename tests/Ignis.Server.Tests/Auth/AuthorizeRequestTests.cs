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
    [InlineData("unknown_scopes", "invalid_scope")]
    [InlineData("missing_scope", "invalid_scope")]
    [InlineData("bad_response_type", "unsupported_response_type")]
    public async Task A_bad_request_from_a_genuine_client_goes_back_to_it_with_the_error_and_state_and_no_code(string defect, string error)
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var scope = defect switch { "unknown_scopes" => "bogus patient/Observation.xyz", "missing_scope" => null, _ => "openid launch/patient patient/*.rs" };
        var extra = defect switch
        {
            "plain_pkce" => new Dictionary<string, string?> { ["code_challenge"] = app.Verifier, ["code_challenge_method"] = "plain" },
            "missing_pkce" => new Dictionary<string, string?> { ["code_challenge"] = null, ["code_challenge_method"] = null },
            "wrong_aud" => new Dictionary<string, string?> { ["aud"] = "https://evil.example/fhir" },
            "missing_aud" => new Dictionary<string, string?> { ["aud"] = null },
            "bad_response_type" => new Dictionary<string, string?> { ["response_type"] = "token" },
            _ => new Dictionary<string, string?>(),
        };
        // Signed in already, so nothing but the request itself can stop the code.
        await SignInAsync(browser, "alice", "alice-demo-pass");
        var page = await browser.GetAsync(app.AuthorizeUrl(scope!, extra));
        // RFC 6749 §4.1.2.1: the redirect_uri is the registered one, so the app hears about the error.
        page.ExternalRedirect.ShouldNotBeNull();
        page.ExternalRedirect!.GetLeftPart(UriPartial.Path).ShouldBe(app.RedirectUri);
        var query = page.RedirectQuery;
        query["error"].ShouldBe(error);
        query["state"].ShouldBe(app.State);
        query.ShouldNotContainKey("code");
    }

    [Theory]
    [InlineData("unregistered_redirect_uri")]
    [InlineData("missing_redirect_uri")]
    [InlineData("unknown_client")]
    [InlineData("missing_client")]
    public async Task A_request_whose_client_or_redirect_uri_is_not_genuine_gets_an_error_page_and_no_redirect(string defect)
    {
        using var browser = new SmartBrowser(Server);
        await SignInAsync(browser, "alice", "alice-demo-pass");
        var app = defect switch
        {
            "unregistered_redirect_uri" => new SmartApp(Server, redirectUri: "https://evil.example/callback"),
            "unknown_client" => new SmartApp(Server, clientId: "no-such-app"),
            _ => new SmartApp(Server),
        };
        var extra = defect switch
        {
            "missing_redirect_uri" => new Dictionary<string, string?> { ["redirect_uri"] = null },
            "missing_client" => new Dictionary<string, string?> { ["client_id"] = null },
            _ => null,
        };
        foreach (var post in (bool[])[false, true])
        {
            var url = app.AuthorizeUrl("openid launch/patient", extra);
            var page = post
                ? await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/authorize")
                {
                    Content = new FormUrlEncodedContent(Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(new Uri(Server.Origin, url).Query)
                        .Select(kv => KeyValuePair.Create(kv.Key, kv.Value.ToString()))),
                })
                : await browser.GetAsync(url);
            page.ExternalRedirect.ShouldBeNull();
            page.Status.ShouldBe(HttpStatusCode.BadRequest);
            page.Response.Content.Headers.ContentType!.MediaType.ShouldBe("text/html");
            page.Html.ShouldContain("This sign-in request cannot continue");
            page.Html.ShouldContain("error: invalid_");
            page.Html.ShouldContain("/assets/ignis.css");
            page.Response.Headers.GetValues("Content-Security-Policy").Single().ShouldContain("frame-ancestors 'none'");
            page.Response.Headers.GetValues("X-Frame-Options").Single().ShouldBe("DENY");
        }
    }

    [Fact]
    public async Task The_error_page_has_nothing_to_show_without_a_failed_request()
    {
        using var browser = new SmartBrowser(Server);
        var page = await browser.GetAsync("/authorize/error");
        page.Status.ShouldBe(HttpStatusCode.NotFound);
        page.Html.ShouldContain("Nothing to show");
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
    public async Task A_code_exchanged_with_another_redirect_uri_fails_with_invalid_grant()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient");
        var response = await app.TokenAsync(new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = "http://127.0.0.1:51234/elsewhere",
            ["client_id"] = app.ClientId,
            ["code_verifier"] = app.Verifier,
        });
        response.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
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
