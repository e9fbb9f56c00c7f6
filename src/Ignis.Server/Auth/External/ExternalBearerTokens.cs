using System.Security.Claims;
using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Ignis.Smart.Access;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.External;

/// <summary>A bearer token whose iss is one of the trusted external issuers.</summary>
public sealed record ExternalTokenMatch(string Name, TrustedIssuerOptions Issuer, JsonWebToken Token);

/// <summary>
/// The FHIR API's second kind of bearer token: an OpenID Connect JWT from a trusted issuer ("Ignis:External:Issuers").
/// The token's iss picks the issuer (local tokens never reach this class when no issuer is configured); its
/// signature is checked with the issuer's published keys (jwks_uri, cached as its Cache-Control says, fetched again
/// once for an unknown kid), then iss, aud, exp and nbf; the user claim finds the local user, who must be active,
/// not locked out and not signed out everywhere since the token was issued. The access is the issuer's configured
/// scopes intersected with that user's rights, decided by Ignis.Smart exactly as for local tokens.
/// </summary>
public sealed partial class ExternalBearerTokens
{
    /// <summary>The AspNetUserTokens row that records when a user was last signed out everywhere.</summary>
    public const string MarkProvider = "Ignis";
    public const string SignedOutEverywhereName = "SignedOutEverywhereAt";

    private readonly Dictionary<string, (string Name, TrustedIssuerOptions Options)> _byIssuer;
    private readonly ClientKeyResolver _keys;
    private readonly ILogger<ExternalBearerTokens> _logger;
    private readonly JsonWebTokenHandler _handler = new() { MapInboundClaims = false };

    public ExternalBearerTokens(IOptions<ExternalIdentityOptions> options, ClientKeyResolver keys, ILogger<ExternalBearerTokens> logger)
    {
        _byIssuer = options.Value.Issuers
            .Where(i => !string.IsNullOrEmpty(i.Value.Issuer))
            .ToDictionary(i => i.Value.Issuer!, i => (i.Key, i.Value), StringComparer.Ordinal);
        _keys = keys;
        _logger = logger;
    }

    /// <summary>Whether any external issuer is trusted (when not, no token is even parsed here).</summary>
    public bool Enabled => _byIssuer.Count > 0;

