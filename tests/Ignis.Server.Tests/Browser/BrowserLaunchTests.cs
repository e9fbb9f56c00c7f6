using System.Net;
using System.Net.Http.Headers;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using OpenQA.Selenium;

namespace Ignis.Server.Tests.Browser;

/// <summary>The login, patient picker and consent pages in a real headless Chromium, as a person clicks through them.</summary>
public sealed class BrowserLaunchTests : IClassFixture<BrowserFixture>
{
    private readonly BrowserFixture _browser;

    public BrowserLaunchTests(BrowserFixture browser)
    {
        _browser = browser;
        _browser.SignOutEverywhere();
    }

    private IgnisServer Server => _browser.Server;
    private OpenQA.Selenium.Chrome.ChromeDriver Driver => _browser.Driver;

    private SmartApp NewApp() => new(Server, redirectUri: _browser.RedirectUri);

    private void Click(string css) => Driver.FindElement(By.CssSelector(css)).Click();

    private async Task<HttpResponseMessage> ReadAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Server.Client.SendAsync(request);
    }

    [Fact]
    public async Task Alice_signs_in_unticks_a_scope_on_the_consent_page_and_gets_a_token_without_it_that_reads_only_her_record()
    {
        string[] requested = ["openid", "fhirUser", "launch/patient", "patient/Patient.rs", "patient/Observation.rs", "patient/Condition.rs"];
        var app = NewApp();
        _browser.Open(app.AuthorizeUrl(string.Join(' ', requested)));
        _browser.SignIn("alice", "alice-demo-pass");

        _browser.WaitForPage("/authorize/consent");
        var boxes = Driver.FindElements(By.Name("scope"));
        boxes.Select(b => b.GetDomAttribute("value")).ShouldBe(requested, ignoreOrder: true);
        foreach (var box in boxes)
        {
            box.GetDomAttribute("type").ShouldBe("checkbox");
            box.Displayed.ShouldBeTrue();
            box.Selected.ShouldBeTrue($"{box.GetDomAttribute("value")} is ticked by default");
        }
        if (Environment.GetEnvironmentVariable("IGNIS_SCREENSHOTS") is { Length: > 0 } dir)
            Driver.GetScreenshot().SaveAsFile(Path.Combine(dir, "consent.png"));

        var condition = boxes.Single(b => b.GetDomAttribute("value") == "patient/Condition.rs");
        condition.Click();
        condition.Selected.ShouldBeFalse();
        Click("button[name=decision][value=allow]");

        var redirect = _browser.WaitForRedirectToApp();
        redirect["state"].ShouldBe(app.State);
        var response = await app.ExchangeAsync(redirect["code"]);
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        var body = await response.BodyAsync();
        body["scope"].Str().Split(' ').ShouldBe(requested.Where(s => s != "patient/Condition.rs"), ignoreOrder: true);
        body["patient"].Str().ShouldBe("alice");

        var token = body["access_token"].Str();
        (await ReadAsync("Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await ReadAsync("Patient/dave", token)).ShouldBeOutcomeAsync(404);
        await (await ReadAsync("Condition?patient=alice", token)).ShouldBeOutcomeAsync(403);
    }

    [Fact]
    public async Task Carol_a_clinician_picks_dave_in_the_patient_picker_and_the_token_response_names_him()
    {
        var app = NewApp();
        _browser.Open(app.AuthorizeUrl("openid fhirUser launch/patient patient/*.rs"));
        _browser.SignIn("carol", "carol-demo-pass");

        _browser.WaitForPage("/authorize/patient");
        var choices = Driver.FindElements(By.Name("patient")).Select(r => r.GetDomAttribute("value")).ToList();
        choices.ShouldContain("alice");
        choices.ShouldContain("dave");
        Click("input[name=patient][value=dave]");
        Click("button[name=select][value=patient]");

        _browser.WaitForPage("/authorize/consent");
        Driver.FindElement(By.TagName("body")).Text.ShouldContain("The app will work with the record of Dave Okafor");
        Click("button[name=decision][value=allow]");

        var redirect = _browser.WaitForRedirectToApp();
        redirect["state"].ShouldBe(app.State);
        var response = await app.ExchangeAsync(redirect["code"]);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.BodyAsync();
        body["patient"].Str().ShouldBe("dave");
        SmartApp.JwtPart(body["access_token"].Str(), 1)["patient"].Str().ShouldBe("dave");
        (await ReadAsync("Patient/dave", body["access_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public void Deny_on_the_consent_page_redirects_to_the_app_with_access_denied_and_the_state()
    {
        var app = NewApp();
        _browser.Open(app.AuthorizeUrl("openid launch/patient patient/*.rs"));
        _browser.SignIn("alice", "alice-demo-pass");

        _browser.WaitForPage("/authorize/consent");
        Click("button[name=decision][value=deny]");

        var redirect = _browser.WaitForRedirectToApp();
        redirect["error"].ShouldBe("access_denied");
        redirect["state"].ShouldBe(app.State);
        redirect.ShouldNotContainKey("code");
    }

    [Fact]
    public void A_wrong_password_shows_a_clear_error_on_the_login_page_and_does_not_sign_in()
    {
        var app = NewApp();
        var authorize = app.AuthorizeUrl("openid launch/patient patient/*.rs");
        _browser.Open(authorize);
        _browser.SignIn("alice", "wrong-password");

        _browser.WaitFor(() => Driver.FindElements(By.Id("login-error")).Count > 0, "the login error");
        var error = Driver.FindElement(By.Id("login-error"));
        error.Displayed.ShouldBeTrue();
        error.GetDomAttribute("role").ShouldBe("alert");
        error.Text.ShouldBe("Wrong user name or password.");
        new Uri(Driver.Url).AbsolutePath.ShouldBe("/account/login");
        Driver.FindElement(By.Name("username")).GetDomProperty("value").ShouldBe("alice");
        Driver.FindElement(By.Name("password")).GetDomProperty("value").ShouldBeEmpty();

        _browser.Open(authorize);
        _browser.WaitForPage("/account/login");
        Driver.FindElements(By.Name("scope")).ShouldBeEmpty();
    }

    [Fact]
    public void A_request_with_an_unregistered_redirect_uri_shows_the_error_page_and_stays_on_the_server()
    {
        var app = new SmartApp(Server, redirectUri: "https://evil.example/callback");
        _browser.Open(app.AuthorizeUrl("openid launch/patient patient/*.rs"));

        _browser.WaitForPage("/oauth/authorize");
        _browser.WaitFor(() => Driver.FindElements(By.Id("authorize-error")).Count > 0, "the error page");
        new Uri(Driver.Url).Host.ShouldBe(Server.Origin.Host);
        Driver.FindElement(By.TagName("h1")).Text.ShouldBe("This sign-in request cannot continue");
        Driver.FindElement(By.Id("authorize-error")).GetDomAttribute("role").ShouldBe("alert");
        Driver.FindElement(By.Id("error-code")).Text.ShouldBe("error: invalid_request");
        Driver.FindElement(By.Id("error-description")).Text.ShouldContain("redirect_uri");
    }
}
