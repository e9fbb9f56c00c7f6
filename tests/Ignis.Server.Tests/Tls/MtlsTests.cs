using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Auth.Mtls;
using Microsoft.Extensions.DependencyInjection;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Ignis.Server.Tests.Tls;

/// <summary>A demo server with both interfaces whose tls_client_auth trusts a CA made for the test.</summary>
public sealed class MtlsFixture : IAsyncLifetime
{
    public IgnisServer Server { get; private set; } = null!;
    public X509Certificate2 Ca { get; } = TestCertificates.CreateCa();
    public X509Certificate2 OtherCa { get; } = TestCertificates.CreateCa("CN=Untrusted CA");
    private readonly string _dir = Directory.CreateTempSubdirectory("ignis-mtls-").FullName;

    public async ValueTask InitializeAsync()
    {
        var caPath = TestCertificates.WritePem(Ca, _dir, "ca.pem");
        Server = await IgnisServer.StartBothAsync("--demo", $"--Ignis:Auth:Mtls:TrustedCaCertificates:0={caPath}");
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_dir, recursive: true);
    }
}

/// <summary>
/// RFC 8705 over real TLS: tls_client_auth (subject DN and SANs against a configured CA), self_signed_tls_client_auth
/// (a certificate registered in jwks), every way the certificate can be wrong, and certificate-bound access tokens at
/// the FHIR API and in introspection.
/// </summary>
public sealed class MtlsTests(MtlsFixture fixture) : IClassFixture<MtlsFixture>
{
    private IgnisServer Server => fixture.Server;

    private static JsonObject Backend(string method, params (string Name, JsonNode? Value)[] extra)
    {
        var metadata = new JsonObject
        {
            ["client_name"] = "mTLS test client",
            ["grant_types"] = new JsonArray("client_credentials"),
            ["token_endpoint_auth_method"] = method,
            ["scope"] = "system/Patient.rs",
        };
        foreach (var (name, value) in extra) metadata[name] = value;
        return metadata;
    }

    private async Task<string> RegisterAsync(JsonObject metadata)
    {
        using var https = TlsClients.Create(Server);
        var clientId = await TlsClients.RegisterAsync(https, metadata);
        // system/ scopes hold a registration for an administrator; approve it as one would.
        await using var scope = Server.Services.CreateAsyncScope();
        (await scope.ServiceProvider.GetRequiredService<ClientRegistry>().ApproveAsync(clientId)).Succeeded.ShouldBeTrue();
        return clientId;
    }

    private async Task<(HttpStatusCode Status, JsonNode Body)> TokenWithAsync(X509Certificate2? certificate, string clientId, params (string, string)[] more)
    {
        using var https = TlsClients.Create(Server, certificate);
        (string, string)[] scope = more.Any(m => m.Item1 == "scope") ? [] : [("scope", "system/Patient.rs")];
        return await TlsClients.TokenAsync(https, [("grant_type", "client_credentials"), ("client_id", clientId), .. scope, .. more]);
    }

    private static void ShouldBeInvalidClient((HttpStatusCode Status, JsonNode Body) result, string description)
    {
        result.Status.ShouldBe(HttpStatusCode.Unauthorized, result.Body.ToJsonString());
        result.Body["error"].Str().ShouldBe("invalid_client");
        result.Body["error_description"].Str().ShouldBe(description);
        result.Body["access_token"].ShouldBeNull();
    }

    [Fact]
    public async Task Discovery_advertises_both_mtls_methods_and_certificate_bound_tokens()
    {
        using var https = TlsClients.Create(Server);
        var smart = await (await https.GetAsync("/fhir/.well-known/smart-configuration")).BodyAsync();
        var methods = smart["token_endpoint_auth_methods_supported"]!.AsArray().Select(m => m.Str()).ToList();
        methods.ShouldContain("tls_client_auth");
        methods.ShouldContain("self_signed_tls_client_auth");
        smart["tls_client_certificate_bound_access_tokens"]!.GetValue<bool>().ShouldBeTrue();
        var openid = await (await https.GetAsync("/.well-known/openid-configuration")).BodyAsync();
        openid["token_endpoint_auth_methods_supported"]!.AsArray().Select(m => m.Str()).ShouldContain("tls_client_auth");
        openid["tls_client_certificate_bound_access_tokens"]!.GetValue<bool>().ShouldBeTrue();
    }

    [Fact]
    public async Task Tls_client_auth_by_subject_DN_issues_a_token_bound_to_the_certificate()
    {
        var clientId = await RegisterAsync(Backend("tls_client_auth", ("tls_client_auth_subject_dn", "CN=lab-system,O=Example Hospital,C=DE")));
        using var certificate = TestCertificates.Issue(fixture.Ca, "CN=lab-system, O=Example Hospital, C=DE");

        var token = await TokenWithAsync(certificate, clientId);
        token.Status.ShouldBe(HttpStatusCode.OK, token.Body.ToJsonString());
        token.Body["token_type"].Str().ShouldBe("Bearer");
        Thumbprint(token.Body["access_token"].Str()).ShouldBe(CertificateChecks.Thumbprint(certificate));
    }

