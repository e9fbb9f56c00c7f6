using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ignis.Client.Tests.Infrastructure;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Client.Tests;

/// <summary>Sign-in through the system browser (played by headless Chromium or a form-submitting browser) against the real server.</summary>
public sealed class LoginTests(DemoServerFixture fixture, ChromiumFixture chromium) : IClassFixture<DemoServerFixture>, IClassFixture<ChromiumFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task A_standalone_launch_completed_in_headless_Chromium_gives_a_typed_session_that_reads_the_patient()
    {
        using var sdk = new Sdk(Server);
        var browser = new ChromiumLauncher(chromium, "alice", "alice-demo-pass");
        using var client = sdk.Client(browser);

        // prompt=consent: the consent page even if alice allowed these scopes before (remembered consent).
        var login = new LoginOptions();
        login.ExtraParameters["prompt"] = "consent";
        var session = await client.LoginAsync(login);

        browser.SawConsentPage.ShouldBeTrue();
        // The URL the SDK opened: PKCE S256, state, aud = the FHIR base, a loopback redirect on a port the OS chose.
        var authorize = System.Web.HttpUtility.ParseQueryString(browser.AuthorizeUrl!.Query);
        authorize["code_challenge_method"].ShouldBe("S256");
        authorize["code_challenge"]!.Length.ShouldBe(43);
        authorize["state"].ShouldNotBeNullOrEmpty();
        authorize["aud"].ShouldBe(Server.FhirBase);
        authorize["client_id"].ShouldBe("demo-app");
        var redirect = new Uri(authorize["redirect_uri"]!);
        redirect.Host.ShouldBe("127.0.0.1");
        redirect.Port.ShouldBeGreaterThan(0);
        // Chromium ended on the listener's page, which says the tab can be closed.
        new Uri(browser.FinalUrl!).Port.ShouldBe(redirect.Port);
        browser.FinalText!.ShouldContain("You are signed in. You can close this tab and return to the Ignis test app.");

        var tokens = session.Tokens;
        tokens.Patient.ShouldBe("alice");
        tokens.Scopes.ShouldContain("patient/*.rs");
        tokens.Scopes.ShouldContain("offline_access");
        tokens.RefreshToken.ShouldNotBeNullOrEmpty();
        tokens.ExpiresAt!.Value.ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(50));
        tokens.FhirUser.ShouldBe(Server.FhirBase + "/Patient/alice");
        tokens.Subject.ShouldNotBeNullOrEmpty();
        tokens.Claim("aud").ShouldBe("demo-app");
        session.Key.User.ShouldBe(tokens.Subject);

        using var http = session.CreateHttpClient();
        var patient = await http.GetFromJsonAsync<JsonObject>("Patient/alice");
        patient!["id"]!.GetValue<string>().ShouldBe("alice");
        (await http.GetAsync("Patient/dave")).StatusCode.ShouldBe(HttpStatusCode.NotFound);

        // Saved for the next run of the app.
        (await sdk.Store.LoadAsync(session.Key))!.RefreshToken.ShouldBe(tokens.RefreshToken);
    }

    [Fact]
    public async Task An_EHR_launch_carries_the_clinicians_patient_and_encounter_into_the_session()
    {
        using var carol = new SmartBrowser(Server);
        var login = await carol.GetAsync("/account/login");
        await carol.LoginAsync(login, "carol", "carol-demo-pass");
        var minted = (await carol.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/launch")
        {
            Content = JsonContent.Create(new { patient = "dave", client_id = "demo-app" }),
        })).Response;
        minted.StatusCode.ShouldBe(HttpStatusCode.Created, await minted.Content.ReadAsStringAsync());
        var launch = JsonNode.Parse(await minted.Content.ReadAsStringAsync())!;

        using var sdk = new Sdk(Server);
        using var client = sdk.Client(new FormBrowserLauncher(Server, "carol", "carol-demo-pass") { Browser = carol }, "openid fhirUser launch patient/*.rs");
        client.FhirBaseUrl.ShouldBe(launch["iss"]!.GetValue<string>());
        var session = await client.LoginAsync(new LoginOptions { Launch = launch["launch"]!.GetValue<string>(), User = "carol" });

        session.Tokens.Patient.ShouldBe("dave");
        session.Tokens.Scopes.ShouldContain("launch");
        session.Tokens.FhirUser.ShouldBe(Server.FhirBase + "/Practitioner/carol");
        session.Tokens.RefreshToken.ShouldBeNull();
        using var http = session.CreateHttpClient();
        (await http.GetAsync("Patient/dave")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Denying_on_the_consent_page_raises_access_denied_and_saves_nothing()
    {
        using var sdk = new Sdk(Server);
        var browser = new FormBrowserLauncher(Server, "alice", "alice-demo-pass") { Decision = "deny" };
        using var client = sdk.Client(browser);

        var login = new LoginOptions();
        login.ExtraParameters["prompt"] = "consent";
        var error = await Should.ThrowAsync<SmartAuthorizationException>(() => client.LoginAsync(login));
        error.Error.ShouldBe("access_denied");
        browser.CallbackText.ShouldContain("access_denied");
        browser.CallbackText.ShouldContain("You can close this tab");
        (await sdk.Store.ListAsync()).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_response_with_a_wrong_state_is_refused_by_the_listener_and_the_sign_in_keeps_waiting()
    {
        using var sdk = new Sdk(Server);
        var browser = new FormBrowserLauncher(Server, "alice", "alice-demo-pass")
        {
            TamperRedirect = u => new Uri(System.Text.RegularExpressions.Regex.Replace(u.AbsoluteUri, "state=[^&]+", "state=forged")),
        };
        using var client = new SmartClient(new SmartClientOptions
        {
            FhirBaseUrl = Server.FhirBase, ClientId = "demo-app", Browser = browser, TokenStore = sdk.Store,
            // Long enough for the browser to get through the sign-in form on a loaded machine (3 s was not, once, in CI).
            LoginTimeout = TimeSpan.FromSeconds(10),
        });

        await Should.ThrowAsync<TimeoutException>(() => client.LoginAsync());
        browser.CallbackStatus.ShouldBe(400);
        browser.CallbackText.ShouldContain("does not belong to the sign-in");
        (await sdk.Store.ListAsync()).ShouldBeEmpty();
    }
}
