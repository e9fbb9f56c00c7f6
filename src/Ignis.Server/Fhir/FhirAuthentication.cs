using System.Net;
using System.Security.Claims;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Server.Auth;
using Ignis.Server.Auth.Mtls;
using Ignis.Server.Hosting;
using Ignis.Smart.Access;
using Ignis.Smart.Scopes;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;

namespace Ignis.Server.Fhir;

/// <summary>What the FHIR API does with a request that carries no token.</summary>
public enum AnonymousAccess
{
    /// <summary>401 (the default).</summary>
    Reject,
    /// <summary>No access control at all; only on loopback interfaces (development, tests).</summary>
    Allow,
    /// <summary>Read and search of the public resource types only (Ignis:Interfaces:PublicResourceTypes).</summary>
    Limit,
}

/// <summary>
/// The resource server: turns the bearer token of a FHIR request into the <see cref="AccessContext"/> the engine
/// decides with, or answers 401 as RFC 6750 says.
/// </summary>
public static class FhirAuthentication
{
    /// <summary>The caller's access, or null when access is not controlled (anonymous access allowed).</summary>
    /// <exception cref="UnauthorizedException">No token, or a token that is not valid here.</exception>
    public static async Task<AccessContext?> AuthenticateAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        // No token: an allow-listed client certificate, or the interface's Anonymous policy (Reject, Limit, Allow).
        if (string.IsNullOrEmpty(header)) return ClientCertificateAllowList.AnonymousAccess(http);
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw new UnauthorizedException("invalid_request", "Only Bearer tokens are accepted.");

        var cache = http.RequestServices.GetRequiredService<ValidatedTokenCache>();
        // A certificate-bound token (RFC 8705 §3) is valid only with its certificate: the certificate is part of the key.
        var certificate = http.Connection.ClientCertificate is { } presented ? presented.GetCertHashString(System.Security.Cryptography.HashAlgorithmName.SHA256) : "";
        var key = ValidatedTokenCache.Key(header, certificate, FhirEndpoints.BaseUrl(http));
        if (cache.TryGet(key, out var known)) return known;

        // A JWT from a trusted external issuer (Auth/External), picked by its iss; without such issuers this costs nothing.
        var externalTokens = http.RequestServices.GetRequiredService<Auth.External.ExternalBearerTokens>();
        if (externalTokens.Match(header[7..].Trim()) is { } external)
        {
            var (externalAccess, expires) = await externalTokens.AuthenticateAsync(http, external);
            cache.Add(key, externalAccess, expires);
            return externalAccess;
        }

        // Only the validation handler runs for the FHIR API (not the whole authentication middleware, whose cookie and
        // OpenIddict server handlers cost more than a read): it must see the request before it can authenticate it.
        var handlers = http.RequestServices.GetRequiredService<IAuthenticationHandlerProvider>();
        if (await handlers.GetHandlerAsync(http, OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme) is IAuthenticationRequestHandler validation
            && await validation.HandleRequestAsync())
            throw new UnauthorizedException("invalid_request", "The request could not be authenticated.");
        var result = await http.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        if (!result.Succeeded || result.Principal is not { } principal)
            throw new UnauthorizedException("invalid_token", "The access token is not valid: it is malformed, expired, revoked or not issued here.");

        // RFC 9068 §4: the token must be meant for this FHIR server.
        var audience = FhirEndpoints.BaseUrl(http);
        if (!principal.GetAudiences().Contains(audience, StringComparer.Ordinal))
            throw new UnauthorizedException("invalid_token", "The access token was issued for another audience.");

