using System.Net;
using System.Text.Json.Nodes;
using Ignis.Server.Data;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using static Ignis.Server.Tests.Pages.PortalTestKit;

namespace Ignis.Server.Tests.Pages;

/// <summary>The security log: R4 AuditEvents in the FHIR store, readable by administrators only, and its page.</summary>
public sealed class SecurityLogTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private const string Dicom = "http://dicom.nema.org/resources/ontology/DCM";
    private IgnisServer Server => fixture.Server;

    private static string? Subtype(JsonNode audit) =>
        audit["subtype"]!.AsArray().Single(c => c!["system"]!.GetValue<string>() == "urn:ignis:security-event")!["code"]!.GetValue<string>();

    [Fact]
    public async Task Sign_in_failed_sign_in_and_lockout_are_R4_AuditEvents_an_administrator_reads_at_fhir()
    {
        var (name, password) = await CreateUserAsync(Server, "log", IgnisRoles.Patient);
        using var browser = new SmartBrowser(Server);
        var login = await browser.LoginAsync(await browser.GetAsync("/account/login"), name, "wrong-password");
        login.Html.ShouldContain("Wrong user name or password.");
        for (var i = 0; i < 4; i++) login = await browser.LoginAsync(await browser.GetAsync("/account/login"), name, "wrong-password");
        login = await browser.LoginAsync(await browser.GetAsync("/account/login"), name, password);
        login.Html.ShouldContain("This account is locked");

        var admin = await AdminTokenAsync(Server);
        var failed = await WaitForAuditEventAsync(Server, admin, $"agent-name:exact={name}&subtype=urn:ignis:security-event|sign-in-failed", _ => true);
        failed["resourceType"]!.GetValue<string>().ShouldBe("AuditEvent");
        failed["type"]!["system"]!.GetValue<string>().ShouldBe(Dicom);
        failed["type"]!["code"]!.GetValue<string>().ShouldBe("110114");
        failed["subtype"]!.AsArray().ShouldContain(c => c!["system"]!.GetValue<string>() == Dicom && c["code"]!.GetValue<string>() == "110122");
        failed["action"]!.GetValue<string>().ShouldBe("E");
        failed["outcome"]!.GetValue<string>().ShouldBe("4");
        DateTimeOffset.Parse(failed["recorded"]!.GetValue<string>()).ShouldBeGreaterThan(DateTimeOffset.UtcNow.AddMinutes(-5));
        var agent = failed["agent"]![0]!;
        agent["name"]!.GetValue<string>().ShouldBe(name);
        agent["requestor"]!.GetValue<bool>().ShouldBeTrue();
        agent["network"]!["address"]!.GetValue<string>().ShouldBe("127.0.0.1");
        agent["network"]!["type"]!.GetValue<string>().ShouldBe("2");
        agent["type"]!["coding"]![0]!["code"]!.GetValue<string>().ShouldBe("humanuser");
        failed["source"]!["observer"]!["display"]!.GetValue<string>().ShouldNotBeNullOrEmpty();
        failed["source"]!["type"]![0]!["code"]!.GetValue<string>().ShouldBe("4");

        var lockout = await WaitForAuditEventAsync(Server, admin, $"agent-name:exact={name}&subtype=urn:ignis:security-event|lockout", _ => true);
        lockout["outcome"]!.GetValue<string>().ShouldBe("8");
    }

    [Fact]
    public async Task Tokens_issued_refreshed_and_revoked_and_the_consent_are_logged_with_the_user_and_the_app()
    {
        var (name, password) = await CreateUserAsync(Server, "log", IgnisRoles.Patient, "Patient/dave");
        using var browser = await SignedInAsync(Server, name, password);
        var app = new SmartApp(Server);
        var code = await app.AuthorizeAsync(browser, name, password, "openid patient/Patient.rs offline_access");
        var body = await (await app.ExchangeAsync(code)).BodyAsync();
        var refreshed = await (await app.RefreshAsync(body["refresh_token"].Str())).BodyAsync();
        var revoked = await SmartApp.PostFormAsync(Server, "/oauth/revoke", new() { ["token"] = refreshed["refresh_token"].Str(), ["client_id"] = "demo-app" });
        revoked["error"].ShouldBeNull(revoked.ToJsonString());

        var admin = await AdminTokenAsync(Server);
        foreach (var kind in (string[])["consent-granted", "token-issued", "token-refreshed", "token-revoked"])
        {
            var audit = await WaitForAuditEventAsync(Server, admin, $"agent-name:exact={name}&subtype=urn:ignis:security-event|{kind}", _ => true);
            (AgentName(audit, "110150") ?? audit["entity"]?.AsArray().Select(e => e!["name"]?.GetValue<string>()).FirstOrDefault(n => n is not null))
                .ShouldBe("demo-app", kind);
        }
        var issued = await WaitForAuditEventAsync(Server, admin, $"agent-name:exact={name}&subtype=urn:ignis:security-event|token-issued", _ => true);
        issued["outcomeDesc"]!.GetValue<string>().ShouldContain("patient/Patient.rs");
        issued["outcomeDesc"]!.GetValue<string>().ShouldNotContain(body["access_token"].Str());
    }

    [Fact]
    public async Task A_clinician_token_with_every_user_scope_gets_no_security_log()
    {
        using var browser = new SmartBrowser(Server);
        var token = await AppTokenAsync(Server, browser, "carol", "carol-demo-pass", "openid user/*.rs");
        await (await FhirGetAsync(Server, "AuditEvent", token)).ShouldBeOutcomeAsync(403);
        (await FhirGetAsync(Server, "Patient?_count=1", token)).StatusCode.ShouldBe(HttpStatusCode.OK);
        await (await FhirGetAsync(Server, "?_type=AuditEvent", token)).ShouldBeOutcomeAsync(403);
        var admin = await AdminTokenAsync(Server);
        await WaitForAuditEventAsync(Server, admin, "subtype=urn:ignis:security-event|token-issued", _ => true);
        var everything = await (await FhirGetAsync(Server, "?_count=1000", token)).BodyAsync();
        everything["entry"].ShouldNotBeNull(everything.ToJsonString());
        everything["entry"]!.AsArray().ShouldNotContain(e => e!["resource"]!["resourceType"]!.GetValue<string>() == "AuditEvent");
    }

    [Fact]
    public async Task The_log_page_filters_by_user_and_event_and_shows_entries_as_text()
    {
        var (name, password) = await CreateUserAsync(Server, "log", IgnisRoles.Patient);
        using (var user = new SmartBrowser(Server))
        {
            await user.LoginAsync(await user.GetAsync("/account/login"), name, "wrong-password");
            await user.LoginAsync(await user.GetAsync("/account/login"), name, password);
        }
        var token = await AdminTokenAsync(Server);
        await WaitForAuditEventAsync(Server, token, $"agent-name:exact={name}&subtype=urn:ignis:security-event|sign-in", _ => true);
        await WaitForAuditEventAsync(Server, token, $"agent-name:exact={name}&subtype=urn:ignis:security-event|sign-in-failed", _ => true);

        using var admin = await SignedInAsync(Server, "admin", "admin-demo-pass");
        var all = await admin.GetAsync($"/admin/log?user={name}");
        all.Status.ShouldBe(HttpStatusCode.OK);
        all.Html.ShouldContain("data-event=\"sign-in\"");
        all.Html.ShouldContain("data-event=\"sign-in-failed\"");
        all.Html.ShouldNotContain("data-event=\"token-issued\""); // the admin's own token, another user

        var failedOnly = await admin.GetAsync($"/admin/log?user={name}&type=sign-in-failed&from={DateTime.UtcNow:yyyy-MM-dd}&to={DateTime.UtcNow:yyyy-MM-dd}");
        failedOnly.Html.ShouldContain("data-event=\"sign-in-failed\"");
        failedOnly.Html.ShouldNotContain("data-event=\"sign-in\"");
        failedOnly.Html.ShouldContain("wrong password");

        var yesterday = await admin.GetAsync($"/admin/log?user={name}&to={DateTime.UtcNow.AddDays(-1):yyyy-MM-dd}");
        yesterday.Html.ShouldContain("No entries match.");

        var bad = await admin.GetAsync("/admin/log?from=yesterday&type=nonsense");
        bad.Status.ShouldBe(HttpStatusCode.OK);
        bad.Html.ShouldContain("enter a date as YYYY-MM-DD");
    }

    [Fact]
    public async Task The_log_page_shows_a_backend_services_tokens_grouped_with_their_number()
    {
        var key = ClientKey.Create("ES256");
        var clientId = await BackendClients.RegisterAsync(Server, jwks: ClientKey.Jwks(key));
        for (var i = 0; i < 6; i++)
            (await BackendClients.TokenAsync(Server, new Assertion(key, clientId, BackendClients.TokenEndpoint(Server)).Sign())).Status.ShouldBe(200);

        var admin = await AdminTokenAsync(Server);
        var grouped = await WaitForAuditEventAsync(Server, admin, $"agent-name:exact={clientId}&subtype=urn:ignis:security-event|token-issued",
            a => a["extension"] is not null);
        var count = grouped["extension"]![0]!["valueUnsignedInt"]!.GetValue<int>();
        count.ShouldBeGreaterThan(1);

        using var browser = await SignedInAsync(Server, "admin", "admin-demo-pass");
        var page = await browser.GetAsync($"/admin/log?user={clientId}&type=token-issued");
        page.Html.ShouldContain($"data-count=\"{count}\"");
        page.Html.ShouldContain($"× {count}");
    }

    [Fact]
    public async Task A_client_registered_through_rfc_7591_is_in_the_log_with_its_client_id()
    {
        using var http = new HttpClient { BaseAddress = Server.Origin };
        var response = await http.PostAsync("/oauth/register", new StringContent(
            """{"client_name":"Logged app","redirect_uris":["https://logged.example/callback"],"token_endpoint_auth_method":"none","scope":"openid"}""",
            System.Text.Encoding.UTF8, "application/json"));
        response.StatusCode.ShouldBe(HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var clientId = (await response.BodyAsync())["client_id"].Str();

        var admin = await AdminTokenAsync(Server);
        var audit = await WaitForAuditEventAsync(Server, admin, "subtype=urn:ignis:security-event|client-registered", a =>
            a["entity"]?.AsArray().Any(e => e!["what"]?["identifier"]?["value"]?.GetValue<string>() == clientId) == true);
        audit["action"]!.GetValue<string>().ShouldBe("C");
        audit["agent"]![0]!["network"]!["address"]!.GetValue<string>().ShouldBe("127.0.0.1");
    }
}
