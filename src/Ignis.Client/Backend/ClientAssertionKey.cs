using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Client;

/// <summary>
/// The private key a backend service signs its client assertions with (SMART Backend Services, RFC 7523
/// <c>private_key_jwt</c>): RSA with RS384 or EC P-384 with ES384, read from PEM or from a private JWK.
/// </summary>
public sealed class ClientAssertionKey
{
    private ClientAssertionKey(AsymmetricSecurityKey key, string algorithm)
    {
        SecurityKey = key;
        Algorithm = algorithm;
        KeyId = key.KeyId;
    }

    /// <summary>The key.</summary>
    public AsymmetricSecurityKey SecurityKey { get; }

    /// <summary>The JWS algorithm: <c>RS384</c> or <c>ES384</c> (SMART requires servers to accept both).</summary>
    public string Algorithm { get; }

    /// <summary>The <c>kid</c> header: the JWK's own, the one given, or the RFC 7638 thumbprint of the public key.</summary>
    public string KeyId { get; }

    /// <summary>Reads a PEM private key (PKCS#8, PKCS#1 RSA or SEC1 EC).</summary>
    /// <param name="pem">The PEM text.</param>
    /// <param name="keyId">The <c>kid</c> the server knows the public key by; null for the RFC 7638 thumbprint.</param>
    public static ClientAssertionKey FromPem(string pem, string? keyId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(pem);
        if (pem.Contains("EC PRIVATE KEY", StringComparison.Ordinal) || IsEc(pem))
        {
            var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            if (ec.KeySize != 384) throw new ArgumentException($"An EC key for ES384 must be on P-384; this one has {ec.KeySize} bits.", nameof(pem));
            return new ClientAssertionKey(new ECDsaSecurityKey(ec) { KeyId = keyId ?? Thumbprint(JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(ec))) }, SecurityAlgorithms.EcdsaSha384);
        }
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException("The PEM holds no RSA or EC private key.", nameof(pem), e);
        }
        if (rsa.KeySize < 2048) throw new ArgumentException($"An RSA key must have at least 2048 bits; this one has {rsa.KeySize}.", nameof(pem));
        return new ClientAssertionKey(new RsaSecurityKey(rsa) { KeyId = keyId ?? Thumbprint(JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.ExportParameters(false)))) },
            SecurityAlgorithms.RsaSha384);
    }

    /// <summary>Reads a private JWK (<c>kty</c> RSA or EC P-384, with <c>d</c>); its <c>kid</c> is used when present.</summary>
    public static ClientAssertionKey FromJwk(string json)
    {
        var node = JsonNode.Parse(json) as JsonObject ?? throw new ArgumentException("The JWK is not a JSON object.", nameof(json));
        // A JWK Set with one key is accepted too.
        if (node["keys"] is JsonArray keys)
            node = keys.OfType<JsonObject>().FirstOrDefault(k => k["d"] is not null) ?? throw new ArgumentException("The JWK Set has no private key.", nameof(json));
        var jwk = new JsonWebKey(node.ToJsonString());
        if (string.IsNullOrEmpty(jwk.D)) throw new ArgumentException("The JWK has no private part (d).", nameof(json));
        var kid = string.IsNullOrEmpty(jwk.Kid) ? null : jwk.Kid;
        if (jwk.Kty == JsonWebAlgorithmsKeyTypes.EllipticCurve)
        {
            if (jwk.Crv != "P-384") throw new ArgumentException($"An EC key for ES384 must be on P-384; this one is {jwk.Crv}.", nameof(json));
            var ec = ECDsa.Create(new ECParameters
            {
                Curve = ECCurve.NamedCurves.nistP384,
                D = Base64UrlEncoder.DecodeBytes(jwk.D),
                Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(jwk.X), Y = Base64UrlEncoder.DecodeBytes(jwk.Y) },
            });
            return new ClientAssertionKey(new ECDsaSecurityKey(ec) { KeyId = kid ?? Thumbprint(jwk) }, SecurityAlgorithms.EcdsaSha384);
        }
        if (jwk.Kty == JsonWebAlgorithmsKeyTypes.RSA)
        {
            var rsa = RSA.Create(new RSAParameters
            {
                Modulus = Base64UrlEncoder.DecodeBytes(jwk.N),
                Exponent = Base64UrlEncoder.DecodeBytes(jwk.E),
                D = Base64UrlEncoder.DecodeBytes(jwk.D),
                P = Base64UrlEncoder.DecodeBytes(jwk.P),
                Q = Base64UrlEncoder.DecodeBytes(jwk.Q),
                DP = Base64UrlEncoder.DecodeBytes(jwk.DP),
                DQ = Base64UrlEncoder.DecodeBytes(jwk.DQ),
                InverseQ = Base64UrlEncoder.DecodeBytes(jwk.QI),
            });
            return new ClientAssertionKey(new RsaSecurityKey(rsa) { KeyId = kid ?? Thumbprint(jwk) }, SecurityAlgorithms.RsaSha384);
        }
        throw new ArgumentException($"Key type {jwk.Kty} is not supported; use RSA (RS384) or EC P-384 (ES384).", nameof(json));
    }

    /// <summary>Reads a key file: PEM, or JSON (a JWK or a JWK Set).</summary>
    public static ClientAssertionKey FromFile(string path, string? keyId = null)
    {
        var text = File.ReadAllText(path);
        return text.TrimStart().StartsWith('{') ? FromJwk(text) : FromPem(text, keyId);
    }

    /// <summary>The public key as a JWK (with <c>kid</c>, <c>alg</c> and <c>use</c>=sig), to register at the server.</summary>
    public JsonObject PublicJwk()
    {
        var jwk = SecurityKey switch
        {
            RsaSecurityKey rsa => JsonWebKeyConverter.ConvertFromRSASecurityKey(new RsaSecurityKey(rsa.Rsa?.ExportParameters(false) ?? rsa.Parameters)),
            ECDsaSecurityKey ec => JsonWebKeyConverter.ConvertFromECDsaSecurityKey(new ECDsaSecurityKey(PublicOnly(ec.ECDsa))),
            _ => throw new InvalidOperationException("Unsupported key."),
        };
        var result = new JsonObject { ["kty"] = jwk.Kty };
        if (jwk.Kty == "RSA") { result["n"] = jwk.N; result["e"] = jwk.E; }
        else { result["crv"] = jwk.Crv; result["x"] = jwk.X; result["y"] = jwk.Y; }
        result["kid"] = KeyId;
        result["alg"] = Algorithm;
        result["use"] = "sig";
        return result;
    }

    private static ECDsa PublicOnly(ECDsa ec)
    {
        var copy = ECDsa.Create();
        copy.ImportParameters(ec.ExportParameters(false));
        return copy;
    }

    private static bool IsEc(string pem)
    {
        try
        {
            using var ec = ECDsa.Create();
            ec.ImportFromPem(pem);
            return true;
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            return false;
        }
    }

    private static string Thumbprint(JsonWebKey jwk) => Base64UrlEncoder.Encode(jwk.ComputeJwkThumbprint());
}
