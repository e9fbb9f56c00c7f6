using System.Net;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.WebUtilities;
using static Ignis.Server.Tests.Pages.PortalTestKit;

namespace Ignis.Server.Tests.Pages;

/// <summary>The EHR launcher and the standalone launch tester over HTTP.</summary>
public sealed class LauncherTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task A_clinician_picks_a_patient_an_encounter_and_an_app_and_the_app_gets_that_context_from_the_launch()
    {
        using var carol = await SignedInAsync(Server, "carol", "carol-demo-pass");
        var page = await carol.GetAsync("/launcher?q=okafor");
        page.Status.ShouldBe(HttpStatusCode.OK);
        page.Html.ShouldContain("value=\"dave\"");
        page.Html.ShouldNotContain("value=\"alice\"");

        // Without JavaScript: choose the patient, then ask for their encounters.
        var withEncounters = await carol.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/launcher?handler=Encounters")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = AccountPagesTests.AntiforgeryToken(page.Html), ["patient"] = "dave", ["q"] = "okafor", ["client_id"] = "demo-app",
            }),
        });
        withEncounters.Url.Query.ShouldContain("patient=dave");
        var encounter = System.Text.RegularExpressions.Regex.Match(withEncounters.Html, "<option value=\"([^\"]+)\">(?!No particular)").Groups[1].Value;
        encounter.ShouldNotBeEmpty();
        withEncounters.Html.ShouldContain("value=\"dave\" checked");

        var launched = await carol.SubmitAsync(withEncounters, "launch_url", new Dictionary<string, string?>
        {
            ["patient"] = "dave", ["encounter"] = encounter, ["client_id"] = "demo-app", ["launch_url"] = "http://127.0.0.1:51234/launch",
        });
        launched.ExternalRedirect.ShouldNotBeNull(launched.Html);
        launched.ExternalRedirect!.GetLeftPart(UriPartial.Path).ShouldBe("http://127.0.0.1:51234/launch");
        var query = QueryHelpers.ParseQuery(launched.ExternalRedirect.Query);
        query["iss"].ToString().ShouldBe(Server.FhirBase);
        var launch = query["launch"].ToString();

        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(carol, "carol", "carol-demo-pass", "openid launch patient/*.rs",
            new Dictionary<string, string?> { ["launch"] = launch });
        var body = await (await app.ExchangeAsync(code)).BodyAsync();
        body["patient"].Str().ShouldBe("dave");
        body["encounter"].Str().ShouldBe(encounter);
    }

    [Fact]
    public async Task The_launcher_names_what_is_missing_or_wrong_and_mints_nothing()
    {
        using var carol = await SignedInAsync(Server, "carol", "carol-demo-pass");
        var page = await carol.GetAsync("/launcher");
        var missing = await carol.SubmitAsync(page, "launch_url", new Dictionary<string, string?> { ["client_id"] = "" });
        missing.Status.ShouldBe(HttpStatusCode.OK);
        missing.Html.ShouldContain("Choose an app.");
        missing.Html.ShouldContain("Choose a patient.");

        var badUrl = await carol.SubmitAsync(page, "launch_url", new Dictionary<string, string?>
        {
            ["patient"] = "alice", ["client_id"] = "demo-app", ["launch_url"] = "http://evil.example/launch",
        });
        badUrl.ExternalRedirect.ShouldBeNull();
        badUrl.Html.ShouldContain("The launch URL must be an absolute https URL");

        var noUrl = await carol.SubmitAsync(page, "launch_url", new Dictionary<string, string?> { ["patient"] = "alice", ["client_id"] = "demo-app", ["launch_url"] = "" });
        noUrl.Html.ShouldContain("Enter the app&#x27;s launch URL; it has none registered.");

        var wrongEncounter = await carol.SubmitAsync(page, "launch_url", new Dictionary<string, string?>
        {
            ["patient"] = "alice", ["encounter"] = "not-alices", ["client_id"] = "demo-app", ["launch_url"] = "https://app.example/launch",
        });
        wrongEncounter.Html.ShouldContain("The encounter does not belong to this patient.");
    }

    [Fact]
    public async Task The_standalone_tester_shows_discovery_runs_a_launch_and_shows_the_token_response_and_decoded_token()
    {
        var (name, password) = await CreateUserAsync(Server, "dev", IgnisRoles.Developer);
        using var dev = await SignedInAsync(Server, name, password);
        var page = await dev.GetAsync("/launcher/standalone");
        page.Status.ShouldBe(HttpStatusCode.OK);
        page.Html.ShouldContain("&quot;authorization_endpoint&quot;");
        page.Html.ShouldContain(Server.Origin.GetLeftPart(UriPartial.Authority) + "/launcher/callback");

        var consent = await dev.SubmitAsync(page, "client_id", new Dictionary<string, string?> { ["client_id"] = "demo-app", ["scope"] = "openid profile user/Patient.rs" });
        consent.Url.AbsolutePath.ShouldBe("/authorize/consent");
        var result = await dev.SubmitAsync(consent, "decision", button: ("decision", "allow"));
        result.Url.AbsolutePath.ShouldBe("/launcher/callback");
        result.Status.ShouldBe(HttpStatusCode.OK);
        result.Html.ShouldContain("Token response");
        result.Html.ShouldContain("&quot;token_type&quot;: &quot;Bearer&quot;");
        result.Html.ShouldContain("&quot;typ&quot;: &quot;at&#x2B;jwt&quot;", Case.Sensitive, result.Html);
        result.Html.ShouldContain($"&quot;aud&quot;: &quot;{Server.FhirBase}&quot;");
        result.Html.ShouldContain("ID token claims");
        result.Html.ShouldNotContain("id=\"tester-error\"");

        // The flow is single use: the cookie is gone, a replayed callback is refused.
        var replay = await dev.GetAsync(result.Url.PathAndQuery);
        replay.Html.ShouldContain("This launch is unknown or older than ten minutes.");
    }

    [Fact]
    public async Task The_tester_refuses_a_callback_whose_state_is_not_the_one_it_started_with()
    {
        var (name, password) = await CreateUserAsync(Server, "dev", IgnisRoles.Developer);
        using var dev = await SignedInAsync(Server, name, password);
        var page = await dev.GetAsync("/launcher/standalone");
        var started = await dev.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/launcher/standalone")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["__RequestVerificationToken"] = AccountPagesTests.AntiforgeryToken(page.Html), ["client_id"] = "demo-app", ["scope"] = "openid",
            }),
        });
        started.Url.AbsolutePath.ShouldBe("/authorize/consent");
        var forged = await dev.GetAsync("/launcher/callback?code=abc&state=forged");
        forged.Html.ShouldContain("The state does not match the launch started here");
    }

    [Fact]
    public async Task The_tester_is_for_developers_and_the_launcher_for_clinicians()
    {
        using var carol = await SignedInAsync(Server, "carol", "carol-demo-pass");
        (await carol.GetAsync("/launcher/standalone")).Status.ShouldBe(HttpStatusCode.Forbidden);
        using var bob = await SignedInAsync(Server, "bob", "bob-demo-pass");
        (await bob.GetAsync("/launcher")).Status.ShouldBe(HttpStatusCode.Forbidden);
        (await bob.GetAsync("/launcher/standalone")).Status.ShouldBe(HttpStatusCode.OK);
    }
}
