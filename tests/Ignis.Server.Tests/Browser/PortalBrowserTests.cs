using System.Net;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Ignis.Server.Tests.Pages;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Browser;

/// <summary>
/// The account, connected apps, admin and launcher pages in headless Chromium, as people use them: main paths
/// and error paths, with the checks of <see cref="PageChecks"/> and a screenshot of each page.
/// </summary>
public sealed class PortalBrowserTests : IClassFixture<BrowserFixture>
{
    private const string ScriptName = "<script>alert(1)</script>";
    private readonly BrowserFixture _browser;

    public PortalBrowserTests(BrowserFixture browser)
    {
        _browser = browser;
        _browser.SignOutEverywhere();
    }

    private IgnisServer Server => _browser.Server;
    private ChromeDriver Driver => _browser.Driver;

    private IWebElement Find(string css) => Driver.FindElement(By.CssSelector(css));

    private void Click(string css) => Find(css).Click();

    private void Type(string css, string text)
    {
        var e = Find(css);
        e.Clear();
        e.SendKeys(text);
    }

    private void SignIn(string user, string password)
    {
        _browser.Open("/account/login");
        _browser.SignIn(user, password);
        _browser.WaitForPage("/account");
    }

    private void Check(string? screenshot = null) => PageChecks.Check(Driver, screenshot);

    [Fact]
    public async Task Signing_in_with_the_keyboard_alone_and_remember_me_keeps_a_persistent_session_listed_with_this_browser()
    {
        var (name, password) = await PortalTestKit.CreateUserAsync(Server, "kbd", IgnisRoles.Patient, "Patient/alice");
        _browser.Open("/account/login");
        Check("login");
        // The user name field has focus; Tab moves to the password, then to "remember me", Space ticks it, Enter signs in.
        Driver.SwitchTo().ActiveElement().GetDomAttribute("name").ShouldBe("username");
        Driver.SwitchTo().ActiveElement().SendKeys(name + Keys.Tab);
        Driver.SwitchTo().ActiveElement().SendKeys(password + Keys.Tab);
        Driver.SwitchTo().ActiveElement().GetDomAttribute("name").ShouldBe("remember");
        Driver.SwitchTo().ActiveElement().SendKeys(Keys.Space);
        Find("#remember").Selected.ShouldBeTrue();
        Find("#password").SendKeys(Keys.Enter);

        _browser.WaitForPage("/account");
        var cookie = Driver.Manage().Cookies.GetCookieNamed("ignis.session");
        cookie.ShouldNotBeNull();
        cookie.Expiry.ShouldNotBeNull("remember me makes the cookie outlive the browser");
        cookie.IsHttpOnly.ShouldBeTrue();
        var row = Find("table tbody tr");
        row.Text.ShouldContain("Chrome (headless) on Linux");
        row.Text.ShouldContain("this device");
        row.Text.ShouldContain("127.0.0.1");
        Check("account");
    }

    [Fact]
    public async Task Without_remember_me_the_session_cookie_ends_with_the_browser()
    {
        var (name, password) = await PortalTestKit.CreateUserAsync(Server, "kbd", IgnisRoles.Patient);
        SignIn(name, password);
        var cookie = Driver.Manage().Cookies.GetCookieNamed("ignis.session");
        cookie.ShouldNotBeNull();
        cookie.Expiry.ShouldBeNull();
    }

    [Fact]
    public async Task Wrong_passwords_show_a_clear_message_and_the_fifth_locks_the_account_with_its_own_message()
    {
        var (name, password) = await PortalTestKit.CreateUserAsync(Server, "lock", IgnisRoles.Patient);
        _browser.Open("/account/login");
        _browser.SignIn(name, "not-the-password");
        _browser.WaitFor(() => Driver.FindElements(By.Id("login-error")).Count > 0, "the login error");
        Find("#login-error").Text.ShouldBe("Wrong user name or password.");
        Check("login-error");
        PageChecks.Contrast(Driver, Find("#login-error")).ShouldBeGreaterThanOrEqualTo(4.5);

        for (var i = 0; i < 4; i++)
        {
            Type("#password", "not-the-password");
            Find("#password").SendKeys(Keys.Enter);
            _browser.WaitFor(() => Driver.FindElements(By.Id("login-error")).Count > 0, "the login error");
        }
        Find("#login-error").Text.ShouldStartWith("This account is locked after too many failed sign-in attempts.");
        Type("#password", password);
        Find("#password").SendKeys(Keys.Enter);
        _browser.WaitFor(() => Find("#login-error").Text.StartsWith("This account is locked", StringComparison.Ordinal), "the lockout message");
        new Uri(Driver.Url).AbsolutePath.ShouldBe("/account/login");
        Check("login-locked");
    }