    /// <summary>The trusted issuer the token names in its iss, or null: then the local validation decides.</summary>
    public ExternalTokenMatch? Match(string token)
    {
        if (!Enabled) return null;
        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            return null;
        }
        if (jwt.IsEncrypted || !jwt.TryGetPayloadValue<string>(Claims.Issuer, out var iss) || iss is null) return null;
        return _byIssuer.TryGetValue(iss, out var issuer) ? new ExternalTokenMatch(issuer.Name, issuer.Options, jwt) : null;
    }

    /// <summary>The caller's access and until when it holds.</summary>
    /// <exception cref="UnauthorizedException">401 invalid_token: the token is not valid, or names no usable local user.</exception>
    public async Task<(AccessContext Access, DateTimeOffset Expires)> AuthenticateAsync(HttpContext http, ExternalTokenMatch match)
    {
        var (name, issuer, jwt) = match;
        // RFC 8725 §3.1: the algorithm comes from an allow-list of asymmetric ones; "none" and HMAC (a public key
        // misused as a shared secret) can never be on it (ExternalIdentityOptions.Problems).
        if (!issuer.Algorithms.Contains(jwt.Alg, StringComparer.Ordinal))
            throw Reject(name, "algorithm", $"The token's signature algorithm ({Shorten(jwt.Alg)}) is not accepted from this issuer.");

        var lookup = await _keys.GetKeysAsync(new ClientKeyRegistration(name, null, issuer.JwksUri), string.IsNullOrEmpty(jwt.Kid) ? null : jwt.Kid, http.RequestAborted);
        if (lookup.Error is not null)
            throw Reject(name, "keys: " + lookup.Error, "The token's signing key is not one the issuer publishes.");

        var parameters = new TokenValidationParameters
        {
            ValidIssuer = issuer.Issuer,
            ValidAudiences = issuer.Audiences,
            IssuerSigningKeys = lookup.Keys,
            ValidAlgorithms = issuer.Algorithms,
            RequireSignedTokens = true,
            RequireExpirationTime = true,
            ValidateIssuer = true,
            ValidateAudience = true,
            ValidateLifetime = true,
            ValidateIssuerSigningKey = true,
            ClockSkew = issuer.ClockSkew,
        };
        var result = await _handler.ValidateTokenAsync(jwt, parameters);
        if (!result.IsValid)
            throw Reject(name, result.Exception?.GetType().Name ?? "invalid", Describe(result.Exception));

        var user = await FindUserAsync(http, name, issuer, jwt);
        await EnsureUsableAsync(http, name, user, jwt);

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, user.Id);
        await SmartPrincipalFactory.SetUserKindAsync(http, identity, user);
        // A patient user's own record is the launch patient, as after a SMART sign-in (patient/ scopes bind to it).
        identity.SetClaim(SmartPrincipalFactory.PatientClaim, user.PatientId);
        identity.SetScopes(issuer.Scopes!.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        LogAccepted(_logger, name, user.Id);
        return (FhirAuthentication.ToAccessContext(new ClaimsPrincipal(identity)), new DateTimeOffset(jwt.ValidTo, TimeSpan.Zero));
    }

    private async Task<IgnisUser> FindUserAsync(HttpContext http, string name, TrustedIssuerOptions issuer, JsonWebToken jwt)
    {
        var value = ClaimText(jwt, issuer.UserClaim);
        if (string.IsNullOrEmpty(value) || value.Length > 256)
            throw Reject(name, "no user claim", $"The token has no {issuer.UserClaim} claim to find its user by.");

        var users = http.RequestServices.GetRequiredService<UserManager<IgnisUser>>();
        IgnisUser? user;
        switch (issuer.MapBy)
        {
            case UserMapping.Username:
                user = await users.FindByNameAsync(value);
                break;
            case UserMapping.Email:
                if (issuer.RequireVerifiedEmail && !IsTrue(jwt, Claims.EmailVerified))
                    throw Reject(name, "email not verified", "The token's email is not verified (email_verified).");
                try
                {
                    user = await users.FindByEmailAsync(value);
                }
                catch (InvalidOperationException)
                {
                    // Emails need not be unique here (RequireUniqueEmail is off): several users cannot all be this token's.
                    throw Reject(name, "ambiguous email", "More than one local user has the token's email.");
                }
                break;
            default:
                user = await users.FindByLoginAsync(issuer.LoginProvider ?? name, value);
                break;
        }
        return user ?? throw Reject(name, "unknown user", "The token's user is not known here.");
    }

    /// <summary>A disabled or locked-out user is refused, and so is a token issued before the user was signed out everywhere.</summary>
    private async Task EnsureUsableAsync(HttpContext http, string name, IgnisUser user, JsonWebToken jwt)
    {
        if (!user.Active) throw Reject(name, "user disabled", "The token's user is disabled.");
        if (user.LockoutEnabled && user.LockoutEnd is { } end && end > DateTimeOffset.UtcNow)
            throw Reject(name, "user locked out", "The token's user is locked out.");
        var db = http.RequestServices.GetRequiredService<AuthDbContext>();
        var mark = await db.UserTokens.AsNoTracking()
            .Where(t => t.UserId == user.Id && t.LoginProvider == MarkProvider && t.Name == SignedOutEverywhereName)
            .Select(t => t.Value).FirstOrDefaultAsync(http.RequestAborted);
        if (mark is not null && DateTimeOffset.TryParse(mark, null, System.Globalization.DateTimeStyles.RoundtripKind, out var signedOut))
        {
            // iat has whole seconds; a token issued in the same second as the sign-out is refused too.
            var issued = jwt.IssuedAt == DateTime.MinValue ? (DateTimeOffset?)null : new DateTimeOffset(jwt.IssuedAt, TimeSpan.Zero);
            if (issued is null || issued.Value <= signedOut)
                throw Reject(name, "signed out everywhere", "The token was issued before its user's sessions were revoked.");
        }
    }

    /// <summary>Records that <paramref name="userId"/> was signed out everywhere: external tokens issued until now stop working.</summary>
    public static async Task MarkSignedOutEverywhereAsync(AuthDbContext db, string userId, DateTimeOffset now, CancellationToken ct)
    {
        var value = now.ToString("O", System.Globalization.CultureInfo.InvariantCulture);
        var updated = await db.UserTokens
            .Where(t => t.UserId == userId && t.LoginProvider == MarkProvider && t.Name == SignedOutEverywhereName)
            .ExecuteUpdateAsync(s => s.SetProperty(t => t.Value, value), ct);
        if (updated > 0) return;
        db.UserTokens.Add(new IdentityUserToken<string> { UserId = userId, LoginProvider = MarkProvider, Name = SignedOutEverywhereName, Value = value });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>A string or number claim's value (not arrays or objects).</summary>
    private static string? ClaimText(JsonWebToken jwt, string claim) =>
        jwt.TryGetClaim(claim, out var c) && c.ValueType is ClaimValueTypes.String or ClaimValueTypes.Integer or ClaimValueTypes.Integer32
            or ClaimValueTypes.Integer64 or ClaimValueTypes.Double ? c.Value : null;

    private static bool IsTrue(JsonWebToken jwt, string claim) =>
        jwt.TryGetClaim(claim, out var c) && string.Equals(c.Value, "true", StringComparison.OrdinalIgnoreCase);

    private static string Describe(Exception? e) => e switch
    {
        SecurityTokenExpiredException => "The token has expired.",
        SecurityTokenNotYetValidException => "The token is not valid yet (nbf).",
        SecurityTokenNoExpirationException => "The token has no expiry (exp).",
        SecurityTokenInvalidAudienceException => "The token was issued for another audience.",
        SecurityTokenInvalidIssuerException => "The token's issuer is not trusted.",
        SecurityTokenInvalidAlgorithmException => "The token's signature algorithm is not accepted.",
        SecurityTokenSignatureKeyNotFoundException or SecurityTokenInvalidSignatureException => "The token's signature is not valid.",
        _ => "The token is not valid.",
    };

    private UnauthorizedException Reject(string issuer, string reason, string description)
    {
        LogRejected(_logger, issuer, reason);
        return new UnauthorizedException(Errors.InvalidToken, description);
    }

    private static string Shorten(string? s) => s is null ? "none" : s.Length <= 16 ? s : s[..16];

    [LoggerMessage(EventId = 3720, Level = LogLevel.Debug, Message = "External token from issuer {Issuer} accepted for user {UserId}")]
    private static partial void LogAccepted(ILogger logger, string issuer, string userId);

    [LoggerMessage(EventId = 3721, Level = LogLevel.Information, Message = "External token from issuer {Issuer} refused: {Reason}")]
    private static partial void LogRejected(ILogger logger, string issuer, string reason);
}
