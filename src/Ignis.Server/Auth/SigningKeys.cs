using System.Security.Cryptography;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Server.Auth;

/// <summary>
/// The server's persistent keys: an RSA key that signs access and id tokens (RS256, published at /oauth/jwks)
/// and a symmetric key that encrypts authorization codes and refresh tokens (only this server reads them).
/// Generated on first start into the key directory (files readable by the owner only) and reused afterwards,
/// so tokens survive restarts; never ephemeral or development certificates.
/// </summary>
public sealed class SigningKeys
{
    private const string RsaFile = "signing-rsa.pem";
    private const string RetiredPattern = "signing-rsa.retired-*.pem";
    private const string AesFile = "encryption-aes256.key";
    private const string EcFile = "signing-ec-p256.pem";

    private SigningKeys(RsaSecurityKey signing, IReadOnlyList<RsaSecurityKey> retired, SymmetricSecurityKey encryption, SymmetricSecurityKey internalSigning)
    {
        Signing = signing;
        Retired = retired;
        Encryption = encryption;
        InternalSigning = internalSigning;
    }

    public RsaSecurityKey Signing { get; }

    /// <summary>Keys that signed before the last rotations (<c>ignis keys rotate</c>), newest first: published and accepted, never used to sign.</summary>
    public IReadOnlyList<RsaSecurityKey> Retired { get; }

    public SymmetricSecurityKey Encryption { get; }

    /// <summary>
    /// HMAC-SHA256 key for the payloads of authorization codes and refresh tokens, which only this server reads
    /// (they are reference tokens: the client holds a random id, the payload stays in the token table). Derived
    /// from the AES key with HKDF, so no key file is added and the two uses never share key bytes.
    /// </summary>
    public SymmetricSecurityKey InternalSigning { get; }

    /// <summary>
    /// Retires the signing key: it is renamed signing-rsa.retired-{time}.pem (still published in the JWKS and accepted
    /// for the tokens it signed) and a new signing-rsa.pem is made. Only the newest <paramref name="keepRetired"/> retired
    /// keys are kept. The server reads the keys at start-up: restart every node afterwards.
    /// </summary>
    public static (string OldKeyId, string NewKeyId, IReadOnlyList<string> Deleted) Rotate(string directory, int keepRetired)
    {
        var old = LoadOrCreate(directory).Signing.KeyId;
        var current = Path.Combine(directory, RsaFile);
        File.Move(current, Path.Combine(directory, $"signing-rsa.retired-{DateTime.UtcNow:yyyyMMddHHmmssfff}.pem"));
        var deleted = new List<string>();
        foreach (var stale in RetiredFiles(directory).Skip(Math.Max(keepRetired, 0)))
        {
            File.Delete(stale);
            deleted.Add(Path.GetFileName(stale));
        }
        return (old, LoadOrCreate(directory).Signing.KeyId, deleted);
    }

    private static IEnumerable<string> RetiredFiles(string directory) =>
        Directory.EnumerateFiles(directory, RetiredPattern).OrderDescending(StringComparer.Ordinal);

    public static SigningKeys LoadOrCreate(string directory)
    {
        Directory.CreateDirectory(directory);
        if (!OperatingSystem.IsWindows())
            File.SetUnixFileMode(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);

        var rsa = RSA.Create();
        rsa.ImportFromPem(ReadOrCreate(Path.Combine(directory, RsaFile), () =>
        {
            using var fresh = RSA.Create(2048);
            return fresh.ExportPkcs8PrivateKeyPem();
        }));
        var signing = new RsaSecurityKey(rsa) { KeyId = KeyIdOf(rsa) };
        var retired = RetiredFiles(directory).Select(file =>
        {
            var old = RSA.Create();
            old.ImportFromPem(File.ReadAllText(file));
            return new RsaSecurityKey(old) { KeyId = KeyIdOf(old) };
        }).ToList();

        var aes = Convert.FromBase64String(ReadOrCreate(Path.Combine(directory, AesFile),
            () => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))).Trim());
        if (aes.Length != 32)
            throw new InvalidOperationException($"{Path.Combine(directory, AesFile)} must hold a base64 AES-256 key (32 bytes); delete it to have a new one made.");
        return new SigningKeys(signing, retired, new SymmetricSecurityKey(aes), InternalKey(aes));
    }

    /// <summary>The HMAC key for codes and refresh tokens, derived from the AES key (see <see cref="InternalSigning"/>).</summary>
    internal static SymmetricSecurityKey InternalKey(byte[] aes) =>
        new(HKDF.DeriveKey(HashAlgorithmName.SHA256, aes, 32, info: System.Text.Encoding.ASCII.GetBytes("Ignis internal token signing"))) { KeyId = "ignis-internal" };

    /// <summary>The EC P-256 key that signs access tokens when ES256 is configured, made on first use like the others.</summary>
    public static ECDsaSecurityKey LoadOrCreateEc(string directory)
    {
        Directory.CreateDirectory(directory);
        var ec = ECDsa.Create();
        ec.ImportFromPem(ReadOrCreate(Path.Combine(directory, EcFile), () =>
        {
            using var fresh = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            return fresh.ExportPkcs8PrivateKeyPem();
        }));
        if (ec.ExportParameters(false).Curve.Oid.FriendlyName is not ("nistP256" or "ECDSA_P256"))
            throw new InvalidOperationException($"{Path.Combine(directory, EcFile)} must hold a P-256 key; delete it to have a new one made.");
        return new ECDsaSecurityKey(ec) { KeyId = KeyIdOf(ec) };
    }

    /// <summary>The RFC 7638 thumbprint of a P-256 public key: crv, kty, x, y in that order.</summary>
    internal static string KeyIdOf(ECDsa ec)
    {
        var p = ec.ExportParameters(false);
        var json = $"{{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"{Base64UrlEncoder.Encode(p.Q.X)}\",\"y\":\"{Base64UrlEncoder.Encode(p.Q.Y)}\"}}";
        return Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    /// <summary>A stable key id: the RFC 7638 thumbprint of the public key.</summary>
    internal static string KeyIdOf(RSA rsa)
    {
        var p = rsa.ExportParameters(false);
        var json = $"{{\"e\":\"{Base64UrlEncoder.Encode(p.Exponent)}\",\"kty\":\"RSA\",\"n\":\"{Base64UrlEncoder.Encode(p.Modulus)}\"}}";
        return Base64UrlEncoder.Encode(SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(json)));
    }

    private static string ReadOrCreate(string path, Func<string> create)
    {
        if (File.Exists(path)) return File.ReadAllText(path);
        var content = create();
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            using (var stream = new FileStream(path, options))
            using (var writer = new StreamWriter(stream))
                writer.Write(content);
            return content;
        }
        catch (IOException) when (File.Exists(path))
        {
            // Another process made it first: use theirs.
            return File.ReadAllText(path);
        }
    }
}