    [Fact]
    public async Task A_patient_sees_the_connected_app_in_plain_language_and_revoke_stops_its_token()
    {
        var (name, password) = await PortalTestKit.CreateUserAsync(Server, "apps", IgnisRoles.Patient, "Patient/alice");
        var app = new SmartApp(Server, redirectUri: _browser.RedirectUri);
        _browser.Open(app.AuthorizeUrl("openid fhirUser launch/patient patient/Observation.rs patient/Patient.rs offline_access"));
        _browser.SignIn(name, password);
        _browser.WaitForPage("/authorize/consent");
        Check("consent");
        Click("button[name=decision][value=allow]");
        var code = _browser.WaitForRedirectToApp()["code"];
        var token = (await (await app.ExchangeAsync(code)).BodyAsync())["access_token"].Str();
        (await PortalTestKit.FhirGetAsync(Server, "Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        _browser.Open("/account/apps");
        var card = Find("li.card[data-client-id='demo-app']");
        card.FindElement(By.TagName("h2")).Text.ShouldBe("Ignis demo app");
        card.Text.ShouldContain("Read and search Observation data for the selected patient");
        card.Text.ShouldContain("Keep access when you are not using it, until you revoke it");
        card.Text.ShouldContain("last used");
        Check("connected-apps");
        PageChecks.Contrast(Driver, card.FindElement(By.CssSelector("button.danger"))).ShouldBeGreaterThanOrEqualTo(4.5);
        PageChecks.Contrast(Driver, card.FindElement(By.CssSelector(".meta"))).ShouldBeGreaterThanOrEqualTo(4.5);

        // Keyboard again: focus the Revoke button and press Enter.
        card.FindElement(By.CssSelector("button.danger")).SendKeys(Keys.Enter);
        _browser.WaitFor(() => Driver.FindElements(By.CssSelector("p.notice")).Count > 0, "the revoke confirmation");
        Find("p.notice").Text.ShouldBe("Access revoked. The app can no longer use your data.");
        Driver.FindElements(By.CssSelector("li.card[data-client-id='demo-app']")).ShouldBeEmpty();
        await Task.Delay(1100);
        (await PortalTestKit.FhirGetAsync(Server, "Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task An_app_named_like_a_script_is_shown_as_text_on_the_consent_connected_apps_and_launcher_pages()
    {
        var clientId = "xss-" + Guid.NewGuid().ToString("N")[..6];
        using (var scope = Server.Services.CreateScope())
        {
            await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(new OpenIddictApplicationDescriptor
            {
                ClientId = clientId,
                DisplayName = ScriptName,
                ClientType = ClientTypes.Public,
                ApplicationType = ApplicationTypes.Native,
                RedirectUris = { new Uri("http://127.0.0.1/callback") },
                Permissions =
                {
                    Permissions.Endpoints.Authorization, Permissions.Endpoints.Token,
                    Permissions.GrantTypes.AuthorizationCode, Permissions.ResponseTypes.Code,
                },
                Requirements = { Requirements.Features.ProofKeyForCodeExchange },
            });
        }
        var (name, password) = await PortalTestKit.CreateUserAsync(Server, "xss", IgnisRoles.Patient, "Patient/dave");
        var app = new SmartApp(Server, clientId, _browser.RedirectUri);
        _browser.Open(app.AuthorizeUrl("openid patient/Patient.rs"));
        _browser.SignIn(name, password);
        _browser.WaitForPage("/authorize/consent");
        Find("h1 em").Text.ShouldBe(ScriptName);
        Driver.PageSource.ShouldNotContain(ScriptName);
        Check();
        Click("button[name=decision][value=allow]");
        var code = _browser.WaitForRedirectToApp()["code"];
        (await app.ExchangeAsync(code)).StatusCode.ShouldBe(HttpStatusCode.OK);

        _browser.Open("/account/apps");
        Find($"li.card[data-client-id='{clientId}'] h2").Text.ShouldBe(ScriptName);
        Check("connected-apps-script-name");

        _browser.SignOutEverywhere();
        SignIn("carol", "carol-demo-pass");
        _browser.Open("/launcher");
        Find($"#client_id option[value='{clientId}']").Text.ShouldBe($"{ScriptName} ({clientId})");
        Check();
    }

    [Fact]
    public void A_user_name_typed_as_a_script_at_sign_in_is_shown_as_text_in_the_security_log()
    {
        _browser.Open("/account/login");
        _browser.SignIn(ScriptName, "whatever-password");
        _browser.WaitFor(() => Driver.FindElements(By.Id("login-error")).Count > 0, "the login error");
        Find("#username").GetDomProperty("value").ShouldBe(ScriptName);
        PageChecks.NoAlert(Driver);

        _browser.SignOutEverywhere();
        SignIn("admin", "admin-demo-pass");
        _browser.WaitFor(() =>
        {
            _browser.Open("/admin/log?type=sign-in-failed&user=" + Uri.EscapeDataString(ScriptName));
            return Driver.FindElements(By.CssSelector("#log tbody tr")).Count > 0;
        }, "the failed sign-in in the log");
        Find("#log tbody tr td:nth-child(3)").Text.ShouldBe(ScriptName);
        Check();
    }

    [Fact]
    public async Task Changing_the_password_shows_what_is_wrong_and_then_confirms()
    {
        var (name, password) = await PortalTestKit.CreateUserAsync(Server, "pw", IgnisRoles.Patient);
        SignIn(name, password);
        _browser.Open("/account/password");
        Type("#current", "wrong-one");
        Type("#new", "a-new-password");
        Type("#confirm", "a-new-password");
        Click("main button[type=submit]");
        _browser.WaitFor(() => Driver.FindElements(By.Id("password-errors")).Count > 0, "the password errors");
        Find("#password-errors").Text.ShouldContain("The current password is wrong.");
        Check("password");

        Type("#current", password);
        Type("#new", "a-new-password");
        Type("#confirm", "a-new-password");
        Click("main button[type=submit]");
        _browser.WaitForPage("/account");
        Find("p.notice").Text.ShouldStartWith("Your password is changed.");
    }

    [Fact]
    public void An_administrator_creates_a_user_sees_them_listed_and_reads_the_security_log_filtered()
    {
        SignIn("admin", "admin-demo-pass");
        _browser.Open("/admin");
        Check("admin");
        Click("a[href='/admin/users']");
        _browser.WaitForPage("/admin/users");

        var name = "clinic-" + Guid.NewGuid().ToString("N")[..6];
        Type("#username", name);
        Type("main form[method=post] #password", "first-pass-123");
        Click("input[name=roles][value=clinician]");
        Type("#fhirUser", "Practitioner/carol");
        Click("main form[method=post] button[type=submit]");
        _browser.WaitFor(() => new Uri(Driver.Url).AbsolutePath.StartsWith("/admin/users/", StringComparison.Ordinal), "the new user's page");
        Find("p.notice").Text.ShouldBe("The user is created.");
        Find("input[name=roles][value=clinician]").Selected.ShouldBeTrue();
        Check("admin-user");

        _browser.Open("/admin/users");
        Driver.FindElements(By.LinkText(name)).Count.ShouldBe(1);
        Check("admin-users");

        _browser.Open("/admin/log");
        Click("#type option[value='user-created']");
        Click("form.filters button[type=submit]");
        _browser.WaitFor(() => Driver.Url.Contains("type=user-created", StringComparison.Ordinal), "the filtered log");
        _browser.WaitFor(() =>
        {
            if (Driver.FindElements(By.CssSelector($"#log tr[data-event='user-created']")).Any(r => r.Text.Contains(name, StringComparison.Ordinal))) return true;
            Driver.Navigate().Refresh(); // the log is written in the background
            return false;
        }, "the user-created entry");
        Driver.FindElements(By.CssSelector("#log tbody tr")).ShouldAllBe(r => r.GetDomAttribute("data-event") == "user-created");
        Check("admin-log");
    }

    [Fact]
    public async Task A_patient_opening_the_admin_page_sees_a_clear_no_access_page()
    {
        var (name, password) = await PortalTestKit.CreateUserAsync(Server, "pat", IgnisRoles.Patient);
        SignIn(name, password);
        _browser.Open("/admin");
        _browser.WaitForPage("/account/denied");
        Find("h1").Text.ShouldBe("No access");
        Driver.FindElements(By.CssSelector("a[href='/admin']")).ShouldBeEmpty("the navigation offers only what the user may open");
        Check("no-access");
    }

    [Fact]
    public void A_clinician_launches_an_app_for_a_patient_and_encounter_and_the_app_receives_iss_and_launch()
    {
        SignIn("carol", "carol-demo-pass");
        _browser.Open("/launcher");
        Type("#q", "okafor");
        Click("form[role=search] button");
        _browser.WaitFor(() => Driver.Url.Contains("q=okafor", StringComparison.Ordinal), "the patient search");
        Click("input[name=patient][value=dave]");
        Click("button[formaction*=Encounters]");
        _browser.WaitFor(() => Driver.Url.Contains("patient=dave", StringComparison.Ordinal), "the encounters of dave");
        var encounters = Driver.FindElements(By.CssSelector("#encounter option"));
        encounters.Count.ShouldBeGreaterThan(1);
        encounters[1].Click();
        var encounter = encounters[1].GetDomAttribute("value");
        Click("#client_id option[value='demo-app']");
        var launchUrl = _browser.RedirectUri.Replace("/callback", "/launch", StringComparison.Ordinal);
        Type("#launch_url", launchUrl);
        Check("launcher");
        Click("main form[method=post] > button[type=submit]");

        _browser.WaitFor(() => Driver.Url.StartsWith(launchUrl + "?", StringComparison.Ordinal), "the app's launch URL");
        var query = QueryHelpers.ParseQuery(new Uri(Driver.Url).Query);
        query["iss"].ToString().ShouldBe(Server.FhirBase);
        query["launch"].ToString().ShouldNotBeNullOrEmpty();
        encounter.ShouldNotBeNullOrEmpty();
    }

    [Fact]
    public void The_launcher_says_what_is_missing()
    {
        SignIn("carol", "carol-demo-pass");
        _browser.Open("/launcher");
        Click("input[name=patient][value=alice]");
        Click("#client_id option[value='demo-app']");
        Type("#launch_url", "https://app.example/launch#fragment");
        Click("main form[method=post] > button[type=submit]");
        _browser.WaitFor(() => Driver.FindElements(By.Id("launch-errors")).Count > 0, "the launch errors");
        Find("#launch-errors").Text.ShouldContain("without a fragment");
        Check("launcher-error");
    }

    [Fact]
    public void A_clinician_picks_the_patient_during_a_standalone_launch()
    {
        var app = new SmartApp(Server, redirectUri: _browser.RedirectUri);
        _browser.Open(app.AuthorizeUrl("openid launch/patient patient/*.rs"));
        _browser.SignIn("carol", "carol-demo-pass");
        _browser.WaitForPage("/authorize/patient");
        Check("patient-picker");
    }

    [Fact]
    public void A_developer_runs_the_standalone_launch_tester_and_sees_the_token_response_and_the_decoded_token()
    {
        SignIn("bob", "bob-demo-pass");
        _browser.Open("/launcher/standalone");
        Find("pre code").Text.ShouldContain("\"authorization_endpoint\"");
        Click("#client_id option[value='demo-app']");
        Type("#scope", "openid profile user/Patient.rs");
        Check("launch-tester");
        Click("main form[method=post] button[type=submit]");
        _browser.WaitForPage("/authorize/consent");
        Click("button[name=decision][value=allow]");
        _browser.WaitForPage("/launcher/callback");
        Driver.FindElements(By.Id("tester-error")).ShouldBeEmpty();
        Find("#access-token-claims").Text.ShouldContain($"\"aud\": \"{Server.FhirBase}\"");
        Find("#access-token-claims").Text.ShouldContain("\"scope\": \"openid profile user/Patient.rs\"");
        Check("launch-result");
    }

    [Fact]
    public void A_developer_registers_an_app_sees_the_secret_once_and_an_administrator_approves_it()
    {
        SignIn("bob", "bob-demo-pass");
        _browser.Open("/developer/apps");
        Click("a[href='/developer/apps/new']");
        _browser.WaitForPage("/developer/apps/new");
        var name = "Ward board " + Guid.NewGuid().ToString("N")[..4];
        Type("#client_name", name);
        Click("input[name=app_type][value=backend]");
        Type("#scope", "system/Patient.rs system/Observation.rs");
        Check("developer-register");
        Click("main form[method=post] button[type=submit]");
        _browser.WaitFor(() => Driver.FindElements(By.Id("client-secret")).Count > 0, "the one-time secret");
        var clientId = Find("#client-id").Text;
        Find("#client-secret").Text.Length.ShouldBeGreaterThan(20);
        Check("developer-registered");

        Click("main a.button");
        _browser.WaitForPage("/developer/apps/" + clientId);
        Driver.FindElements(By.Id("client-secret")).ShouldBeEmpty("the secret is shown once");
        Check("developer-app");
        _browser.Open("/developer/apps");
        Check("developer-apps");

        _browser.SignOutEverywhere();
        SignIn("admin", "admin-demo-pass");
        _browser.Open("/admin/clients");
        var card = Find($"li.card[data-client-id='{clientId}']");
        card.Text.ShouldContain("waiting for approval");
        Check("admin-clients");
        card.FindElement(By.CssSelector("button[aria-label^='Approve']")).Click();
        _browser.WaitFor(() => Driver.FindElements(By.CssSelector("p.notice")).Count > 0, "the approval");
        Find($"li.card[data-client-id='{clientId}']").Text.ShouldContain("active");
    }
}
