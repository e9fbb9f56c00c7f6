using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Ignis.Server.Hosting.Interfaces;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Tls;

/// <summary>
/// The secure (https) and insecure (plain http) interfaces in one process: the server certificate (self-signed and
/// persisted, PFX, PEM), the same API on both, the per-interface anonymous policy, and the OAuth transport rule.
/// </summary>
public sealed class InterfaceTests
{
    [Fact]
    public async Task Both_interfaces_serve_the_same_FHIR_API_in_one_process()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo");
        server.SecureOrigin.ShouldNotBeNull();
        server.SecureOrigin!.Port.ShouldNotBe(server.Origin.Port);
        using var https = TlsClients.Create(server);

        var secure = await (await TlsClients.FhirGetAsync(https, "/fhir/metadata")).BodyAsync();
        var insecure = await (await TlsClients.FhirGetAsync(server.Client, "/fhir/metadata")).BodyAsync();
        secure["resourceType"].Str().ShouldBe("CapabilityStatement");
        insecure["fhirVersion"].Str().ShouldBe(secure["fhirVersion"].Str());
        // Each interface advertises its own origin (no public base URL configured).
        secure["implementation"]!["url"].Str().ShouldStartWith(server.SecureOrigin.ToString().TrimEnd('/'));
        insecure["implementation"]!["url"].Str().ShouldStartWith(server.Origin.ToString().TrimEnd('/'));
    }

    [Fact]
    public async Task Self_signed_certificate_is_made_once_and_reused_after_a_restart()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "ignis-test-" + Guid.NewGuid().ToString("N"));
        try
        {
            byte[] first;
            await using (var server = await IgnisServer.StartBothInAsync(dataDir, ownsData: false))
            {
                using var https = TlsClients.Create(server);
                (await https.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
                first = TlsClients.ServerCertificate(server).RawData;
                var file = Path.Combine(ServerCertificate.Directory(dataDir), ServerCertificate.SelfSignedFile);
                if (!OperatingSystem.IsWindows()) File.GetUnixFileMode(file).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }
            await using (var again = await IgnisServer.StartBothInAsync(dataDir, ownsData: false))
            {
                // The client pins the first run's certificate: the handshake only succeeds if the same one is served.
                using var pinned = TlsClients.Create(again, pinned: X509CertificateLoader.LoadCertificate(first));
                (await pinned.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
                TlsClients.ServerCertificate(again).RawData.ShouldBe(first);
            }
        }
        finally
        {
            Directory.Delete(dataDir, recursive: true);
        }
    }

    [Fact]
    public async Task Configured_PFX_certificate_is_served_on_the_secure_interface()
    {
        var dir = Directory.CreateTempSubdirectory("ignis-pfx-").FullName;
        using var certificate = ServerCertificate.CreateSelfSigned();
        var pfx = Path.Combine(dir, "server.pfx");
        File.WriteAllBytes(pfx, certificate.Export(X509ContentType.Pkcs12, "pfx-pass"));

        await using var server = await IgnisServer.StartBothAsync($"--Ignis:Tls:CertificatePath={pfx}", "--Ignis:Tls:CertificatePassword=pfx-pass");
        using var https = TlsClients.Create(server, pinned: certificate);
        (await https.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
        File.Exists(Path.Combine(ServerCertificate.Directory(server.DataDirectory), ServerCertificate.SelfSignedFile)).ShouldBeFalse();
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task Configured_PEM_certificate_and_key_are_served_on_the_secure_interface()
    {
        var dir = Directory.CreateTempSubdirectory("ignis-pem-").FullName;
        using var certificate = ServerCertificate.CreateSelfSigned();
        var certPath = Path.Combine(dir, "server.crt");
        var keyPath = Path.Combine(dir, "server.key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());

        await using var server = await IgnisServer.StartBothAsync($"--Ignis:Tls:CertificatePath={certPath}", $"--Ignis:Tls:KeyPath={keyPath}");
        using var https = TlsClients.Create(server, pinned: certificate);
        (await https.GetAsync("/healthz")).StatusCode.ShouldBe(HttpStatusCode.OK);
        Directory.Delete(dir, recursive: true);
    }

    [Fact]
    public async Task A_missing_certificate_file_stops_the_start_with_the_key_named()
    {
        var missing = Path.Combine(Path.GetTempPath(), "ignis-no-such-" + Guid.NewGuid().ToString("N") + ".pfx");
        var error = await Should.ThrowAsync<InvalidOperationException>(() => IgnisServer.StartBothAsync($"--Ignis:Tls:CertificatePath={missing}"));
        error.Message.ShouldContain("Ignis:Tls:CertificatePath");
    }

    [Fact]
    public async Task Reject_policy_answers_401_without_a_token_but_metadata_and_discovery_stay_open()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo", "--Ignis:Interfaces:Secure:Anonymous=Reject", "--Ignis:Interfaces:Insecure:Anonymous=Reject");
        using var https = TlsClients.Create(server);
        foreach (var client in new[] { https, server.Client })
        {
            var patient = await TlsClients.FhirGetAsync(client, "/fhir/Patient/alice");
            patient.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
            patient.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer realm=");
            (await TlsClients.FhirGetAsync(client, "/fhir/metadata")).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await client.GetAsync("/fhir/.well-known/smart-configuration")).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await client.GetAsync("/.well-known/openid-configuration")).StatusCode.ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task Limit_policy_lets_anyone_read_and_search_only_the_public_types()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo", "--Ignis:Interfaces:Secure:Anonymous=Limit",
            "--Ignis:Interfaces:PublicResourceTypes:0=ValueSet", "--Ignis:Interfaces:PublicResourceTypes:1=CodeSystem");
        // Arrange a public resource through the insecure interface, which is left open here for set-up.
        await using var admin = await IgnisServer.StartInAsync(server.DataDirectory, ownsData: false, IgnisServer.Open);
        var id = await admin.Client.CreateAsync("""{"resourceType":"ValueSet","status":"active","url":"http://example.org/vs/test"}""");
        await admin.DisposeAsync();

        using var https = TlsClients.Create(server);
        (await TlsClients.FhirGetAsync(https, "/fhir/ValueSet/" + id)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var search = await TlsClients.FhirGetAsync(https, "/fhir/ValueSet?url=http://example.org/vs/test");
        search.StatusCode.ShouldBe(HttpStatusCode.OK);
        (await search.BodyAsync())["total"]!.GetValue<int>().ShouldBe(1);

        var patient = await TlsClients.FhirGetAsync(https, "/fhir/Patient/alice");
        await patient.ShouldBeOutcomeAsync(401);
        patient.Headers.WwwAuthenticate.ToString().ShouldStartWith("Bearer realm=");
        (await TlsClients.FhirGetAsync(https, "/fhir/Patient")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        using var write = new HttpRequestMessage(HttpMethod.Post, "/fhir/ValueSet") { Content = Http.Json("""{"resourceType":"ValueSet","status":"draft"}""") };
        (await https.SendAsync(write)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);

        // The insecure interface keeps the server-wide default (Reject).
        (await TlsClients.FhirGetAsync(server.Client, "/fhir/ValueSet/" + id)).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Allow_policy_on_loopback_makes_no_difference_between_callers()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo", "--Ignis:Interfaces:Insecure:Anonymous=Allow");
        (await TlsClients.FhirGetAsync(server.Client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.OK);
        using var https = TlsClients.Create(server);
        (await TlsClients.FhirGetAsync(https, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Old_server_wide_Anonymous_key_is_the_default_of_both_interfaces()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo", IgnisServer.Open);
        using var https = TlsClients.Create(server);
        (await TlsClients.FhirGetAsync(server.Client, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await TlsClients.FhirGetAsync(https, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task Allow_policy_on_a_network_address_refuses_to_start_unless_forced()
    {
        var error = await Should.ThrowAsync<InvalidOperationException>(() =>
            IgnisServer.StartAsync("--urls", "https://0.0.0.0:0", "--Ignis:Interfaces:Secure:Anonymous=Allow"));
        error.Message.ShouldContain("Ignis:Interfaces:Secure:ForceAllow");

        await using var forced = await IgnisServer.StartAsync("--urls", "https://0.0.0.0:0", "--Ignis:Interfaces:Secure:Anonymous=Allow",
            "--Ignis:Interfaces:Secure:ForceAllow=true", "--demo");
        using var https = TlsClients.Create(forced);
        (await TlsClients.FhirGetAsync(https, "/fhir/Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.OK);
    }

    [Fact]
    public async Task OAuth_over_plain_http_is_served_to_loopback_unless_switched_off()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo");
        var loopback = await TlsClients.TokenAsync(server.Client, ("grant_type", "client_credentials"), ("client_id", "demo-backend"),
            ("client_secret", "demo-backend-secret"), ("scope", "system/*.cruds"));
        loopback.Status.ShouldBe(HttpStatusCode.OK, loopback.Body.ToJsonString());

        await using var strict = await IgnisServer.StartBothAsync("--demo", "--Ignis:Auth:AllowLoopbackHttp=false");
        using var refused = await strict.Client.PostAsync("/oauth/token", new FormUrlEncodedContent([new("grant_type", "client_credentials")]));
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        (await refused.BodyAsync())["error"].Str().ShouldBe("invalid_request");
        (await strict.Client.GetAsync("/account/login")).StatusCode.ShouldBe(HttpStatusCode.Forbidden);
        // The secure interface serves them.
        using var https = TlsClients.Create(strict);
        var secure = await TlsClients.TokenAsync(https, ("grant_type", "client_credentials"), ("client_id", "demo-backend"),
            ("client_secret", "demo-backend-secret"), ("scope", "system/*.cruds"));
        secure.Status.ShouldBe(HttpStatusCode.OK, secure.Body.ToJsonString());
    }

    [Fact]
    public async Task Discovery_follows_the_interface_the_request_came_in_on()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo");
        using var https = TlsClients.Create(server);
        var secure = await (await https.GetAsync("/.well-known/openid-configuration")).BodyAsync();
        var insecure = await (await server.Client.GetAsync("/.well-known/openid-configuration")).BodyAsync();
        secure["issuer"].Str().TrimEnd('/').ShouldBe(server.SecureOrigin!.ToString().TrimEnd('/'));
        insecure["issuer"].Str().TrimEnd('/').ShouldBe(server.Origin.ToString().TrimEnd('/'));
        var smart = await (await https.GetAsync("/fhir/.well-known/smart-configuration")).BodyAsync();
        smart["token_endpoint"].Str().ShouldBe(server.SecureOrigin.ToString().TrimEnd('/') + "/oauth/token");
    }

    [Fact]
    public async Task Without_a_public_base_url_a_token_is_bound_to_the_interface_it_was_issued_on()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo");
        using var https = TlsClients.Create(server);
        var token = await TlsClients.TokenAsync(server.Client, ("grant_type", "client_credentials"), ("client_id", "demo-backend"),
            ("client_secret", "demo-backend-secret"), ("scope", "system/*.cruds"));
        var accessToken = token.Body["access_token"].Str();
        (await TlsClients.FhirGetAsync(server.Client, "/fhir/Patient/alice", accessToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        // aud is http://127.0.0.1:<insecure port>/fhir, which the secure interface is not.
        var other = await TlsClients.FhirGetAsync(https, "/fhir/Patient/alice", accessToken);
        other.StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
        other.Headers.WwwAuthenticate.ToString().ShouldContain("invalid_token");
    }

    [Fact]
    public async Task With_a_public_base_url_a_token_from_one_interface_works_on_the_other()
    {
        await using var server = await IgnisServer.StartBothAsync("--demo", "--Ignis:PublicBaseUrl=https://fhir.example.org");
        using var https = TlsClients.Create(server);
        var token = await TlsClients.TokenAsync(server.Client, ("grant_type", "client_credentials"), ("client_id", "demo-backend"),
            ("client_secret", "demo-backend-secret"), ("scope", "system/*.cruds"));
        token.Status.ShouldBe(HttpStatusCode.OK, token.Body.ToJsonString());
        var accessToken = token.Body["access_token"].Str();
        (await TlsClients.FhirGetAsync(server.Client, "/fhir/Patient/alice", accessToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        (await TlsClients.FhirGetAsync(https, "/fhir/Patient/alice", accessToken)).StatusCode.ShouldBe(HttpStatusCode.OK);
        var discovery = await (await https.GetAsync("/.well-known/openid-configuration")).BodyAsync();
        discovery["issuer"].Str().TrimEnd('/').ShouldBe("https://fhir.example.org");
    }
}

/// <summary>X-Forwarded-* headers: applied from a configured proxy, ignored from anyone else.</summary>
public sealed class ForwardedHeadersTests
{
    private static async Task<HttpResponseMessage> ViaProxyAsync(HttpClient client, string path, string proto, string host, string forwardedFor = "203.0.113.7")
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Proto", proto);
        request.Headers.TryAddWithoutValidation("X-Forwarded-Host", host);
        request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        return await client.SendAsync(request);
    }

    [Fact]
    public async Task A_trusted_proxy_sets_the_advertised_origin_and_the_secure_interface()
    {
        await using var server = await IgnisServer.StartAsync("--demo", "--Ignis:ForwardedHeaders:KnownProxies:0=127.0.0.1");
        var discovery = await (await ViaProxyAsync(server.Client, "/.well-known/openid-configuration", "https", "fhir.example.org")).BodyAsync();
        discovery["issuer"].Str().TrimEnd('/').ShouldBe("https://fhir.example.org");
        discovery["token_endpoint"].Str().ShouldBe("https://fhir.example.org/oauth/token");
        // The client reached the proxy over https: the secure interface's policy (default Reject) applies.
        (await ViaProxyAsync(server.Client, "/fhir/Patient/alice", "https", "fhir.example.org")).StatusCode.ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_remote_client_forwarded_over_plain_http_is_refused_the_OAuth_endpoints()
    {
        await using var server = await IgnisServer.StartAsync("--demo", "--Ignis:ForwardedHeaders:KnownProxies:0=127.0.0.1");
        var refused = await ViaProxyAsync(server.Client, "/.well-known/openid-configuration", "http", "fhir.example.org");
        refused.StatusCode.ShouldBe(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task Headers_from_an_untrusted_address_are_ignored()
    {
        await using var server = await IgnisServer.StartAsync("--demo", "--Ignis:ForwardedHeaders:KnownProxies:0=10.9.8.7");
        var response = await ViaProxyAsync(server.Client, "/.well-known/openid-configuration", "https", "evil.example.org");
        response.StatusCode.ShouldBe(HttpStatusCode.OK);
        var discovery = await response.BodyAsync();
        discovery["issuer"].Str().TrimEnd('/').ShouldBe(server.Origin.ToString().TrimEnd('/'));
    }

    [Fact]
    public async Task Without_configured_proxies_forwarded_headers_are_ignored()
    {
        await using var server = await IgnisServer.StartAsync("--demo");
        var discovery = await (await ViaProxyAsync(server.Client, "/.well-known/openid-configuration", "https", "evil.example.org")).BodyAsync();
        discovery["issuer"].Str().ShouldNotContain("evil.example.org");
    }
}
