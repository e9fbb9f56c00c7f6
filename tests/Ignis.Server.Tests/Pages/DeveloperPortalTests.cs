using System.Net;
using System.Text.RegularExpressions;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using static Ignis.Server.Tests.Pages.PortalTestKit;

namespace Ignis.Server.Tests.Pages;

/// <summary>The developer portal and the admin client pages over HTTP, through the client registry.</summary>
public sealed class DeveloperPortalTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private static Dictionary<string, string?> App(string name, string kind, string? redirects = null, string? scope = null) => new()
    {
        ["client_name"] = name, ["app_type"] = kind, ["redirect_uris"] = redirects, ["scope"] = scope,
    };

    private static string Secret(BrowserPage page) => WebUtility.HtmlDecode(Regex.Match(page.Html, "id=\"client-secret\">([^<]+)<").Groups[1].Value);

    private static string ClientIdOf(BrowserPage page) => Regex.Match(page.Html, "id=\"client-id\">([^<]+)<").Groups[1].Value;

    private async Task<HttpResponseMessage> ClientCredentialsAsync(string clientId, string secret, string scope)
    {
        using var http = new HttpClient { BaseAddress = Server.Origin };
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = scope }),
        };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Basic",
            Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        return await http.SendAsync(request);
    }

    [Fact]
    public async Task A_developer_registers_a_public_app_sees_its_client_id_and_no_secret_and_only_they_see_it()
    {
        var (name, password) = await CreateUserAsync(Server, "dev", IgnisRoles.Developer);
        using var dev = await SignedInAsync(Server, name, password);
        var page = await dev.GetAsync("/developer/apps/new");
        page.Status.ShouldBe(HttpStatusCode.OK);
        page = await dev.SubmitAsync(page, "client_name", App("Vitals viewer", "public", "http://127.0.0.1/callback", "openid launch/patient patient/Observation.rs"));
        page.Html.ShouldContain("Vitals viewer is registered");
        var clientId = ClientIdOf(page);
        clientId.ShouldNotBeEmpty();
        page.Html.ShouldNotContain("id=\"client-secret\"");
        page.Response.Headers.CacheControl!.NoStore.ShouldBeTrue();

        var list = await dev.GetAsync("/developer/apps");
        list.Html.ShouldContain($"data-client-id=\"{clientId}\"");

        var (other, otherPassword) = await CreateUserAsync(Server, "dev", IgnisRoles.Developer);
        using var someoneElse = await SignedInAsync(Server, other, otherPassword);
        (await someoneElse.GetAsync("/developer/apps")).Html.ShouldNotContain(clientId);
        (await someoneElse.GetAsync($"/developer/apps/{clientId}")).Status.ShouldBe(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_backend_service_waits_for_approval_then_gets_tokens_its_secret_rotates_and_deleting_it_kills_its_tokens()
    {
        var (name, password) = await CreateUserAsync(Server, "dev", IgnisRoles.Developer);
        using var dev = await SignedInAsync(Server, name, password);
        var page = await dev.SubmitAsync(await dev.GetAsync("/developer/apps/new"), "client_name", App("Nightly export", "backend", scope: "system/Patient.rs"));
        var clientId = ClientIdOf(page);
        var secret = Secret(page);
        secret.Length.ShouldBeGreaterThan(20);
        page.Html.ShouldContain("waiting for approval");
        (await ClientCredentialsAsync(clientId, secret, "system/Patient.rs")).IsSuccessStatusCode.ShouldBeFalse();

        using var admin = await SignedInAsync(Server, "admin", "admin-demo-pass");
        var clients = await admin.GetAsync("/admin/clients");
        clients.Html.ShouldContain($"data-client-id=\"{clientId}\"");
        clients = await AccountPagesTests.SubmitHandlerAsync(admin, clients, "Approve", ("client_id", clientId));
        clients.Html.ShouldContain("The app is approved");

        var first = await ClientCredentialsAsync(clientId, secret, "system/Patient.rs");
        first.StatusCode.ShouldBe(HttpStatusCode.OK, await first.Content.ReadAsStringAsync());
        var token = (await first.BodyAsync())["access_token"].Str();
        (await FhirGetAsync(Server, "Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.OK);

        var app = await dev.GetAsync($"/developer/apps/{clientId}");
        app.Html.ShouldContain("id=\"usage-tokens\">1<");
        app.Html.ShouldNotContain(secret);
        var rotated = await AccountPagesTests.SubmitHandlerAsync(dev, app, "Rotate");
        var newSecret = Secret(rotated);
        newSecret.ShouldNotBe(secret);
        (await ClientCredentialsAsync(clientId, newSecret, "system/Patient.rs")).StatusCode.ShouldBe(HttpStatusCode.OK);

        var unconfirmed = await AccountPagesTests.SubmitHandlerAsync(dev, app, "Delete");
        unconfirmed.Html.ShouldContain("Tick the box to confirm the deletion.");
        var deleted = await dev.SubmitAsync(app, "confirm", new Dictionary<string, string?> { ["confirm"] = "yes" });
        deleted.Url.AbsolutePath.ShouldBe("/developer/apps");
        deleted.Html.ShouldContain("The app is deleted");
        await Task.Delay(1100);
        (await FhirGetAsync(Server, "Patient/alice", token)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await ClientCredentialsAsync(clientId, newSecret, "system/Patient.rs")).IsSuccessStatusCode.ShouldBeFalse();
    }

    [Theory]
    [InlineData("public", "http://app.example/callback", "redirect")]
    [InlineData("public", "javascript:alert(1)", "redirect")]
    [InlineData("", "https://app.example/callback", "Choose the kind of app.")]
    public async Task An_invalid_registration_is_refused_with_the_reason_and_creates_nothing(string kind, string redirect, string reason)
    {
        var (name, password) = await CreateUserAsync(Server, "dev", IgnisRoles.Developer);
        using var dev = await SignedInAsync(Server, name, password);
        var page = await dev.SubmitAsync(await dev.GetAsync("/developer/apps/new"), "client_name", App("Broken", kind, redirect));
        page.Status.ShouldBe(HttpStatusCode.OK);
        page.Html.ShouldContain("id=\"app-error\"");
        page.Html.ShouldContain(reason);
        (await dev.GetAsync("/developer/apps")).Html.ShouldContain("You have not registered an app yet.");
    }

    [Fact]
    public async Task Editing_an_app_saves_its_metadata_and_the_launcher_offers_its_launch_url()
    {
        var (name, password) = await CreateUserAsync(Server, "dev", IgnisRoles.Developer);
        using var dev = await SignedInAsync(Server, name, password);
        var page = await dev.SubmitAsync(await dev.GetAsync("/developer/apps/new"), "client_name", App("Growth charts", "public", "https://charts.example/callback", "openid launch patient/*.rs"));
        var clientId = ClientIdOf(page);
        var app = await dev.GetAsync($"/developer/apps/{clientId}");
        var saved = await dev.SubmitAsync(app, "client_name", new Dictionary<string, string?>
        {
            // SmartBrowser posts inputs only; a browser would send the textarea as rendered.
            ["client_name"] = "Growth charts 2", ["launch_uri"] = "https://charts.example/launch", ["app_type"] = "public",
            ["redirect_uris"] = "https://charts.example/callback",
        });
        saved.Html.ShouldContain("Saved.", Case.Sensitive, saved.Html);
        saved.Html.ShouldContain("value=\"Growth charts 2\"");
        saved.Html.ShouldContain("value=\"https://charts.example/launch\"");

        using var carol = await SignedInAsync(Server, "carol", "carol-demo-pass");
        var launcher = await carol.GetAsync("/launcher");
        var launched = await carol.SubmitAsync(launcher, "launch_url", new Dictionary<string, string?> { ["patient"] = "alice", ["client_id"] = clientId, ["launch_url"] = "" });
        launched.ExternalRedirect.ShouldNotBeNull(launched.Html);
        launched.ExternalRedirect!.GetLeftPart(UriPartial.Path).ShouldBe("https://charts.example/launch");
    }

    [Fact]
    public async Task An_administrator_disables_and_enables_an_app_and_a_legacy_grant_needs_the_server_switch()
    {
        var (name, password) = await CreateUserAsync(Server, "dev", IgnisRoles.Developer);
        using var dev = await SignedInAsync(Server, name, password);
        var page = await dev.SubmitAsync(await dev.GetAsync("/developer/apps/new"), "client_name", App("<script>alert(1)</script>", "confidential", "https://web.example/callback", "openid user/*.rs"));
        var clientId = ClientIdOf(page);

        using var admin = await SignedInAsync(Server, "admin", "admin-demo-pass");
        var clients = await admin.GetAsync("/admin/clients");
        clients.Html.ShouldContain("&lt;script&gt;alert(1)&lt;/script&gt;");
        clients.Html.ShouldNotContain("<script>alert(1)</script>");

        var legacy = await AccountPagesTests.SubmitHandlerAsync(admin, clients, "Legacy", ("client_id", clientId), ("grant", "password"), ("enabled", "true"));
        legacy.Html.ShouldContain("id=\"clients-error\"");
        legacy.Html.ShouldContain("Ignis:Auth:LegacyGrants:Password=true");

        var disabled = await AccountPagesTests.SubmitHandlerAsync(admin, clients, "Disable", ("client_id", clientId));
        disabled.Html.ShouldContain("The app is disabled");
        Regex.IsMatch(disabled.Html, $"data-client-id=\"{clientId}\"[\\s\\S]*?badge off").ShouldBeTrue();
        var enabled = await AccountPagesTests.SubmitHandlerAsync(admin, disabled, "Enable", ("client_id", clientId));
        enabled.Html.ShouldContain("The app is enabled again.");

        var unconfirmed = await AccountPagesTests.SubmitHandlerAsync(admin, enabled, "Delete", ("client_id", clientId));
        unconfirmed.Html.ShouldContain("Tick confirm to delete the app.");
        var deleted = await AccountPagesTests.SubmitHandlerAsync(admin, enabled, "Delete", ("client_id", clientId), ("confirm", "yes"));
        deleted.Html.ShouldContain("The app is deleted");
        deleted.Html.ShouldNotContain($"data-client-id=\"{clientId}\"");

        var token = await AdminTokenAsync(Server);
        var audit = await WaitForAuditEventAsync(Server, token, "subtype=urn:ignis:security-event|client-deleted", a =>
            a["entity"]?.AsArray().Any(e => e!["what"]?["identifier"]?["value"]?.GetValue<string>() == clientId) == true);
        audit["type"]!["code"]!.GetValue<string>().ShouldBe("110113");
    }

    [Fact]
    public async Task The_developer_portal_is_for_developers()
    {
        var (name, password) = await CreateUserAsync(Server, "pat", IgnisRoles.Patient);
        using var patient = await SignedInAsync(Server, name, password);
        (await patient.GetAsync("/developer/apps")).Status.ShouldBe(HttpStatusCode.Forbidden);
        using var carol = await SignedInAsync(Server, "carol", "carol-demo-pass");
        (await carol.GetAsync("/admin/clients")).Status.ShouldBe(HttpStatusCode.Forbidden);
    }
}
