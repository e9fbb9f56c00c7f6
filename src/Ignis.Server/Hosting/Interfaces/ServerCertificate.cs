using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ignis.Server.Hosting.Interfaces;

/// <summary>
/// The certificate of the secure interface: the one configured (PFX, or PEM certificate and key), or a self-signed
/// one made on first start under {DataDirectory}/tls and reused afterwards, so clients that pinned it keep working.
/// </summary>
public static partial class ServerCertificate
{
    public const string SelfSignedFile = "self-signed.pfx";

    /// <summary>The folder of the self-signed certificate.</summary>
    public static string Directory(string dataDirectory) => Path.Combine(dataDirectory, "tls");

    public static X509Certificate2 Load(TlsOptions tls, string dataDirectory, ILogger logger)
    {
        X509Certificate2 certificate;
        if (!string.IsNullOrEmpty(tls.CertificatePath))
        {
            certificate = LoadConfigured(tls);
            LogConfigured(logger, tls.CertificatePath, certificate.Subject, Fingerprint(certificate), certificate.NotAfter);
        }
        else
        {
            certificate = LoadOrCreateSelfSigned(Directory(dataDirectory), logger);
        }
        if (!certificate.HasPrivateKey)
            throw new InvalidOperationException(
                $"The certificate in {TlsOptions.Section}:CertificatePath has no private key: give a PFX with its key, or set {TlsOptions.Section}:KeyPath to the PEM key.");
        return certificate;
    }

    private static X509Certificate2 LoadConfigured(TlsOptions tls)
    {
        var path = tls.CertificatePath!;
        if (!File.Exists(path))
            throw new InvalidOperationException($"{TlsOptions.Section}:CertificatePath names '{path}', which does not exist.");
        try
        {
            var isPem = File.ReadAllText(path).Contains("-----BEGIN", StringComparison.Ordinal);
            if (!isPem) return X509CertificateLoader.LoadPkcs12FromFile(path, tls.CertificatePassword);

            var keyPath = string.IsNullOrEmpty(tls.KeyPath) ? null : tls.KeyPath;
            if (keyPath is not null && !File.Exists(keyPath))
                throw new InvalidOperationException($"{TlsOptions.Section}:KeyPath names '{keyPath}', which does not exist.");
            using var pem = string.IsNullOrEmpty(tls.CertificatePassword)
                ? X509Certificate2.CreateFromPemFile(path, keyPath)
                : X509Certificate2.CreateFromEncryptedPemFile(path, tls.CertificatePassword, keyPath);
            // SslStream needs a key it can persist on some platforms; a PKCS#12 round trip gives it one.
            return X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null);
        }
        catch (CryptographicException e)
        {
            throw new InvalidOperationException(
                $"The certificate in {TlsOptions.Section}:CertificatePath ('{path}') could not be read: {e.Message} " +
                $"Give a PFX (with {TlsOptions.Section}:CertificatePassword if it has one) or a PEM certificate with its key ({TlsOptions.Section}:KeyPath).", e);
        }
    }

    private static X509Certificate2 LoadOrCreateSelfSigned(string directory, ILogger logger)
    {
        var path = Path.Combine(directory, SelfSignedFile);
        if (File.Exists(path))
        {
            var existing = X509CertificateLoader.LoadPkcs12FromFile(path, null);
            if (existing.NotAfter.ToUniversalTime() > DateTime.UtcNow.AddDays(1))
            {
                LogSelfSigned(logger, path, Fingerprint(existing), existing.NotAfter);
                return existing;
            }
            LogExpired(logger, path);
            existing.Dispose();
        }
        System.IO.Directory.CreateDirectory(directory);
        var created = CreateSelfSigned();
        var temp = path + ".tmp";
        File.WriteAllBytes(temp, created.Export(X509ContentType.Pkcs12));
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temp, path, overwrite: true);
        LogCreated(logger, path, Fingerprint(created), created.NotAfter);
        var loaded = X509CertificateLoader.LoadPkcs12FromFile(path, null);
        created.Dispose();
        return loaded;
    }

    /// <summary>RSA 2048, valid for localhost, the machine name and the loopback addresses, for two years.</summary>
    public static X509Certificate2 CreateSelfSigned()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Ignis self-signed", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName("localhost");
        if (!string.Equals(Environment.MachineName, "localhost", StringComparison.OrdinalIgnoreCase) && Uri.CheckHostName(Environment.MachineName) == UriHostNameType.Dns)
            names.AddDnsName(Environment.MachineName.ToLowerInvariant());
        names.AddIpAddress(IPAddress.Loopback);
        names.AddIpAddress(IPAddress.IPv6Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        var now = DateTimeOffset.UtcNow;
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(2));
    }

    /// <summary>SHA-256 of the certificate, as browsers show it: upper-case hex pairs separated by colons.</summary>
    public static string Fingerprint(X509Certificate2 certificate) =>
        string.Join(':', SHA256.HashData(certificate.RawData).Select(b => b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture)));

    [LoggerMessage(EventId = 1100, Level = LogLevel.Information, Message = "Secure interface: certificate {Path} ({Subject}), SHA-256 fingerprint {Fingerprint}, valid until {NotAfter:u}")]
    private static partial void LogConfigured(ILogger logger, string path, string subject, string fingerprint, DateTime notAfter);

    [LoggerMessage(EventId = 1101, Level = LogLevel.Warning, Message = "Secure interface: self-signed certificate {Path}, SHA-256 fingerprint {Fingerprint}, valid until {NotAfter:u}. Clients must trust or pin it; configure Ignis:Tls:CertificatePath for a CA-issued one.")]
    private static partial void LogSelfSigned(ILogger logger, string path, string fingerprint, DateTime notAfter);

    [LoggerMessage(EventId = 1102, Level = LogLevel.Warning, Message = "Secure interface: made a self-signed certificate {Path}, SHA-256 fingerprint {Fingerprint}, valid until {NotAfter:u}. Clients must trust or pin it; configure Ignis:Tls:CertificatePath for a CA-issued one.")]
    private static partial void LogCreated(ILogger logger, string path, string fingerprint, DateTime notAfter);

    [LoggerMessage(EventId = 1103, Level = LogLevel.Warning, Message = "Secure interface: the self-signed certificate {Path} has expired or expires within a day; making a new one")]
    private static partial void LogExpired(ILogger logger, string path);
}
