using System.Net;
using System.Security.Cryptography.X509Certificates;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Tls;

/// <summary>
/// Client software known by its certificate at the FHIR API (seed 002): an allow-listed certificate without a token
/// gets exactly its entry's system scopes; a listed certificate without scopes, and an unknown certificate, follow the
/// interface's policy.
/// </summary>
public sealed class ClientCertificateAllowListTests
{
    [Fact]
    public async Task A_certificate_listed_by_thumbprint_gets_only_its_configured_scopes_without_a_token()
    {
        using var listed = TestCertificates.SelfSigned("CN=lab analyser");
        using var unscoped = TestCertificates.SelfSigned("CN=listed without scopes");
        using var unknown = TestCertificates.SelfSigned("CN=stranger");
        await using var server = await IgnisServer.StartBothAsync("--demo",
            "--Ignis:Fhir:ClientCertificates:0:Name=lab analyser",
            $"--Ignis:Fhir:ClientCertificates:0:Thumbprint={TestCertificates.Sha256Hex(listed)}",
            "--Ignis:Fhir:ClientCertificates:0:Scopes=system/Patient.rs",
            "--Ignis:Fhir:ClientCertificates:1:Name=no scopes",
            $"--Ignis:Fhir:ClientCertificates:1:Thumbprint={TestCertificates.Sha256Hex(unscoped)}");

        using (var client = TlsClients.Create(server, listed))
        {
            (await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await TlsClients.FhirGetAsync(client, "/fhir/Observation?patient=alice")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
            using var write = new HttpRequestMessage(HttpMethod.Post, "/fhir/Patient") { Content = Http.Json("""{"resourceType":"Patient"}""") };
            (await client.SendAsync(write)).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        }
        using (var client = TlsClients.Create(server, unscoped))
            (await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using (var client = TlsClients.Create(server, unknown))
            (await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using (var client = TlsClients.Create(server))
            (await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Every_certificate_of_a_listed_issuing_CA_is_recognised()
    {
        var dir = Directory.CreateTempSubdirectory("ignis-allow-").FullName;
        using var ca = TestCertificates.CreateCa("CN=Device CA");
        using var otherCa = TestCertificates.CreateCa("CN=Other CA");
        var caPath = TestCertificates.WritePem(ca, dir, "devices.pem");
        await using var server = await IgnisServer.StartBothAsync("--demo",
            "--Ignis:Fhir:ClientCertificates:0:Name=hospital devices",
            $"--Ignis:Fhir:ClientCertificates:0:IssuerCertificatePath={caPath}",
            "--Ignis:Fhir:ClientCertificates:0:Scopes=system/Patient.rs");

        using (var device = TestCertificates.Issue(ca, "CN=monitor-7"))
        using (var client = TlsClients.Create(server, device))
            (await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.OK);
        using (var foreign = TestCertificates.Issue(otherCa, "CN=monitor-7"))
        using (var client = TlsClients.Create(server, foreign))
            (await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task An_unknown_certificate_follows_the_Limit_policy_of_its_interface()
    {
        using var listed = TestCertificates.SelfSigned("CN=listed");
        using var unknown = TestCertificates.SelfSigned("CN=stranger");
        await using var server = await IgnisServer.StartBothAsync("--demo", "--Ignis:Interfaces:Secure:Anonymous=Limit",
            $"--Ignis:Fhir:ClientCertificates:0:Thumbprint={TestCertificates.Sha256Hex(listed)}", "--Ignis:Fhir:ClientCertificates:0:Scopes=system/Patient.rs");
        using var client = TlsClients.Create(server, unknown);
        (await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await TlsClients.FhirGetAsync(client, "/fhir/CodeSystem")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task With_a_token_the_token_decides_whatever_certificate_is_listed()
    {
        using var listed = TestCertificates.SelfSigned("CN=listed");
        await using var server = await IgnisServer.StartBothAsync("--demo",
            $"--Ignis:Fhir:ClientCertificates:0:Thumbprint={TestCertificates.Sha256Hex(listed)}", "--Ignis:Fhir:ClientCertificates:0:Scopes=system/Patient.rs");
        using var client = TlsClients.Create(server, listed);
        var response = await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice", "not-a-token");
        response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        response.Headers.WwwAuthenticate.ToString().ShouldContain("invalid_token");
    }

    [Fact]
    public async Task A_malformed_allow_list_entry_stops_the_start_with_the_key_named()
    {
        var error = await Should.ThrowAsync<InvalidOperationException>(() => IgnisServer.StartBothAsync("--Ignis:Fhir:ClientCertificates:0:Thumbprint=abc"));
        error.Message.ShouldContain("Ignis:Fhir:ClientCertificates:0:Thumbprint");
        var scopes = await Should.ThrowAsync<InvalidOperationException>(() => IgnisServer.StartBothAsync(
            "--Ignis:Fhir:ClientCertificates:0:Thumbprint=" + new string('A', 64), "--Ignis:Fhir:ClientCertificates:0:Scopes=patient/*.rs"));
        scopes.Message.ShouldContain("system scopes");
    }
}
