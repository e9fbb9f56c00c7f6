using System.Net;
using System.Text.RegularExpressions;

namespace Ignis.Server.Auth.External;

/// <summary>
/// The "Ignis:External" configuration section: identity providers users may sign in with (delegated sign-in on the
/// login page) and issuers whose JWTs the FHIR API accepts as bearer tokens. Both lists are keyed by a short name the
/// admin picks (it appears in URLs and in the links between local users and external accounts).
/// </summary>
public sealed partial class ExternalIdentityOptions
{
    public const string Section = "Ignis:External";

    /// <summary>Delegated identity providers shown on the sign-in page, by name.</summary>
    public Dictionary<string, ExternalProviderOptions> Providers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Trusted issuers of JWT bearer tokens for the FHIR API, by name.</summary>
    public Dictionary<string, TrustedIssuerOptions> Issuers { get; set; } = new(StringComparer.Ordinal);

    /// <summary>Names are URL segments and link keys: lower-case letters, digits and dashes.</summary>
    [GeneratedRegex("^[a-z0-9][a-z0-9-]{0,39}$")]
    public static partial Regex NamePattern();

    /// <summary>https anywhere; plain http only to a loopback address (a developer's machine, tests).</summary>
    public static bool IsSecureOrLoopback(string? uri, out Uri address)
    {
        address = null!;
        if (!Uri.TryCreate(uri, UriKind.Absolute, out var parsed) || !string.IsNullOrEmpty(parsed.UserInfo) || !string.IsNullOrEmpty(parsed.Fragment))
            return false;
        address = parsed;
        if (parsed.Scheme == Uri.UriSchemeHttps) return true;
        return parsed.Scheme == Uri.UriSchemeHttp
            && (parsed.IsLoopback || (IPAddress.TryParse(parsed.IdnHost, out var ip) && IPAddress.IsLoopback(ip)));
    }

    /// <summary>Every configuration mistake, each naming its key; empty when the section is usable.</summary>
    public IEnumerable<string> Problems()
    {
        foreach (var (name, p) in Providers)
        {
            var key = $"{Section}:Providers:{name}";
            if (!NamePattern().IsMatch(name)) yield return $"{key}: the name must be lower-case letters, digits and dashes (it is part of the callback URL).";
            if (string.IsNullOrEmpty(p.ClientId)) yield return $"{key}:ClientId is required.";
            if (p.Type == ExternalProviderType.OpenIdConnect && !IsSecureOrLoopback(p.Authority, out _))
                yield return $"{key}:Authority must be the provider's https issuer URL (plain http only on a loopback address).";
            if (p.Type == ExternalProviderType.OpenIdConnect && (p.Scopes.Length == 0 || !p.Scopes.Contains("openid")))
                yield return $"{key}:Scopes must include openid.";
            if (!IgnisRolesContain(p.ProvisionRole)) yield return $"{key}:ProvisionRole must be one of {string.Join(", ", Data.IgnisRoles.All)} (or empty for none).";
        }
        foreach (var (name, i) in Issuers)
        {
            var key = $"{Section}:Issuers:{name}";
            if (!NamePattern().IsMatch(name)) yield return $"{key}: the name must be lower-case letters, digits and dashes.";
            if (string.IsNullOrEmpty(i.Issuer)) yield return $"{key}:Issuer is required (the exact iss of the tokens).";
            if (!IsSecureOrLoopback(i.JwksUri, out _)) yield return $"{key}:JwksUri must be an https URL (plain http only on a loopback address).";
            if (i.Audiences.Length == 0 || i.Audiences.Any(string.IsNullOrEmpty)) yield return $"{key}:Audiences must name at least one audience (the tokens' aud).";
            if (string.IsNullOrEmpty(i.UserClaim)) yield return $"{key}:UserClaim is required, e.g. sub, email or preferred_username.";
            if (string.IsNullOrWhiteSpace(i.Scopes)) yield return $"{key}:Scopes is required, e.g. \"user/*.rs\".";
            foreach (var alg in i.Algorithms)
                if (!TrustedIssuerOptions.AsymmetricAlgorithms.Contains(alg))
                    yield return $"{key}:Algorithms: {alg} is not allowed (asymmetric only: {string.Join(", ", TrustedIssuerOptions.AsymmetricAlgorithms)}).";
            if (i.ClockSkew < TimeSpan.Zero || i.ClockSkew > TimeSpan.FromMinutes(5)) yield return $"{key}:ClockSkew must be between 00:00:00 and 00:05:00.";
        }
        var issuers = Issuers.Values.Where(i => !string.IsNullOrEmpty(i.Issuer)).GroupBy(i => i.Issuer, StringComparer.Ordinal).Where(g => g.Count() > 1);
        foreach (var twice in issuers) yield return $"{Section}:Issuers: the issuer {twice.Key} is configured more than once.";
    }

