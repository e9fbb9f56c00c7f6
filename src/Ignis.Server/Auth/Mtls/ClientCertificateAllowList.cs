using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ignis.Server.Fhir;
using Ignis.Server.Hosting;
using Ignis.Server.Hosting.Interfaces;
using Ignis.Smart.Access;
using Ignis.Smart.Scopes;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Auth.Mtls;

/// <summary>
/// Client software known by its TLS certificate (seed 002, "Certificates + JWT"). An entry names a certificate by
/// its SHA-256 thumbprint, or every certificate issued by a CA. A request with a bearer token is decided by the
/// token alone (a token bound to a certificate must come with that certificate). A request without a token and
/// with an allow-listed certificate gets exactly the entry's <see cref="ClientCertificateEntry.Scopes"/> (system
/// scopes; none unless configured, so a listed certificate alone opens nothing); any other certificate is "not
/// recognised" and the interface's Anonymous policy applies. Section "Ignis:Fhir:ClientCertificates".
/// </summary>
public sealed class ClientCertificateEntry
{
    /// <summary>Who the client is, for the log and the admin.</summary>
    public string Name { get; set; } = "";

    /// <summary>SHA-256 of the certificate (DER) in hex, colons allowed.</summary>
    public string? Thumbprint { get; set; }

    /// <summary>A root CA certificate file (PEM or DER): every certificate it issued (valid, client authentication) matches.</summary>
    public string? IssuerCertificatePath { get; set; }

    /// <summary>System scopes granted to a request that presents the certificate without a token, e.g. "system/Observation.rs". Empty: none.</summary>
    public string Scopes { get; set; } = "";
}

public sealed partial class ClientCertificateAllowList
{
    public const string Section = "Ignis:Fhir:ClientCertificates";

    private readonly IReadOnlyList<(ClientCertificateEntry Entry, string? Thumbprint, X509Certificate2Collection? Issuer, ScopeSet Scopes)> _entries;
    private readonly TimeProvider _clock;
    private readonly ILogger<ClientCertificateAllowList> _logger;

    public ClientCertificateAllowList(IConfiguration configuration, TimeProvider clock, ILogger<ClientCertificateAllowList> logger)
    {
        _clock = clock;
        _logger = logger;
        var entries = configuration.GetSection(Section).Get<ClientCertificateEntry[]>() ?? [];
        var list = new List<(ClientCertificateEntry, string?, X509Certificate2Collection?, ScopeSet)>();
        for (var i = 0; i < entries.Length; i++)
        {
            var e = entries[i];
            var key = $"{Section}:{i}";
            var thumbprint = string.IsNullOrWhiteSpace(e.Thumbprint) ? null : e.Thumbprint.Replace(":", "", StringComparison.Ordinal).Trim().ToUpperInvariant();
            if (thumbprint is not null && (thumbprint.Length != 64 || !thumbprint.All(Uri.IsHexDigit)))
                throw new InvalidOperationException($"{key}:Thumbprint must be the certificate's SHA-256 in hex (64 digits).");
            if ((thumbprint is null) == string.IsNullOrWhiteSpace(e.IssuerCertificatePath))
                throw new InvalidOperationException($"{key} must name either a Thumbprint or an IssuerCertificatePath.");
            var issuer = thumbprint is null ? CertificateFiles.Load([e.IssuerCertificatePath!], key + ":IssuerCertificatePath") : null;
            var parsed = ScopeSet.Parse(e.Scopes);
            if (parsed.Invalid.Count > 0 || parsed.Scopes.Any(s => s is ClinicalScope c && c.Context != ScopeContext.System))
                throw new InvalidOperationException($"{key}:Scopes must be SMART system scopes, e.g. system/Observation.rs.");
            list.Add((e, thumbprint, issuer, parsed.Scopes));
        }
        _entries = list;
    }

    public bool IsEmpty => _entries.Count == 0;

    /// <summary>The entry that recognises the certificate, or null.</summary>
    public (ClientCertificateEntry Entry, ScopeSet Scopes)? Match(X509Certificate2 certificate)
    {
        if (_entries.Count == 0) return null;
        var sha256 = Convert.ToHexString(SHA256.HashData(certificate.RawData));
        foreach (var (entry, thumbprint, issuer, scopes) in _entries)
        {
            if (thumbprint is not null)
            {
                if (CryptographicOperations.FixedTimeEquals(System.Text.Encoding.ASCII.GetBytes(thumbprint), System.Text.Encoding.ASCII.GetBytes(sha256)))
                    return (entry, scopes);
            }
            else if (CertificateChecks.IsTimeValid(certificate, _clock.GetUtcNow().UtcDateTime) && CertificateChecks.AllowsClientAuthentication(certificate)
                     && CertificateChecks.ChainsTo(certificate, issuer!, checkRevocation: false))
            {
                return (entry, scopes);
            }
        }
        return null;
    }

    /// <summary>
    /// The access of a FHIR request without a bearer token: an allow-listed certificate's scopes, or the interface's
    /// policy (Reject: 401; Limit: read and search of the public resource types; Allow: null, no access control).
    /// </summary>
    public static AccessContext? AnonymousAccess(HttpContext http)
    {
        var services = http.RequestServices;
        var ignis = services.GetRequiredService<IOptions<IgnisOptions>>().Value;
        var interfaces = services.GetRequiredService<IOptions<InterfacesOptions>>().Value;
        if (http.Connection.ClientCertificate is { } certificate)
        {
            var allowList = services.GetRequiredService<ClientCertificateAllowList>();
            if (allowList.Match(certificate) is { } match)
            {
                if (match.Scopes.Count > 0)
                {
                    LogCertificateAccess(allowList._logger, match.Entry.Name);
                    return AccessContext.ForBackendService(match.Scopes);
                }
            }
            else if (!allowList.IsEmpty)
            {
                LogUnknownCertificate(allowList._logger, Convert.ToHexString(SHA256.HashData(certificate.RawData)));
            }
        }
        switch (IgnisInterfaces.AnonymousPolicy(http, ignis, interfaces))
        {
            case Fhir.AnonymousAccess.Allow:
                return null;
            case Fhir.AnonymousAccess.Limit:
                http.Items[LimitedKey] = true;
                return AccessContext.ForBackendService(PublicScopes(interfaces));
            default:
                throw new UnauthorizedException(null, "This request needs an access token (Authorization: Bearer ...).");
        }
    }

    /// <summary>HttpContext.Items key set when a request runs with the Limit policy's anonymous access.</summary>
    public const string LimitedKey = "ignis:anonymous-limited";

    private static ScopeSet PublicScopes(InterfacesOptions interfaces) =>
        ScopeSet.Parse(string.Join(' ', interfaces.PublicResourceTypes.Select(t => $"system/{t.Trim()}.rs"))).Scopes;

    [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "FHIR request without a token admitted by the client certificate allow-list entry {Name}")]
    private static partial void LogCertificateAccess(ILogger logger, string name);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "FHIR request with a client certificate not on the allow-list (SHA-256 {Thumbprint}); the interface's Anonymous policy applies")]
    private static partial void LogUnknownCertificate(ILogger logger, string thumbprint);
}
