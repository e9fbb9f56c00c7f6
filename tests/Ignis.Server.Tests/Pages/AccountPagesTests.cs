using System.Net;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using static Ignis.Server.Tests.Pages.PortalTestKit;

namespace Ignis.Server.Tests.Pages;

/// <summary>My account and Connected apps over HTTP, as a browser without JavaScript uses them.</summary>
public sealed class AccountPagesTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task Connected_apps_shows_the_app_in_plain_language_and_revoke_stops_its_token_at_fhir_within_a_second()
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient, "Patient/alice");
        using var browser = await SignedInAsync(Server, name, password);
        var token = await AppTokenAsync(Server, browser, name, password, "openid launch/patient patient/Patient.rs offline_access");
        (await FhirGetAsync(Server, "Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var page = await browser.GetAsync("/account/apps");
        page.Status.ShouldBe(HttpStatusCode.OK);
        page.Html.ShouldContain("Ignis demo app");
        page.Html.ShouldContain("Read and search Patient data for the selected patient");
        page.Html.ShouldContain("Keep access when you are not using it, until you revoke it");
        page.Html.ShouldContain("data-client-id=\"demo-app\"");

        page = await browser.SubmitAsync(page, "client_id");
        page.Status.ShouldBe(HttpStatusCode.OK);
        page.Url.Query.ShouldContain("done=revoked");
        page.Html.ShouldContain("Access revoked.");
        page.Html.ShouldNotContain("data-client-id=\"demo-app\"");

        await Task.Delay(1100); // the resource server reuses a validated token for at most one second
        (await FhirGetAsync(Server, "Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Revoking_an_app_the_user_never_connected_is_refused_with_a_message()
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient, "Patient/dave");
        using var browser = await SignedInAsync(Server, name, password);
        var page = await browser.GetAsync("/account/apps");
        page.Html.ShouldContain("No app has access to your data.");
        page = await SubmitHandlerAsync(browser, page, "Revoke", ("client_id", "demo-backend"));
        page.Status.ShouldBe(HttpStatusCode.OK);
        page.Html.ShouldContain("That app has no access to revoke.");
    }

    [Fact]
    public async Task Sign_out_everywhere_revokes_every_token_and_ends_every_session()
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient, "Patient/dave");
        using var laptop = await SignedInAsync(Server, name, password);
        using var phone = await SignedInAsync(Server, name, password);
        var token = await AppTokenAsync(Server, phone, name, password, "openid patient/*.rs offline_access");
        (await FhirGetAsync(Server, "Patient/dave", token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var page = await laptop.GetAsync("/account/apps");
        page.Html.ShouldContain("handler=SignOutEverywhere");
        page = await SubmitHandlerAsync(laptop, page, "SignOutEverywhere");
        page.Url.AbsolutePath.ShouldBe("/account/login");
        page.Html.ShouldContain("You are signed out everywhere");

        await Task.Delay(1100);
        (await FhirGetAsync(Server, "Patient/dave", token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await phone.GetAsync("/account")).Url.AbsolutePath.ShouldBe("/account/login");
        (await laptop.GetAsync("/account")).Url.AbsolutePath.ShouldBe("/account/login");
    }

    [Fact]
    public async Task The_account_page_lists_sessions_with_browser_and_address_and_ends_another_one()
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient, "Patient/dave");
        using var laptop = await SignedInAsync(Server, name, password);
        using var phone = await SignedInAsync(Server, name, password);

        var page = await laptop.GetAsync("/account");
        page.Status.ShouldBe(HttpStatusCode.OK);
        page.Html.ShouldContain("this device");
        page.Html.ShouldContain("127.0.0.1");
        System.Text.RegularExpressions.Regex.Matches(page.Html, "<tr>").Count.ShouldBe(3); // header + two sessions

        page = await laptop.SubmitAsync(page, "session");
        page.Html.ShouldContain("That session is signed out.");
        (await phone.GetAsync("/account")).Url.AbsolutePath.ShouldBe("/account/login");
        (await laptop.GetAsync("/account")).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Changing_the_password_needs_the_current_one_keeps_this_session_and_ends_the_others()
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient, null);
        using var laptop = await SignedInAsync(Server, name, password);
        using var phone = await SignedInAsync(Server, name, password);

        var page = await laptop.GetAsync("/account/password");
        var wrong = await laptop.SubmitAsync(page, "current",
            new Dictionary<string, string?> { ["current"] = "not-it", ["new"] = "brand-new-pass", ["confirm"] = "brand-new-pass" });
        wrong.Html.ShouldContain("The current password is wrong.");
        var mismatch = await laptop.SubmitAsync(page, "current",
            new Dictionary<string, string?> { ["current"] = password, ["new"] = "brand-new-pass", ["confirm"] = "other-new-pass" });
        mismatch.Html.ShouldContain("The two new passwords differ.");
        var shortOne = await laptop.SubmitAsync(page, "current",
            new Dictionary<string, string?> { ["current"] = password, ["new"] = "short", ["confirm"] = "short" });
        shortOne.Html.ShouldContain("at least 8 characters");

        var done = await laptop.SubmitAsync(page, "current",
            new Dictionary<string, string?> { ["current"] = password, ["new"] = "brand-new-pass", ["confirm"] = "brand-new-pass" });
        done.Url.AbsolutePath.ShouldBe("/account");
        done.Html.ShouldContain("Your password is changed.");
        (await laptop.GetAsync("/account")).Status.ShouldBe(HttpStatusCode.OK);
        (await phone.GetAsync("/account")).Url.AbsolutePath.ShouldBe("/account/login");

        using var again = new SmartBrowser(Server);
        var login = await again.LoginAsync(await again.GetAsync("/account/login"), name, password);
        login.Html.ShouldContain("Wrong user name or password.");
        login = await again.LoginAsync(await again.GetAsync("/account/login"), name, "brand-new-pass");
        login.Url.AbsolutePath.ShouldBe("/account");
    }

    [Theory]
    [InlineData("/account")]
    [InlineData("/account/apps")]
    [InlineData("/account/password")]
    [InlineData("/admin")]
    [InlineData("/admin/users")]
    [InlineData("/admin/log")]
    [InlineData("/launcher")]
    public async Task Pages_send_a_browser_without_a_session_to_the_login_page(string path)
    {
        using var browser = new SmartBrowser(Server);
        var page = await browser.GetAsync(path);
        page.Url.AbsolutePath.ShouldBe("/account/login");
        page.Html.ShouldContain("name=\"username\"");
    }

    [Theory]
    [InlineData("/admin")]
    [InlineData("/admin/users")]
    [InlineData("/admin/log")]
    [InlineData("/launcher")]
    public async Task A_patient_gets_403_with_a_clear_page_on_pages_of_other_roles(string path)
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient, "Patient/dave");
        using var browser = await SignedInAsync(Server, name, password);
        var page = await browser.GetAsync(path);
        page.Status.ShouldBe(HttpStatusCode.Forbidden);
        page.Html.ShouldContain("No access");
    }

    [Fact]
    public async Task A_post_without_the_antiforgery_token_is_refused_and_changes_nothing()
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient, "Patient/dave");
        using var browser = await SignedInAsync(Server, name, password);
        var response = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/account/apps?handler=SignOutEverywhere")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>()),
        });
        response.Status.ShouldBe(HttpStatusCode.BadRequest);
        (await browser.GetAsync("/account")).Status.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("/account/login")]
    [InlineData("/account/denied")]
    [InlineData("/")]
    public async Task Pages_forbid_framing_and_scripts(string path)
    {
        using var browser = new SmartBrowser(Server);
        var page = await browser.GetAsync(path);
        page.Response.Headers.GetValues("X-Frame-Options").ShouldBe(["DENY"]);
        var csp = page.Response.Headers.GetValues("Content-Security-Policy").Single();
        csp.ShouldContain("frame-ancestors 'none'");
        csp.ShouldContain("default-src 'none'");
        csp.ShouldNotContain("script-src");
        page.Response.Headers.GetValues("X-Content-Type-Options").ShouldBe(["nosniff"]);
    }

    [Fact]
    public async Task Session_and_antiforgery_cookies_are_http_only_and_same_site()
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient, null);
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = Server.Origin };
        var form = await http.GetAsync("/account/login");
        var antiforgery = form.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ignis.antiforgery=", StringComparison.Ordinal));
        antiforgery.ShouldContain("httponly", Case.Insensitive);
        antiforgery.ShouldContain("samesite=strict", Case.Insensitive);

        using var request = new HttpRequestMessage(HttpMethod.Post, "/account/login")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["username"] = name, ["password"] = password, ["__RequestVerificationToken"] = AntiforgeryToken(await form.Content.ReadAsStringAsync()),
            }),
        };
        request.Headers.Add("Cookie", antiforgery.Split(';')[0]);
        var signedIn = await http.SendAsync(request);
        signedIn.StatusCode.ShouldBe(HttpStatusCode.Redirect);
        var session = signedIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ignis.session=", StringComparison.Ordinal));
        session.ShouldContain("httponly", Case.Insensitive);
        session.ShouldContain("samesite=lax", Case.Insensitive);
    }

    internal static string AntiforgeryToken(string html)
    {
        var token = System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"").Groups[1].Value;
        token.ShouldNotBeEmpty();
        return token;
    }

    /// <summary>Posts to one of the page's handlers with the page's antiforgery token and the given fields.</summary>
    internal static Task<BrowserPage> SubmitHandlerAsync(SmartBrowser browser, BrowserPage page, string handler, params (string Name, string Value)[] fields)
    {
        var content = new Dictionary<string, string> { ["__RequestVerificationToken"] = AntiforgeryToken(page.Html) };
        foreach (var (n, v) in fields) content[n] = v;
        return browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, new Uri(page.Url, page.Url.AbsolutePath + "?handler=" + handler))
        {
            Content = new FormUrlEncodedContent(content),
        });
    }
}
