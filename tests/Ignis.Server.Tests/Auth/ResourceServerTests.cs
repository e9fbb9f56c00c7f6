using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Auth;

/// <summary>The FHIR API behind the authorization server: tokens from real launches, checked on every interaction.</summary>
public sealed class ResourceServerTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private async Task<JsonNode> LaunchAsync(string user, string scopes, IDictionary<string, string?>? extra = null)
    {
        using var browser = new SmartBrowser(Server);
        var app = new SmartApp(Server);
        var page = await browser.GetAsync(app.AuthorizeUrl(scopes, extra));
        page = await browser.LoginAsync(page, user, user + "-demo-pass");
        if (page.Html.Contains("name=\"patient\"")) page = await browser.SubmitAsync(page, "patient", new Dictionary<string, string?> { ["patient"] = "dave" });
        page = await browser.SubmitAsync(page, "decision", button: ("decision", "allow"));
        var response = await app.ExchangeAsync(page.RedirectQuery["code"]);
        response.StatusCode.ShouldBe(HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        return await response.BodyAsync();
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string? token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await Server.Client.SendAsync(request);
    }

    private static async Task<List<string>> MatchIds(HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        response.StatusCode.ShouldBe(HttpStatusCode.OK, text);
        return (JsonNode.Parse(text)!["entry"]?.AsArray() ?? [])
            .Where(e => e!["search"]?["mode"]?.GetValue<string>() == "match")
            .Select(e => e!["resource"]!["id"].Str()).ToList();
    }

    [Fact]
    public async Task Without_a_token_the_api_answers_401_with_a_bearer_challenge_but_metadata_is_open()
    {
        var response = await GetAsync("Patient/alice", null);
        await response.ShouldBeOutcomeAsync(401);
        var challenge = response.Headers.WwwAuthenticate.ToString();
        challenge.ShouldStartWith("Bearer");
        challenge.ShouldNotContain("error=");
        (await GetAsync("metadata", null)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("not-a-jwt")]
    [InlineData("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.")]
    public async Task A_malformed_or_forged_token_is_401_invalid_token(string token)
    {
        var response = await GetAsync("Patient/alice", token);
        await response.ShouldBeOutcomeAsync(401);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task Alice_reaches_her_own_record_and_never_daves()
    {
        var token = (await LaunchAsync("alice", "launch/patient patient/*.rs openid fhirUser"))["access_token"].Str();
        (await GetAsync("Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await GetAsync("Patient/dave", token)).ShouldBeOutcomeAsync(404);
        await (await GetAsync("Observation/dave-hr-1", token)).ShouldBeOutcomeAsync(404);
        var observations = await MatchIds(await GetAsync("Observation?_count=100", token));
        observations.ShouldNotBeEmpty();
        observations.ShouldAllBe(id => id.StartsWith("alice-"));
        (await MatchIds(await GetAsync("Observation?subject=Patient/dave", token))).ShouldBeEmpty();
        (await MatchIds(await GetAsync("Patient?_revinclude=Observation:subject&_id=dave", token))).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_clinician_picks_a_patient_and_patient_scopes_reach_only_that_patient()
    {
        var token = await LaunchAsync("carol", "launch/patient patient/Observation.rs openid fhirUser");
        token["patient"].Str().ShouldBe("dave");
        var observations = await MatchIds(await GetAsync("Observation?_count=100", token["access_token"].Str()));
        observations.ShouldNotBeEmpty();
        observations.ShouldAllBe(id => id.StartsWith("dave-"));
        await (await GetAsync("Condition?subject=Patient/dave", token["access_token"].Str())).ShouldBeOutcomeAsync(403);
    }

    [Fact]
    public async Task The_backend_client_reads_every_patient_with_system_scopes()
    {
        var token = (await SmartApp.PostFormAsync(Server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" }, ("demo-backend", "demo-backend-secret")))["access_token"].Str();
        (await GetAsync("Patient/dave", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await GetAsync("Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await MatchIds(await GetAsync("Patient?_count=100", token))).ShouldContain("dave");
    }

    [Fact]
    public async Task A_valid_token_without_the_scope_for_the_interaction_is_403()
    {
        var token = (await LaunchAsync("alice", "launch/patient patient/*.rs"))["access_token"].Str();
        using var create = new HttpRequestMessage(HttpMethod.Post, "Observation")
        {
            Content = Http.Json("""{"resourceType":"Observation","status":"final","code":{"text":"x"},"subject":{"reference":"Patient/alice"}}"""),
        };
        create.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        await (await Server.Client.SendAsync(create)).ShouldBeOutcomeAsync(403);
    }

    [Fact]
    public async Task A_revoked_access_token_stops_working_within_one_second()
    {
        var token = (await LaunchAsync("alice", "launch/patient patient/*.rs"))["access_token"].Str();
        (await GetAsync("Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var revoke = new HttpRequestMessage(HttpMethod.Post, "/oauth/revoke")
        {
            Content = new FormUrlEncodedContent([new("token", token), new("client_id", "demo-app")]),
        };
        (await Server.Client.SendAsync(revoke)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await Task.Delay(1100);
        var after = await GetAsync("Patient/alice", token);
        await after.ShouldBeOutcomeAsync(401);
        after.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
    }

    [Fact]
    public async Task A_refresh_ends_the_previous_access_token()
    {
        var first = await LaunchAsync("alice", "launch/patient patient/*.rs offline_access");
        var refreshed = await new SmartApp(Server).RefreshAsync(first["refresh_token"].Str());
        refreshed.StatusCode.ShouldBe(HttpStatusCode.OK);
        var second = (await refreshed.BodyAsync())["access_token"].Str();
        await Task.Delay(1100);
        await (await GetAsync("Patient/alice", first["access_token"].Str())).ShouldBeOutcomeAsync(401);
        (await GetAsync("Patient/alice", second)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }
}
