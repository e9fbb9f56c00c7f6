using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Auth.Clients;
using OpenIddict.Abstractions;

namespace Ignis.Server.Auth.Mtls;

/// <summary>RFC 8705 §2.1.2 and §3.4 client metadata: read from and written to registration JSON, checked, and stored in Properties.</summary>
public static class MtlsClientMetadata
{
    /// <summary>The tls_client_auth_* subject in a registration request; an error when more than one is given.</summary>
    public static TlsClientSubject? ReadSubject(JsonObject json, ref string? problem)
    {
        TlsClientSubject? subject = null;
        foreach (var kind in TlsClientSubject.Kinds)
        {
            if (!json.TryGetPropertyValue(kind, out var node) || node is null) continue;
            if (node.GetValueKind() != JsonValueKind.String)
            {
                problem ??= $"'{kind}' must be a string.";
                continue;
            }
            if (subject is not null)
            {
                problem ??= "Send exactly one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email (RFC 8705 §2.1.2).";
                continue;
            }
            subject = new TlsClientSubject(kind, node.GetValue<string>());
        }
        return subject;
    }

    public static bool? ReadBoundAccessTokens(JsonObject json, ref string? problem)
    {
        if (!json.TryGetPropertyValue("tls_client_certificate_bound_access_tokens", out var node) || node is null) return null;
        if (node.GetValueKind() is JsonValueKind.True or JsonValueKind.False) return node.GetValue<bool>();
        problem ??= "'tls_client_certificate_bound_access_tokens' must be true or false.";
        return null;
    }

    public static void Write(JsonObject json, ClientMetadata m)
    {
        if (m.TlsClientSubject is { } subject) json[subject.Kind] = subject.Value;
        if (m.TlsClientCertificateBoundAccessTokens is { } bound) json["tls_client_certificate_bound_access_tokens"] = bound;
    }

    /// <summary>tls_client_auth needs exactly one well-formed subject; self_signed_tls_client_auth needs certificates (x5c) in jwks.</summary>
    public static ClientError? Validate(ClientMetadata m)
    {
        var method = m.TokenEndpointAuthMethod;
        if (m.TlsClientSubject is { } subject)
        {
            if (method != MtlsClientProperties.TlsClientAuthMethod)
                return ClientError.InvalidMetadata($"'{subject.Kind}' is for token_endpoint_auth_method 'tls_client_auth' only.");
            var problem = subject.Kind switch
            {
                _ when string.IsNullOrWhiteSpace(subject.Value) || subject.Value.Length > 1024 => "must be a non-empty string of at most 1024 characters",
                TlsClientSubject.SubjectDn when CertificateChecks.NormalizeDn(subject.Value) is null => "must be a distinguished name as RFC 4514 writes it, e.g. CN=lab-system,O=Example Hospital,C=DE",
                TlsClientSubject.SanIp when !IPAddress.TryParse(subject.Value, out _) => "must be an IPv4 or IPv6 address",
                TlsClientSubject.SanUri when !Uri.TryCreate(subject.Value, UriKind.Absolute, out _) => "must be an absolute URI",
                TlsClientSubject.SanEmail when !subject.Value.Contains('@') => "must be an e-mail address",
                _ => null,
            };
            if (problem is not null) return ClientError.InvalidMetadata($"'{subject.Kind}' {problem}.");
        }
        else if (method == MtlsClientProperties.TlsClientAuthMethod)
        {
            return ClientError.InvalidMetadata("'tls_client_auth' needs the certificate subject the client will present: send one of tls_client_auth_subject_dn, tls_client_auth_san_dns, tls_client_auth_san_uri, tls_client_auth_san_ip, tls_client_auth_san_email.");
        }
        if (method == MtlsClientProperties.SelfSignedTlsClientAuthMethod)
        {
            if (m.JwksUri is not null)
                return ClientError.InvalidMetadata("'self_signed_tls_client_auth' takes its certificates from 'jwks' (x5c); 'jwks_uri' is not supported for it.");
            var certificates = (m.Jwks?["keys"] as JsonArray ?? []).OfType<JsonObject>().SelectMany(k => k["x5c"] as JsonArray ?? []).ToList();
            if (certificates.Count == 0)
                return ClientError.InvalidMetadata("'self_signed_tls_client_auth' needs the client's certificate: send 'jwks' with the certificate in a key's 'x5c'.");
            foreach (var node in certificates)
            {
                try
                {
                    using var certificate = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(node?.GetValue<string>() ?? ""));
                    if (!CertificateChecks.IsSelfIssued(certificate))
                        return ClientError.InvalidMetadata("'self_signed_tls_client_auth': each certificate in 'x5c' must be self-signed (use tls_client_auth for CA-issued certificates).");
                }
                catch (Exception e) when (e is FormatException or InvalidOperationException or System.Security.Cryptography.CryptographicException)
                {
                    return ClientError.InvalidMetadata("'x5c' entries must be base64 DER certificates (RFC 7517 §4.7).");
                }
            }
        }
        if (m.TlsClientCertificateBoundAccessTokens == true && !MtlsClientProperties.IsMtls(method))
            return ClientError.InvalidMetadata("'tls_client_certificate_bound_access_tokens' needs a client that authenticates with mTLS (tls_client_auth or self_signed_tls_client_auth).");
        return null;
    }

    public static void Describe(ClientMetadata m, OpenIddictApplicationDescriptor d)
    {
        Set(d, MtlsClientProperties.SubjectKind, m.TlsClientSubject?.Kind is { } kind ? JsonSerializer.SerializeToElement(kind) : null);
        Set(d, MtlsClientProperties.SubjectValue, m.TlsClientSubject?.Value is { } value ? JsonSerializer.SerializeToElement(value) : null);
        Set(d, MtlsClientProperties.BoundAccessTokens, m.TlsClientCertificateBoundAccessTokens is { } bound ? JsonSerializer.SerializeToElement(bound) : null);
    }

    public static ClientMetadata Read(ClientMetadata m, IReadOnlyDictionary<string, JsonElement> properties) => m with
    {
        TlsClientSubject = MtlsClientHandlers.RegisteredSubject(properties),
        TlsClientCertificateBoundAccessTokens = properties.TryGetValue(MtlsClientProperties.BoundAccessTokens, out var bound)
            && bound.ValueKind is JsonValueKind.True or JsonValueKind.False ? bound.GetBoolean() : null,
    };

    private static void Set(OpenIddictApplicationDescriptor d, string name, JsonElement? value)
    {
        if (value is { } v) d.Properties[name] = v;
        else d.Properties.Remove(name);
    }
}
