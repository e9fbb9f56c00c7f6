using System.Net;
using System.Net.Http.Headers;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Browser;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace Ignis.Server.Tests.External;

/// <summary>The external provider and Ignis of <see cref="ExternalIdentityFixture"/>, a headless Chromium, and the SMART app's redirect_uri.</summary>
public sealed class ExternalBrowserFixture : ExternalIdentityFixture
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly HttpListener _app = new();
    private string _profile = "";

    public ChromeDriver Driver { get; private set; } = null!;
    public string RedirectUri { get; private set; } = "";

    public override async ValueTask InitializeAsync()
    {
        foreach (var path in new[] { BrowserFixture.ChromiumPath, BrowserFixture.ChromeDriverPath })
            if (!File.Exists(path))
                throw new InvalidOperationException($"{path} is missing: run scripts/test.sh, which installs chromium and chromium-driver.");
        var driver = Task.Run(() => BrowserFixture.LaunchChromium(out _profile));
        await base.InitializeAsync();
        Driver = await driver;
        RedirectUri = BrowserFixture.StartAppCallback(_app);
    }

    public void WaitFor(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
                throw new TimeoutException($"Waited {Patience.TotalSeconds} s for {what}; the browser is on {Driver.Url}:\n{Driver.PageSource}");
            Thread.Sleep(50);
        }
    }

    public override async ValueTask DisposeAsync()
    {
        _app.Close();
        if (Driver is not null)
        {
            Driver.Quit();
            Driver.Dispose();
        }
        await base.DisposeAsync();
        try { if (_profile.Length > 0) Directory.Delete(_profile, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>
/// Delegated sign-in clicked through in Chromium: the SMART app sends the browser to Ignis's authorize endpoint, the
/// user picks "Sign in with Test IdP" on the sign-in page, signs in and consents at the provider (a real oidc-provider),
/// and comes back to Ignis, which links or creates the local user and carries on with the SMART flow (patient picker,
/// consent) up to a token. Each test starts without cookies at either server.
/// </summary>
public sealed class ExternalSignInBrowserTests : IClassFixture<ExternalBrowserFixture>
{
    private readonly ExternalBrowserFixture _fixture;

    public ExternalSignInBrowserTests(ExternalBrowserFixture fixture)
    {
        _fixture = fixture;
        Driver.ExecuteCdpCommand("Network.clearBrowserCookies", new Dictionary<string, object?>());
    }

    private IgnisServer Server => _fixture.Server;
    private ChromeDriver Driver => _fixture.Driver;

    private void Click(string css) => Driver.FindElement(By.CssSelector(css)).Click();

    private void WaitForPath(string path, string? host = null) => _fixture.WaitFor(() =>
    {
        var url = new Uri(Driver.Url);
        return url.AbsolutePath.StartsWith(path, StringComparison.Ordinal) && (host is null || url.Authority == host);
    }, "the page " + path);

    /// <summary>From Ignis's sign-in page through the provider's login and consent pages, as <paramref name="login"/>.</summary>
    private void SignInAtProvider(string login)
    {
        WaitForPath("/account/login");
        Click("button[name=provider][value=idp]");
        var idp = new Uri(_fixture.Idp.Issuer).Authority;
        WaitForPath("/interaction/", idp);
        _fixture.WaitFor(() => Driver.FindElements(By.Name("login")).Count > 0, "the provider's login form");
        Driver.FindElement(By.Name("login")).SendKeys(login);
        Driver.FindElement(By.Name("password")).SendKeys("any-password");
        Click("button[type=submit]");
        // The provider's consent page (same /interaction/ path, a new form).
        _fixture.WaitFor(() => Driver.FindElements(By.Name("login")).Count == 0 || new Uri(Driver.Url).Authority != idp, "the provider's consent page");
        if (new Uri(Driver.Url).Authority == idp) Click("button[type=submit]");
    }

    private IDictionary<string, string> WaitForRedirectToApp()
    {
        _fixture.WaitFor(() => Driver.Url.StartsWith(_fixture.RedirectUri + "?", StringComparison.Ordinal), "the redirect to the app");
        return QueryHelpers.ParseQuery(new Uri(Driver.Url).Query).ToDictionary(kv => kv.Key, kv => kv.Value.ToString());
    }

    private async Task<HttpResponseMessage> ReadAsync(string path, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Server.Client.SendAsync(request);
    }

    private async Task<T> WithUsersAsync<T>(Func<UserManager<IgnisUser>, Task<T>> action)
    {
        using var scope = Server.Services.CreateScope();
        return await action(scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>());
    }

    [Fact]
    public async Task The_first_sign_in_links_carol_by_her_verified_email_and_the_launch_continues_to_the_patient_picker_and_a_token()
    {
        var app = new SmartApp(Server, redirectUri: _fixture.RedirectUri);
        Driver.Navigate().GoToUrl(new Uri(Server.Origin, app.AuthorizeUrl("openid fhirUser launch/patient patient/*.rs")));
        SignInAtProvider("carol-ext");

        // Signed in as carol (a clinician): the same picker and consent as after a password sign-in.
        WaitForPath("/authorize/patient");
        Click("input[name=patient][value=alice]");
        Click("button[name=select][value=patient]");
        WaitForPath("/authorize/consent");
        Click("button[name=decision][value=allow]");

        var redirect = WaitForRedirectToApp();
        redirect["state"].ShouldBe(app.State);
        var response = await app.ExchangeAsync(redirect["code"]);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.BodyAsync();
        body["patient"].Str().ShouldBe("alice");
        var carol = await WithUsersAsync(u => u.FindByNameAsync("carol"));
        SmartApp.JwtPart(body["access_token"].Str(), 1)["sub"].Str().ShouldBe(carol!.Id);
        SmartApp.JwtPart(body["id_token"].Str(), 1)["fhirUser"].Str().ShouldEndWith("/Practitioner/carol");
        (await ReadAsync("Patient/alice", body["access_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);

        var logins = await WithUsersAsync(u => u.GetLoginsAsync(carol));
        logins.ShouldContain(l => l.LoginProvider == "idp" && l.ProviderKey == "carol-ext");
        Driver.Navigate().GoToUrl(new Uri(Server.Origin, "/account"));
        WaitForPath("/account");
        _fixture.WaitFor(() => Driver.FindElements(By.Id("linked-logins")).Count > 0, "the linked accounts on the account page");
        Driver.FindElement(By.CssSelector("ul[aria-describedby=linked-logins]")).Text.ShouldBe("Test IdP");

        // Ignis asked the provider with authorization code, PKCE S256, state and nonce.
        var request = (await _fixture.Idp.AuthorizationRequestsAsync()).Last()!;
        request["response_type"].Str().ShouldBe("code");
        request["code_challenge_method"].Str().ShouldBe("S256");
        request["code_challenge"].Str().Length.ShouldBeGreaterThanOrEqualTo(43);
        request["state"].Str().ShouldNotBeEmpty();
        request["nonce"].Str().ShouldNotBeEmpty();
    }

    [Fact]
    public async Task The_first_sign_in_of_an_unknown_person_creates_a_patient_user_without_a_record_who_still_completes_the_launch()
    {
        var app = new SmartApp(Server, redirectUri: _fixture.RedirectUri);
        Driver.Navigate().GoToUrl(new Uri(Server.Origin, app.AuthorizeUrl("openid fhirUser profile user/*.rs")));
        SignInAtProvider("newbie");

        WaitForPath("/authorize/consent");
        Click("button[name=decision][value=allow]");
        var redirect = WaitForRedirectToApp();
        var response = await app.ExchangeAsync(redirect["code"]);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await response.BodyAsync();

        var user = await WithUsersAsync(u => u.FindByLoginAsync("idp", "newbie"));
        user.ShouldNotBeNull();
        user.UserName.ShouldBe("newbie@example.org");
        user.Email.ShouldBe("newbie@example.org");
        user.FhirUser.ShouldBeNull();
        user.GivenName.ShouldBe("New");
        (await WithUsersAsync(u => u.GetRolesAsync(user))).ShouldBe([IgnisRoles.Patient]);
        SmartApp.JwtPart(body["access_token"].Str(), 1)["sub"].Str().ShouldBe(user.Id);
        // A patient user with no record of their own reaches no one's record.
        var read = await ReadAsync("Patient/alice", body["access_token"].Str());
        ((int)read.StatusCode).ShouldBeOneOf(403, 404);
    }

    [Fact]
    public async Task A_provider_that_has_not_verified_the_email_cannot_link_to_the_user_with_that_email_and_the_sign_in_page_says_why()
    {
        var app = new SmartApp(Server, redirectUri: _fixture.RedirectUri);
        Driver.Navigate().GoToUrl(new Uri(Server.Origin, app.AuthorizeUrl("openid launch/patient patient/*.rs")));
        SignInAtProvider("mallory");

        WaitForPath("/account/login");
        _fixture.WaitFor(() => Driver.FindElements(By.Id("external-error")).Count > 0, "the sign-in error");
        var error = Driver.FindElement(By.Id("external-error"));
        error.GetDomAttribute("role").ShouldBe("alert");
        error.Text.ShouldContain("Test IdP has not verified your email address");
        // Still on the way to the app: a password sign-in from here continues the same authorize request.
        Driver.FindElement(By.Name("returnUrl")).GetDomProperty("value")!.ShouldStartWith("/oauth/authorize");

        var alice = await WithUsersAsync(u => u.FindByNameAsync("alice"));
        (await WithUsersAsync(u => u.GetLoginsAsync(alice!))).ShouldBeEmpty();
        (await WithUsersAsync(u => u.FindByLoginAsync("idp", "mallory"))).ShouldBeNull();
    }
}
