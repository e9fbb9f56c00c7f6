using System.Formats.Asn1;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Server.Auth.Mtls;

/// <summary>The certificate rules of RFC 8705 §2, apart from the OpenIddict steps that apply them.</summary>
public static class CertificateChecks
{
    private const string ClientAuthenticationOid = "1.3.6.1.5.5.7.3.2";
    private const string SubjectAlternativeNameOid = "2.5.29.17";

    /// <summary>RFC 8705 §3.1: the x5t#S256 confirmation of a certificate (base64url SHA-256 of its DER).</summary>
    public static string Thumbprint(X509Certificate2 certificate) => Base64UrlEncoder.Encode(SHA256.HashData(certificate.RawData));

    /// <summary>Issuer and subject are the same name (a self-signed or at least self-issued certificate).</summary>
    public static bool IsSelfIssued(X509Certificate2 certificate) => certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);

    public static bool IsTimeValid(X509Certificate2 certificate, DateTime utcNow) =>
        certificate.NotBefore.ToUniversalTime() <= utcNow && utcNow <= certificate.NotAfter.ToUniversalTime();

    /// <summary>An extended key usage, when the certificate has one, must include TLS client authentication.</summary>
    public static bool AllowsClientAuthentication(X509Certificate2 certificate)
    {
        var eku = certificate.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault();
        return eku is null || eku.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value == ClientAuthenticationOid);
    }

    /// <summary>
    /// PKI trust (RFC 8705 §2.1): the chain ends at one of <paramref name="roots"/>, through the configured
    /// intermediates, and every certificate is in its validity period. The system store is never consulted.
    /// </summary>
    public static bool ChainsTo(X509Certificate2 certificate, X509Certificate2Collection trusted, bool checkRevocation)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        foreach (var ca in trusted)
        {
            if (IsSelfIssued(ca)) chain.ChainPolicy.CustomTrustStore.Add(ca);
            else chain.ChainPolicy.ExtraStore.Add(ca);
        }
        chain.ChainPolicy.RevocationMode = checkRevocation ? X509RevocationMode.Online : X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        try
        {
            return chain.Build(certificate) && chain.ChainElements.Count > 1;
        }
        catch (CryptographicException)
        {
            return false;
        }
        finally
        {
            foreach (var element in chain.ChainElements) element.Certificate.Dispose();
        }
    }

    /// <summary>RFC 8705 §2.1.2: the registered subject DN or the registered SAN entry of the given type.</summary>
    public static bool MatchesSubject(X509Certificate2 certificate, TlsClientSubject registered)
    {
        switch (registered.Kind)
        {
            case TlsClientSubject.SubjectDn:
                return NormalizeDn(registered.Value) is { } dn && string.Equals(dn, certificate.SubjectName.Decode(X500DistinguishedNameFlags.None), StringComparison.OrdinalIgnoreCase);
            case TlsClientSubject.SanIp:
                return IPAddress.TryParse(registered.Value, out var ip) && SubjectAlternativeNames(certificate).Any(n => n.Tag == 7 && n.Value == ip.ToString());
            default:
                var tag = registered.Kind switch { TlsClientSubject.SanDns => 2, TlsClientSubject.SanUri => 6, TlsClientSubject.SanEmail => 1, _ => -1 };
                // dNSName and rfc822Name compare case-insensitively (RFC 5280 §7.2, §7.5); URIs exactly.
                var comparison = tag == 6 ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
                return SubjectAlternativeNames(certificate).Any(n => n.Tag == tag && string.Equals(n.Value, registered.Value, comparison));
        }
    }

    /// <summary>An RFC 4514 distinguished name in .NET's canonical form, or null when it does not parse.</summary>
    public static string? NormalizeDn(string dn)
    {
        try
        {
            // Decoded from the encoding, not the text as given, so that spacing and quoting do not matter.
            return new X500DistinguishedName(dn).Decode(X500DistinguishedNameFlags.None);
        }
        catch (CryptographicException)
        {
            return null;
        }
    }

    /// <summary>The rfc822Name (1), dNSName (2), uniformResourceIdentifier (6) and iPAddress (7) entries of the SAN extension.</summary>
    public static IReadOnlyList<(int Tag, string Value)> SubjectAlternativeNames(X509Certificate2 certificate)
    {
        var result = new List<(int, string)>();
        var extension = certificate.Extensions[SubjectAlternativeNameOid];
        if (extension is null) return result;
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER).ReadSequence();
            while (reader.HasData)
            {
                var tag = reader.PeekTag();
                if (tag.TagClass != TagClass.ContextSpecific)
                {
                    reader.ReadEncodedValue();
                    continue;
                }
                switch (tag.TagValue)
                {
                    case 1 or 2 or 6:
                        result.Add((tag.TagValue, reader.ReadCharacterString(UniversalTagNumber.IA5String, new Asn1Tag(TagClass.ContextSpecific, tag.TagValue))));
                        break;
                    case 7:
                        var bytes = reader.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 7));
                        if (bytes.Length is 4 or 16) result.Add((7, new IPAddress(bytes).ToString()));
                        break;
                    default:
                        reader.ReadEncodedValue();
                        break;
                }
            }
        }
        catch (AsnContentException)
        {
            // A malformed extension matches nothing.
        }
        return result;
    }
}
