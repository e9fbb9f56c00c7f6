using System.Net;
using System.Net.Http.Headers;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json.Nodes;
using Ignis.Server.Hosting.Interfaces;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Tls;

/// <summary>Certificates made in the test with .NET's CertificateRequest: a CA, certificates it issues, self-signed ones.</summary>
public static class TestCertificates
{
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";

    public static X509Certificate2 CreateCa(string name = "CN=Ignis Test CA,O=Ignis Tests")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(name, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        return Reload(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1)));
    }

    /// <summary>A client certificate issued by <paramref name="ca"/> with the given subject and SANs.</summary>
    public static X509Certificate2 Issue(X509Certificate2 ca, string subject, Action<SubjectAlternativeNameBuilder>? sans = null,
        bool clientAuth = true, DateTimeOffset? notAfter = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(clientAuth ? ClientAuthOid : ServerAuthOid)], false));
        if (sans is not null)
        {
            var builder = new SubjectAlternativeNameBuilder();
            sans(builder);
            request.CertificateExtensions.Add(builder.Build());
        }
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        var end = notAfter ?? DateTimeOffset.UtcNow.AddMonths(6);
        using var issued = request.Create(ca, DateTimeOffset.UtcNow.AddDays(-1), end, serial);
        return Reload(issued.CopyWithPrivateKey(key));
    }

    /// <summary>A self-signed client certificate (self_signed_tls_client_auth).</summary>
    public static X509Certificate2 SelfSigned(string subject = "CN=self-signed test client")
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuthOid)], false));
        return Reload(request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddMonths(6)));
    }

    /// <summary>A PKCS#12 round trip: the key becomes one SslStream can use on every platform.</summary>
    private static X509Certificate2 Reload(X509Certificate2 certificate)
    {
        using (certificate) return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    public static string WritePem(X509Certificate2 certificate, string directory, string name)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllText(path, certificate.ExportCertificatePem());
        return path;
    }

    public static string Sha256Hex(X509Certificate2 certificate) => Convert.ToHexString(SHA256.HashData(certificate.RawData));

    /// <summary>The public JWK of a certificate's key with the certificate in x5c (RFC 7517 §4.7).</summary>
    public static JsonObject JwksWithCertificate(X509Certificate2 certificate)
    {
        var ec = certificate.GetECDsaPublicKey()!.ExportParameters(false);
        return new JsonObject
        {
            ["keys"] = new JsonArray(new JsonObject
            {
                ["kty"] = "EC",
                ["crv"] = "P-256",
                ["x"] = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(ec.Q.X),
                ["y"] = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(ec.Q.Y),
                ["x5c"] = new JsonArray(Convert.ToBase64String(certificate.RawData)),
            }),
        };
    }
}

/// <summary>HttpClients for the secure interface: the server certificate pinned (it is self-signed), an optional client certificate.</summary>
public static class TlsClients
{
    /// <summary>The server's certificate as the secure interface presents it (read from the data folder).</summary>
    public static X509Certificate2 ServerCertificate(IgnisServer server) =>
        X509CertificateLoader.LoadPkcs12FromFile(Path.Combine(Hosting.Interfaces.ServerCertificate.Directory(server.DataDirectory), Hosting.Interfaces.ServerCertificate.SelfSignedFile), null);

    public static HttpClient Create(IgnisServer server, X509Certificate2? clientCertificate = null, X509Certificate2? pinned = null)
    {
        pinned ??= ServerCertificate(server);
        var expected = pinned.RawData;
        var handler = new SocketsHttpHandler
        {
            UseCookies = false,
            AllowAutoRedirect = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                // The secure interface's certificate is self-signed: trust exactly that one.
                RemoteCertificateValidationCallback = (_, certificate, _, _) => certificate is not null && certificate.GetRawCertData().AsSpan().SequenceEqual(expected),
            },
        };
        if (clientCertificate is not null)
        {
            handler.SslOptions.ClientCertificates = [clientCertificate];
            handler.SslOptions.LocalCertificateSelectionCallback = (_, _, _, _, _) => clientCertificate;
        }
        return new HttpClient(handler) { BaseAddress = server.SecureOrigin, Timeout = TimeSpan.FromSeconds(60) };
    }

    public static async Task<(HttpStatusCode Status, JsonNode Body)> TokenAsync(HttpClient client, params (string Name, string Value)[] form)
    {
        using var response = await client.PostAsync("/oauth/token", new FormUrlEncodedContent(form.Select(f => new KeyValuePair<string, string>(f.Name, f.Value))));
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonNode.Parse(text) ?? new JsonObject());
    }

    public static async Task<HttpResponseMessage> FhirGetAsync(HttpClient client, string path, string? token = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/fhir+json"));
        if (token is not null) request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await client.SendAsync(request);
    }

    /// <summary>Registers a client at /oauth/register (open in demo mode) and returns its client_id.</summary>
    public static async Task<string> RegisterAsync(HttpClient client, JsonObject metadata)
    {
        using var response = await client.PostAsync("/oauth/register", new StringContent(metadata.ToJsonString(), System.Text.Encoding.UTF8, "application/json"));
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(201, text);
        return JsonNode.Parse(text)!["client_id"]!.GetValue<string>();
    }
}
