using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

public sealed class EhrLaunchTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private static async Task<HttpResponseMessage> MintAsync(SmartBrowser browser, object body) =>
        (await browser.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/launch") { Content = JsonContent.Create(body) })).Response;

    [Fact]
    public async Task A_clinician_launches_an_app_with_a_patient_and_encounter_context()
    {
        using var browser = new SmartBrowser(Server);
        await AuthorizeRequestTests.SignInAsync(browser, "carol", "carol-demo-pass");
        var encounter = await FirstEncounterOfAsync("dave");
        var minted = await MintAsync(browser, new { patient = "dave", encounter, client_id = "demo-app" });
        minted.StatusCode.ShouldBe(HttpStatusCode.Created);
        var launch = JsonNode.Parse(await minted.Content.ReadAsStringAsync())!["launch"].Str();

        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, "carol", "carol-demo-pass", "openid fhirUser launch patient/*.rs",
            new Dictionary<string, string?> { ["launch"] = launch });
        var body = await (await app.ExchangeAsync(code)).BodyAsync();
        body["patient"].Str().ShouldBe("dave");
        body["encounter"].Str().ShouldBe(encounter);
        body["scope"].Str().Split(' ').ShouldContain("launch");

        // Single use.
        var again = await browser.GetAsync(new SmartApp(Server).AuthorizeUrl("openid launch", new Dictionary<string, string?> { ["launch"] = launch }));
        again.RedirectQuery["error"].ShouldBe("invalid_request");
    }

    [Fact]
    public async Task An_unknown_launch_id_is_rejected()
    {
        using var browser = new SmartBrowser(Server);
        await AuthorizeRequestTests.SignInAsync(browser, "carol", "carol-demo-pass");
        var page = await browser.GetAsync(new SmartApp(Server).AuthorizeUrl("openid launch", new Dictionary<string, string?> { ["launch"] = "made-up" }));
        page.RedirectQuery["error"].ShouldBe("invalid_request");
        page.RedirectQuery.ShouldNotContainKey("code");
    }

    [Fact]
    public async Task A_launch_id_minted_for_another_user_is_rejected()
    {
        using var carol = new SmartBrowser(Server);
        await AuthorizeRequestTests.SignInAsync(carol, "carol", "carol-demo-pass");
        var launch = JsonNode.Parse(await (await MintAsync(carol, new { patient = "dave" })).Content.ReadAsStringAsync())!["launch"].Str();

        using var alice = new SmartBrowser(Server);
        await AuthorizeRequestTests.SignInAsync(alice, "alice", "alice-demo-pass");
        var page = await alice.GetAsync(new SmartApp(Server).AuthorizeUrl("openid launch", new Dictionary<string, string?> { ["launch"] = launch }));
        page.RedirectQuery["error"].ShouldBe("invalid_request");
    }

    [Fact]
    public async Task Only_a_signed_in_clinician_can_mint_a_launch()
    {
        using var anonymous = new SmartBrowser(Server);
        (await MintAsync(anonymous, new { patient = "dave" })).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var alice = new SmartBrowser(Server);
        await AuthorizeRequestTests.SignInAsync(alice, "alice", "alice-demo-pass");
        (await MintAsync(alice, new { patient = "dave" })).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    private async Task<string> FirstEncounterOfAsync(string patient)
    {
        var token = (await SmartApp.PostFormAsync(Server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" }, ("demo-backend", "demo-backend-secret")))["access_token"].Str();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"Encounter?patient={patient}");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        var bundle = await (await Server.Client.SendAsync(request)).BodyAsync();
        return bundle["entry"]![0]!["resource"]!["id"].Str();
    }
}
