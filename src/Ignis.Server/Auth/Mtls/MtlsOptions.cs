using System.Security.Cryptography.X509Certificates;

namespace Ignis.Server.Auth.Mtls;

/// <summary>Mutual-TLS client authentication and certificate-bound access tokens (RFC 8705). Section "Ignis:Auth:Mtls".</summary>
public sealed class MtlsOptions
{
    public const string Section = "Ignis:Auth:Mtls";

    /// <summary>
    /// CA certificates (PEM or DER files; roots and intermediates) whose client certificates tls_client_auth accepts.
    /// Empty: tls_client_auth is not offered.
    /// </summary>
    public string[] TrustedCaCertificates { get; set; } = [];

    /// <summary>Offer self_signed_tls_client_auth: a certificate registered in the client's jwks (x5c).</summary>
    public bool SelfSigned { get; set; } = true;

    /// <summary>Check revocation (CRL/OCSP, online) of tls_client_auth chains.</summary>
    public bool CheckRevocation { get; set; }

    /// <summary>
    /// Bind every access token of a client that authenticated with mTLS to its certificate (cnf x5t#S256). Off: only
    /// clients registered with tls_client_certificate_bound_access_tokens=true get bound tokens.
    /// </summary>
    public bool BindAccessTokens { get; set; } = true;
}

/// <summary>RFC 8705 §2.1.2: the one certificate subject a tls_client_auth client registers.</summary>
public sealed record TlsClientSubject(string Kind, string Value)
{
    public const string SubjectDn = "tls_client_auth_subject_dn";
    public const string SanDns = "tls_client_auth_san_dns";
    public const string SanUri = "tls_client_auth_san_uri";
    public const string SanIp = "tls_client_auth_san_ip";
    public const string SanEmail = "tls_client_auth_san_email";

    public static readonly string[] Kinds = [SubjectDn, SanDns, SanUri, SanIp, SanEmail];
}

/// <summary>Client metadata of RFC 8705 kept in the application's Properties JSON (see <see cref="ClientProperties"/>).</summary>
public static class MtlsClientProperties
{
    public const string TlsClientAuthMethod = "tls_client_auth";
    public const string SelfSignedTlsClientAuthMethod = "self_signed_tls_client_auth";

    /// <summary>Which of the five RFC 8705 subject fields the client registered (string, one of <see cref="TlsClientSubject.Kinds"/>).</summary>
    public const string SubjectKind = "ignis_tls_client_auth_subject_kind";

    /// <summary>Its value (string).</summary>
    public const string SubjectValue = "ignis_tls_client_auth_subject_value";

    /// <summary>RFC 8705 §3.4 tls_client_certificate_bound_access_tokens (boolean).</summary>
    public const string BoundAccessTokens = "ignis_tls_client_certificate_bound_access_tokens";

    public static bool IsMtls(string? method) => method is TlsClientAuthMethod or SelfSignedTlsClientAuthMethod;
}

/// <summary>The error_description of every mTLS client-authentication failure; tests assert against these constants.</summary>
public static class MtlsErrors
{
    public const string NoCertificate = "This client is registered for mutual-TLS authentication: present its certificate in the TLS handshake (https, the secure interface).";
    public const string OtherCredentials = "This client is registered for mutual-TLS authentication: a client_secret or client_assertion is not accepted.";
    public const string SelfSignedForPki = "This client is registered for tls_client_auth: its certificate must be issued by a trusted CA, not self-signed.";
    public const string PkiForSelfSigned = "This client is registered for self_signed_tls_client_auth: present the self-signed certificate it registered.";
    public const string Untrusted = "The client certificate does not chain to a CA this server trusts for tls_client_auth, or is outside its validity period.";
    public const string NotClientCertificate = "The client certificate's extended key usage does not allow TLS client authentication.";
    public const string SubjectMismatch = "The client certificate's subject does not match the one the client registered (tls_client_auth_*).";
    public const string NoSubjectRegistered = "This client registered no certificate subject (tls_client_auth_subject_dn or a tls_client_auth_san_* value).";
    public const string NotRegistered = "The client certificate is not one of the certificates in the client's registered jwks (x5c).";
    public const string Expired = "The client certificate is outside its validity period.";
}

/// <summary>Reads certificate files named in configuration: PEM (one or more certificates) or DER.</summary>
public static class CertificateFiles
{
    public static X509Certificate2Collection Load(IEnumerable<string> paths, string key)
    {
        var collection = new X509Certificate2Collection();
        foreach (var path in paths)
        {
            if (!File.Exists(path)) throw new InvalidOperationException($"{key} names '{path}', which does not exist.");
            try
            {
                var text = File.ReadAllText(path);
                if (text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)) collection.ImportFromPemFile(path);
                else collection.Add(X509CertificateLoader.LoadCertificateFromFile(path));
            }
            catch (System.Security.Cryptography.CryptographicException e)
            {
                throw new InvalidOperationException($"{key}: '{path}' is not a PEM or DER certificate ({e.Message}).", e);
            }
        }
        return collection;
    }
}