    [Theory]
    [InlineData("tls_client_auth_san_dns", "lab.example.org")]
    [InlineData("tls_client_auth_san_uri", "https://lab.example.org/client")]
    [InlineData("tls_client_auth_san_ip", "192.0.2.10")]
    [InlineData("tls_client_auth_san_email", "lab@example.org")]
    public async Task Tls_client_auth_by_a_subject_alternative_name(string field, string value)
    {
        var clientId = await RegisterAsync(Backend("tls_client_auth", (field, value)));
        using var certificate = TestCertificates.Issue(fixture.Ca, "CN=some other name", sans =>
        {
            sans.AddDnsName("lab.example.org");
            sans.AddUri(new Uri("https://lab.example.org/client"));
            sans.AddIpAddress(IPAddress.Parse("192.0.2.10"));
            sans.AddEmailAddress("lab@example.org");
        });
        var token = await TokenWithAsync(certificate, clientId);
        token.Status.ShouldBe(HttpStatusCode.OK, token.Body.ToJsonString());

        using var without = TestCertificates.Issue(fixture.Ca, "CN=some other name", sans => sans.AddDnsName("elsewhere.example.org"));
        ShouldBeInvalidClient(await TokenWithAsync(without, clientId), MtlsErrors.SubjectMismatch);
    }

    [Fact]
    public async Task Tls_client_auth_refuses_a_wrong_or_absent_certificate_with_invalid_client()
    {
        const string dn = "CN=pharmacy,O=Example Hospital";
        var clientId = await RegisterAsync(Backend("tls_client_auth", ("tls_client_auth_subject_dn", dn)));

        ShouldBeInvalidClient(await TokenWithAsync(null, clientId), MtlsErrors.NoCertificate);
        using (var otherSubject = TestCertificates.Issue(fixture.Ca, "CN=radiology,O=Example Hospital"))
            ShouldBeInvalidClient(await TokenWithAsync(otherSubject, clientId), MtlsErrors.SubjectMismatch);
        using (var untrusted = TestCertificates.Issue(fixture.OtherCa, dn))
            ShouldBeInvalidClient(await TokenWithAsync(untrusted, clientId), MtlsErrors.Untrusted);
        using (var selfSigned = TestCertificates.SelfSigned(dn))
            ShouldBeInvalidClient(await TokenWithAsync(selfSigned, clientId), MtlsErrors.SelfSignedForPki);
        using (var serverOnly = TestCertificates.Issue(fixture.Ca, dn, clientAuth: false))
            ShouldBeInvalidClient(await TokenWithAsync(serverOnly, clientId), MtlsErrors.NotClientCertificate);
        using (var right = TestCertificates.Issue(fixture.Ca, dn))
            ShouldBeInvalidClient(await TokenWithAsync(right, clientId, ("client_secret", "guess")), MtlsErrors.OtherCredentials);

        // Plain http carries no certificate at all.
        var http = await TlsClients.TokenAsync(Server.Client, ("grant_type", "client_credentials"), ("client_id", clientId), ("scope", "system/Patient.rs"));
        ShouldBeInvalidClient(http, MtlsErrors.NoCertificate);
    }

    [Fact]
    public async Task Self_signed_tls_client_auth_accepts_only_the_registered_certificate()
    {
        using var certificate = TestCertificates.SelfSigned("CN=device-42");
        var clientId = await RegisterAsync(Backend("self_signed_tls_client_auth", ("jwks", TestCertificates.JwksWithCertificate(certificate))));

        var token = await TokenWithAsync(certificate, clientId);
        token.Status.ShouldBe(HttpStatusCode.OK, token.Body.ToJsonString());
        Thumbprint(token.Body["access_token"].Str()).ShouldBe(CertificateChecks.Thumbprint(certificate));

        using var impostor = TestCertificates.SelfSigned("CN=device-42");
        ShouldBeInvalidClient(await TokenWithAsync(impostor, clientId), MtlsErrors.NotRegistered);
        using var caIssued = TestCertificates.Issue(fixture.Ca, "CN=device-42");
        ShouldBeInvalidClient(await TokenWithAsync(caIssued, clientId), MtlsErrors.PkiForSelfSigned);
        ShouldBeInvalidClient(await TokenWithAsync(null, clientId), MtlsErrors.NoCertificate);
    }

