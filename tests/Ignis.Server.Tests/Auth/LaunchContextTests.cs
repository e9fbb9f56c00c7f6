using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

/// <summary>The launch context of a token response: fhirContext (SMART 2.2 form), the standalone encounter picker, and both again on refresh.</summary>
public sealed class LaunchContextTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    [Fact]
    public async Task An_ehr_launch_passes_its_fhir_context_to_the_token_response_and_again_on_refresh()
    {
        using var browser = new SmartBrowser(Server);
        await AuthorizeRequestTests.SignInAsync(browser, "carol", "carol-demo-pass");
        var fhirContext = new JsonArray(
            new JsonObject { ["reference"] = "Patient/alice", ["role"] = "https://example.org/fhir/role/sibling" },
            new JsonObject { ["canonical"] = "http://example.org/fhir/Questionnaire/phq9|1.0", ["type"] = "Questionnaire" });
        var minted = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/launch")
        {
            Content = JsonContent.Create(new JsonObject { ["patient"] = "dave", ["client_id"] = "demo-app", ["fhirContext"] = fhirContext.DeepClone() }),
        });
        minted.Status.ShouldBe(HttpStatusCode.Created);
        var launch = JsonNode.Parse(minted.Html)!["launch"].Str();

        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "carol", "carol-demo-pass", "launch patient/*.rs offline_access",
            new Dictionary<string, string?> { ["launch"] = launch });
        var body = await (await app.ExchangeAsync(code)).BodyAsync();
        body["patient"].Str().ShouldBe("dave");
        JsonNode.DeepEquals(body["fhirContext"], fhirContext).ShouldBeTrue(body["fhirContext"]?.ToJsonString());

        var refreshed = await (await app.RefreshAsync(body["refresh_token"].Str())).BodyAsync();
        refreshed["patient"].Str().ShouldBe("dave");
        JsonNode.DeepEquals(refreshed["fhirContext"], fhirContext).ShouldBeTrue();
        refreshed["need_patient_banner"]!.GetValue<bool>().ShouldBeTrue();
        refreshed["smart_style_url"].Str().ShouldStartWith("http");
    }

    [Theory]
    [InlineData("[\"Observation/1\"]")]
    [InlineData("[{\"role\":\"https://example.org/role\"}]")]
    [InlineData("[{\"reference\":\"not-a-reference\"}]")]
    [InlineData("[{\"reference\":\"Observation/1\",\"role\":\"not a uri\"}]")]
    public async Task A_launch_with_a_malformed_fhir_context_is_refused(string fhirContext)
    {
        using var browser = new SmartBrowser(Server);
        await AuthorizeRequestTests.SignInAsync(browser, "carol", "carol-demo-pass");
        var minted = await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/launch")
        {
            Content = new StringContent($"{{\"patient\":\"dave\",\"fhirContext\":{fhirContext}}}", System.Text.Encoding.UTF8, "application/json"),
        });
        minted.Status.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_clinician_picks_patient_then_encounter_in_a_standalone_launch_and_refresh_returns_both()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var page = await browser.GetAsync(app.AuthorizeUrl("openid launch/patient launch/encounter patient/*.rs offline_access"));
        page = await browser.LoginAsync(page, "carol", "carol-demo-pass");
        page.Url.AbsolutePath.ShouldBe("/authorize/patient");
        page = await browser.SubmitAsync(page, "patient", new Dictionary<string, string?> { ["patient"] = "dave" });
        page.Url.AbsolutePath.ShouldBe("/authorize/patient");
        page.Html.ShouldContain("Choose an encounter");
        // Only dave's encounters are offered.
        var offered = Regex.Matches(page.Html, "name=\"encounter\" value=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToList();
        offered.ShouldNotBeEmpty();
        var encounter = offered[0];
        page = await browser.SubmitAsync(page, "encounter", new Dictionary<string, string?> { ["encounter"] = encounter });
        page.Url.AbsolutePath.ShouldBe("/authorize/consent");
        page = await browser.SubmitAsync(page, "decision", button: ("decision", "allow"));
        var body = await (await app.ExchangeAsync(page.RedirectQuery["code"])).BodyAsync();
        body["patient"].Str().ShouldBe("dave");
        body["encounter"].Str().ShouldBe(encounter);
        SmartApp.JwtPart(body["access_token"].Str(), 1)["encounter"].Str().ShouldBe(encounter);

        var refreshed = await (await app.RefreshAsync(body["refresh_token"].Str())).BodyAsync();
        refreshed["patient"].Str().ShouldBe("dave");
        refreshed["encounter"].Str().ShouldBe(encounter);
    }

    [Fact]
    public async Task An_encounter_of_another_patient_cannot_be_picked()
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var page = await browser.GetAsync(app.AuthorizeUrl("openid launch/patient launch/encounter patient/*.rs"));
        page = await browser.LoginAsync(page, "carol", "carol-demo-pass");
        page = await browser.SubmitAsync(page, "patient", new Dictionary<string, string?> { ["patient"] = "alice" });
        var alicesEncounters = Regex.Matches(page.Html, "name=\"encounter\" value=\"([^\"]+)\"").Select(m => m.Groups[1].Value).ToHashSet();
        // Back on the patient picker with dave, then post one of alice's encounters.
        using var other = new SmartBrowser(Server);
        var davePage = await other.GetAsync(app.AuthorizeUrl("openid launch/patient launch/encounter patient/*.rs"));
        davePage = await other.LoginAsync(davePage, "carol", "carol-demo-pass");
        davePage = await other.SubmitAsync(davePage, "patient", new Dictionary<string, string?> { ["patient"] = "dave" });
        var after = await other.SubmitAsync(davePage, "encounter", new Dictionary<string, string?> { ["encounter"] = alicesEncounters.First() });
        after.Url.AbsolutePath.ShouldBe("/authorize/patient");
        after.Html.ShouldContain("Choose an encounter");
    }
}