        var access = ToAccessContext(principal);
        cache.Add(key, access, principal.GetExpirationDate(), principal.GetTokenId());
        return access;
    }

    internal static AccessContext ToAccessContext(ClaimsPrincipal principal)
    {
        var scopes = ScopeSet.Parse(string.Join(' ', principal.GetScopes())).Scopes;
        var launchPatient = principal.GetClaim(SmartPrincipalFactory.PatientClaim);
        var launchEncounter = principal.GetClaim(SmartPrincipalFactory.EncounterClaim);
        return principal.GetClaim(SmartPrincipalFactory.UserKindClaim) switch
        {
            "patient" when principal.GetClaim(SmartPrincipalFactory.UserPatientClaim) is { } own =>
                AccessContext.ForPatientUser(scopes, own, launchPatient, launchEncounter),
            "practitioner" => AccessContext.ForPractitionerUser(scopes, launchPatient, launchEncounter),
            "admin" => AccessContext.ForAdminUser(scopes, launchPatient, launchEncounter),
            null => AccessContext.ForBackendService(scopes),
            _ => AccessContext.ForOtherUser(scopes),
        };
    }

    /// <summary>RFC 6750 §3: the WWW-Authenticate challenge, with error only when a token was sent.</summary>
    public static string Challenge(HttpContext http, string? error, string description)
    {
        var realm = FhirEndpoints.BaseUrl(http);
        return error is null
            ? $"Bearer realm=\"{realm}\""
            : $"Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\"";
    }
}

/// <summary>
/// Tokens validated in the last second, by a hash of the token and the FHIR base it was checked for. Full
/// validation (signature, and the token table for revocation) costs far more than a FHIR read; revocation,
/// refresh and "sign out everywhere" still reach every request within a second, as the issue allows. On PostgreSQL
/// a node also forgets a token at once when the database notifies that it stopped being valid (Auth/ClusterSignals).
/// </summary>
public sealed class ValidatedTokenCache(TimeProvider time)
{
    public static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(1);
    private const int MaxEntries = 10_000;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (AccessContext Access, DateTimeOffset Until, string? TokenId)> _entries = new(StringComparer.Ordinal);

    /// <summary>Forgets the entries of token entry <paramref name="tokenId"/> (it was revoked or deleted).</summary>
    public void Evict(string tokenId)
    {
        foreach (var (key, entry) in _entries)
            if (string.Equals(entry.TokenId, tokenId, StringComparison.Ordinal)) _entries.TryRemove(key, out _);
    }

    public void Clear() => _entries.Clear();

    /// <summary>
    /// SHA-256 of the FHIR base, the Authorization header and the client certificate's thumbprint: the cache holds no
    /// token. Hashed from a stack buffer, since this runs on every FHIR request with a token.
    /// </summary>
    public static string Key(string header, string certificate, string audience)
    {
        var utf8 = System.Text.Encoding.UTF8;
        var length = utf8.GetMaxByteCount(audience.Length + header.Length + certificate.Length + 2);
        byte[]? rented = null;
        var buffer = length <= 4096 ? stackalloc byte[length] : (rented = System.Buffers.ArrayPool<byte>.Shared.Rent(length));
        var n = utf8.GetBytes(audience, buffer);
        buffer[n++] = (byte)' ';
        n += utf8.GetBytes(header, buffer[n..]);
        buffer[n++] = (byte)' ';
        n += utf8.GetBytes(certificate, buffer[n..]);
        Span<byte> hash = stackalloc byte[System.Security.Cryptography.SHA256.HashSizeInBytes];
        System.Security.Cryptography.SHA256.HashData(buffer[..n], hash);
        if (rented is not null) System.Buffers.ArrayPool<byte>.Shared.Return(rented);
        return Convert.ToBase64String(hash);
    }

    public bool TryGet(string key, out AccessContext access)
    {
        access = null!;
        if (!_entries.TryGetValue(key, out var entry)) return false;
        if (entry.Until <= time.GetUtcNow())
        {
            _entries.TryRemove(key, out _);
            return false;
        }
        access = entry.Access;
        return true;
    }

    public void Add(string key, AccessContext access, DateTimeOffset? expires, string? tokenId = null)
    {
        var until = time.GetUtcNow() + Lifetime;
        if (expires is { } e && e < until) until = e;
        if (_entries.Count >= MaxEntries) _entries.Clear(); // bounded: a burst of distinct tokens only costs re-validation
        _entries[key] = (access, until, tokenId);
    }
}

/// <summary>A FHIR request without a usable token: 401 with a challenge and an OperationOutcome.</summary>
public sealed class UnauthorizedException(string? error, string description) : Exception(description)
{
    public string? Error { get; } = error;
    public string Description { get; } = description;

    public FhirException ToFhir() => new(HttpStatusCode.Unauthorized,
        Error is null ? OperationOutcome.IssueType.Login : OperationOutcome.IssueType.Security, Description);
}
