using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

public sealed class StandaloneLaunchTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private const string AliceScopes = "openid fhirUser profile launch/patient patient/*.rs offline_access";

    [Fact]
    public async Task Alice_completes_a_standalone_launch_with_pkce_and_gets_her_own_patient_context()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", AliceScopes);

        var response = await app.ExchangeAsync(code);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        response.Headers.CacheControl!.NoStore.ShouldBeTrue();
        response.Headers.Pragma.ToString().ShouldContain("no-cache");
        var body = JsonNode.Parse(text)!;

        body["token_type"].Str().ShouldBe("Bearer");
        body["expires_in"]!.GetValue<int>().ShouldBeInRange(3500, 3600);
        body["scope"].Str().Split(' ').ShouldBe(AliceScopes.Split(' '), ignoreOrder: true);
        body["refresh_token"].Str().ShouldNotBeNullOrEmpty();
        body["patient"].Str().ShouldBe("alice");
        body["need_patient_banner"]!.GetValue<bool>().ShouldBeTrue();
        body["smart_style_url"].Str().ShouldStartWith("http");

        var origin = Server.Origin.GetLeftPart(UriPartial.Authority);
        var header = SmartApp.JwtPart(body["access_token"].Str(), 0);
        header["alg"].Str().ShouldBe("RS256");
        header["typ"].Str().ShouldBe("at+jwt");
        var access = SmartApp.JwtPart(body["access_token"].Str(), 1);
        access["aud"]!.ToJsonString().ShouldContain(Server.FhirBase);
        access["iss"].Str().TrimEnd('/').ShouldBe(origin);
        access["patient"].Str().ShouldBe("alice");
        access["client_id"].Str().ShouldBe("demo-app");

        var id = SmartApp.JwtPart(body["id_token"].Str(), 1);
        SmartApp.JwtPart(body["id_token"].Str(), 0)["alg"].Str().ShouldBe("RS256");
        id["fhirUser"].Str().ShouldBe(Server.FhirBase + "/Patient/alice");
        id["aud"]!.ToJsonString().ShouldContain("demo-app");
    }

    [Fact]
    public async Task A_scope_the_user_unticks_is_not_granted()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var page = await browser.GetAsync(app.AuthorizeUrl("openid fhirUser launch/patient patient/Observation.rs patient/Condition.rs"));
        page = await browser.LoginAsync(page, "alice", "alice-demo-pass");
        page.Html.ShouldContain("value=\"patient/Condition.rs\"");
        page = await browser.SubmitAsync(page, "decision", button: ("decision", "allow"), uncheck: ["patient/Condition.rs"]);
        var body = await (await app.ExchangeAsync(page.RedirectQuery["code"])).BodyAsync();
        body["scope"].Str().Split(' ').ShouldBe(["openid", "fhirUser", "launch/patient", "patient/Observation.rs"], ignoreOrder: true);
        SmartApp.JwtPart(body["access_token"].Str(), 1)["scope"].Str().ShouldNotContain("Condition");
    }

    [Fact]
    public async Task Deny_sends_access_denied_and_the_state_back_to_the_app()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var page = await browser.GetAsync(app.AuthorizeUrl("openid launch/patient patient/*.rs"));
        page = await browser.LoginAsync(page, "alice", "alice-demo-pass");
        page = await browser.SubmitAsync(page, "decision", button: ("decision", "deny"));
        page.RedirectQuery["error"].ShouldBe("access_denied");
        page.RedirectQuery["state"].ShouldBe(app.State);
        page.RedirectQuery.ShouldNotContainKey("code");
    }

    [Fact]
    public async Task A_clinician_picks_the_patient_in_a_standalone_launch()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var page = await browser.GetAsync(app.AuthorizeUrl("openid fhirUser launch/patient patient/*.rs"));
        page = await browser.LoginAsync(page, "carol", "carol-demo-pass");
        page.Url.AbsolutePath.ShouldBe("/authorize/patient");
        page.Html.ShouldContain("value=\"dave\"");
        page = await browser.SubmitAsync(page, "patient", new Dictionary<string, string?> { ["patient"] = "dave" });
        page.Url.AbsolutePath.ShouldBe("/authorize/consent");
        page = await browser.SubmitAsync(page, "decision", button: ("decision", "allow"));
        var body = await (await app.ExchangeAsync(page.RedirectQuery["code"])).BodyAsync();
        body["patient"].Str().ShouldBe("dave");
        SmartApp.JwtPart(body["id_token"].Str(), 1)["fhirUser"].Str().ShouldBe(Server.FhirBase + "/Practitioner/carol");
    }

    [Fact]
    public async Task Authorize_by_post_works_like_get()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var url = new Uri(Server.Origin, app.AuthorizeUrl("openid launch/patient patient/*.rs"));
        var form = Microsoft.AspNetCore.WebUtilities.QueryHelpers.ParseQuery(url.Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
        var page = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/authorize") { Content = new FormUrlEncodedContent(form) });
        page = await browser.LoginAsync(page, "alice", "alice-demo-pass");
        page = await browser.SubmitAsync(page, "decision", button: ("decision", "allow"));
        (await app.ExchangeAsync(page.RedirectQuery["code"])).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Online_access_gets_a_refresh_token_that_ends_with_the_sign_in_session()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient patient/*.rs online_access");
        var body = await (await app.ExchangeAsync(code)).BodyAsync();
        var refresh = body["refresh_token"].Str();
        var refreshed = await app.RefreshAsync(refresh);
        refreshed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var next = (await refreshed.BodyAsync())["refresh_token"].Str();

        var logout = await browser.GetAsync("/oauth/logout");
        logout.Status.ShouldNotBe(HttpStatusCode.InternalServerError);
        var afterLogout = await app.RefreshAsync(next);
        afterLogout.StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await afterLogout.BodyAsync())["error"].Str().ShouldBe("invalid_grant");
    }

    [Fact]
    public async Task Userinfo_returns_the_fhir_user()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid fhirUser profile");
        var token = (await (await app.ExchangeAsync(code)).BodyAsync())["access_token"].Str();
        using var http = new HttpClient { BaseAddress = Server.Origin };
        http.DefaultRequestHeaders.Authorization = new("Bearer", token);
        var info = JsonNode.Parse(await http.GetStringAsync("/oauth/userinfo"))!;
        info["fhirUser"].Str().ShouldBe(Server.FhirBase + "/Patient/alice");
        info["preferred_username"].Str().ShouldBe("alice");
    }
}