    private static bool IgnisRolesContain(string? role) => string.IsNullOrEmpty(role) || Data.IgnisRoles.All.Contains(role);
}

/// <summary>Which kind of provider: any OpenID Connect provider by its issuer, or a preset.</summary>
public enum ExternalProviderType
{
    /// <summary>Any OpenID Connect provider: discovery from <see cref="ExternalProviderOptions.Authority"/>.</summary>
    OpenIdConnect,
    Google,
    Microsoft,
    /// <summary>OAuth 2.0 with the Graph API's /me as the profile (Facebook has no email_verified).</summary>
    Facebook,
}

/// <summary>What the first sign-in with an external account (one not linked to a local user yet) does.</summary>
public enum FirstSignInPolicy
{
    /// <summary>Link to the local user with the same email, when the provider says the email is verified; else refuse.</summary>
    LinkByEmail,
    /// <summary>Link by verified email as above; with no such user, create one.</summary>
    LinkOrProvision,
    /// <summary>Refuse: only accounts an admin or the user already linked may sign in.</summary>
    LinkedOnly,
}

/// <summary>One delegated identity provider ("Ignis:External:Providers:{name}").</summary>
public sealed class ExternalProviderOptions
{
    public ExternalProviderType Type { get; set; } = ExternalProviderType.OpenIdConnect;

    /// <summary>The button text: "Sign in with {DisplayName}". Default: the preset's name, or the provider's name.</summary>
    public string? DisplayName { get; set; }

    /// <summary>The issuer URL (OpenID Connect only); its /.well-known/openid-configuration is read.</summary>
    public string? Authority { get; set; }

    public string? ClientId { get; set; }

    public string? ClientSecret { get; set; }

    /// <summary>Scopes asked for. OpenID Connect default: openid email profile.</summary>
    public string[] Scopes { get; set; } = ["openid", "email", "profile"];

    /// <summary>Microsoft only: the Entra ID tenant (default "common").</summary>
    public string? Tenant { get; set; }

    public FirstSignInPolicy FirstSignIn { get; set; } = FirstSignInPolicy.LinkByEmail;

    /// <summary>
    /// The role a provisioned user gets. Default patient: with no fhirUser that is no FHIR access until an admin links
    /// a record. Empty: no role.
    /// </summary>
    public string? ProvisionRole { get; set; } = Data.IgnisRoles.Patient;

    /// <summary>
    /// Treat the provider's email as verified although it sends no email_verified claim (Facebook, Microsoft personal
    /// accounts). Off: such emails are never used to link or stored.
    /// </summary>
    public bool TrustEmail { get; set; }
}

/// <summary>How an external token's user claim finds the local user.</summary>
public enum UserMapping
{
    /// <summary>A link (AspNetUserLogins) from <see cref="TrustedIssuerOptions.LoginProvider"/> and the claim value.</summary>
    Login,
    /// <summary>The local user name equals the claim value.</summary>
    Username,
    /// <summary>The local user's email equals the claim value (which must be verified, see RequireVerifiedEmail).</summary>
    Email,
}

/// <summary>One trusted issuer of JWT bearer tokens for the FHIR API ("Ignis:External:Issuers:{name}").</summary>
public sealed class TrustedIssuerOptions
{
    /// <summary>Signature algorithms that can be accepted: asymmetric only (never none, never HS* with a public key).</summary>
    public static readonly IReadOnlyList<string> AsymmetricAlgorithms =
        ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"];

    /// <summary>The exact iss of the tokens.</summary>
    public string? Issuer { get; set; }

    /// <summary>Where the issuer publishes its keys (https; http only on loopback).</summary>
    public string? JwksUri { get; set; }

    /// <summary>Accepted aud values: the token must name at least one.</summary>
    public string[] Audiences { get; set; } = [];

    /// <summary>The claim that names the user: sub, email, preferred_username, ...</summary>
    public string UserClaim { get; set; } = "sub";

    public UserMapping MapBy { get; set; } = UserMapping.Login;

    /// <summary>For <see cref="UserMapping.Login"/>: the login provider of the links (default: this issuer's name; name a
    /// delegated provider to reuse the links its sign-ins made).</summary>
    public string? LoginProvider { get; set; }

    /// <summary>For <see cref="UserMapping.Email"/>: the token must say email_verified: true.</summary>
    public bool RequireVerifiedEmail { get; set; } = true;

    /// <summary>The SMART scopes such tokens get, e.g. "user/*.rs"; still intersected with the user's own rights.</summary>
    public string? Scopes { get; set; }

    public string[] Algorithms { get; set; } = ["RS256", "RS384", "PS256", "ES256", "ES384"];

    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);
}