    [Fact]
    public async Task A_certificate_bound_token_works_only_with_its_certificate()
    {
        var clientId = await RegisterAsync(Backend("tls_client_auth", ("tls_client_auth_san_dns", "bound.example.org")));
        using var certificate = TestCertificates.Issue(fixture.Ca, "CN=bound", sans => sans.AddDnsName("bound.example.org"));
        var accessToken = (await TokenWithAsync(certificate, clientId)).Body["access_token"].Str();

        using (var same = TlsClients.Create(Server, certificate))
            (await TlsClients.FhirGetAsync(same, "/fhir/Patient/alice", accessToken)).StatusCode.ShouldBe(HttpStatusCode.OK);

        using var otherCertificate = TestCertificates.Issue(fixture.Ca, "CN=bound", sans => sans.AddDnsName("bound.example.org"));
        using (var other = TlsClients.Create(Server, otherCertificate))
        {
            var response = await TlsClients.FhirGetAsync(other, "/fhir/Patient/alice", accessToken);
            response.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            response.Headers.WwwAuthenticate.ToString().ShouldContain("error=\"invalid_token\"");
        }
        using (var none = TlsClients.Create(Server))
            (await TlsClients.FhirGetAsync(none, "/fhir/Patient/alice", accessToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        (await TlsClients.FhirGetAsync(Server.Client, "/fhir/Patient/alice", accessToken)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        // Again with the right certificate right after the refusals (the validated-token cache keys on the certificate too).
        using (var again = TlsClients.Create(Server, certificate))
            (await TlsClients.FhirGetAsync(again, "/fhir/Patient/alice", accessToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Introspection_returns_the_confirmation_of_a_bound_token()
    {
        var clientId = await RegisterAsync(Backend("tls_client_auth", ("tls_client_auth_subject_dn", "CN=introspected")));
        using var certificate = TestCertificates.Issue(fixture.Ca, "CN=introspected");
        var accessToken = (await TokenWithAsync(certificate, clientId)).Body["access_token"].Str();

        using var https = TlsClients.Create(Server);
        using var response = await https.PostAsync("/oauth/introspect", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["token"] = accessToken, ["client_id"] = "demo-backend", ["client_secret"] = "demo-backend-secret",
        }));
        var body = await response.BodyAsync();
        body["active"]!.GetValue<bool>().ShouldBeTrue(body.ToJsonString());
        body["cnf"]!["x5t#S256"].Str().ShouldBe(CertificateChecks.Thumbprint(certificate));
    }

    [Fact]
    public async Task A_secret_client_that_happens_to_send_a_certificate_gets_an_unbound_token()
    {
        using var certificate = TestCertificates.Issue(fixture.Ca, "CN=browser-ish");
        // demo-backend is registered for system/*.cruds.
        var token = await TokenWithAsync(certificate, "demo-backend", ("client_secret", "demo-backend-secret"), ("scope", "system/*.cruds"));
        token.Status.ShouldBe(HttpStatusCode.OK, token.Body.ToJsonString());
        Thumbprint(token.Body["access_token"].Str()).ShouldBeNull();
        using var none = TlsClients.Create(Server);
        (await TlsClients.FhirGetAsync(none, "/fhir/Patient/alice", token.Body["access_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Theory]
    [InlineData("""{"token_endpoint_auth_method":"tls_client_auth","grant_types":["client_credentials"]}""", "needs the certificate subject")]
    [InlineData("""{"token_endpoint_auth_method":"tls_client_auth","grant_types":["client_credentials"],"tls_client_auth_subject_dn":"CN=a","tls_client_auth_san_dns":"a.example"}""", "exactly one of")]
    [InlineData("""{"token_endpoint_auth_method":"tls_client_auth","grant_types":["client_credentials"],"tls_client_auth_san_ip":"not-an-ip"}""", "IPv4 or IPv6")]
    [InlineData("""{"token_endpoint_auth_method":"self_signed_tls_client_auth","grant_types":["client_credentials"]}""", "x5c")]
    [InlineData("""{"token_endpoint_auth_method":"client_secret_basic","grant_types":["client_credentials"],"tls_client_auth_subject_dn":"CN=a"}""", "'tls_client_auth' only")]
    public async Task Registration_refuses_incomplete_mtls_metadata(string json, string problem)
    {
        using var https = TlsClients.Create(Server);
        using var response = await https.PostAsync("/oauth/register", new StringContent(json, System.Text.Encoding.UTF8, "application/json"));
        var body = await response.BodyAsync();
        ((int)response.StatusCode).ShouldBe(400, body.ToJsonString());
        body["error"].Str().ShouldBe("invalid_client_metadata");
        body["error_description"].Str().ShouldContain(problem);
    }

    [Fact]
    public async Task Registration_echoes_the_registered_subject()
    {
        using var https = TlsClients.Create(Server);
        using var response = await https.PostAsync("/oauth/register", new StringContent(
            Backend("tls_client_auth", ("tls_client_auth_san_uri", "spiffe://example.org/lab"), ("tls_client_certificate_bound_access_tokens", true)).ToJsonString(),
            System.Text.Encoding.UTF8, "application/json"));
        var body = await response.BodyAsync();
        ((int)response.StatusCode).ShouldBe(201, body.ToJsonString());
        body["tls_client_auth_san_uri"].Str().ShouldBe("spiffe://example.org/lab");
        body["tls_client_certificate_bound_access_tokens"]!.GetValue<bool>().ShouldBeTrue();
        body["client_secret"].ShouldBeNull();
    }

    /// <summary>cnf.x5t#S256 of an access token, or null when it is not bound.</summary>
    private static string? Thumbprint(string accessToken)
    {
        var payload = JsonNode.Parse(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Decode(new JsonWebToken(accessToken).EncodedPayload))!;
        return payload["cnf"]?["x5t#S256"]?.GetValue<string>();
    }
}
