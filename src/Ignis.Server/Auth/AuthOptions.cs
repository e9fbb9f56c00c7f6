namespace Ignis.Server.Auth;

/// <summary>The "Ignis:Auth" configuration section: the SMART authorization server.</summary>
public sealed class AuthOptions
{
    public const string Section = "Ignis:Auth";

    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Refresh tokens of an offline_access grant.</summary>
    public TimeSpan OfflineRefreshTokenLifetime { get; set; } = TimeSpan.FromDays(90);

    /// <summary>Refresh tokens of an online_access grant; they also end with the user's sign-in session.</summary>
    public TimeSpan OnlineRefreshTokenLifetime { get; set; } = TimeSpan.FromHours(12);

    public TimeSpan AuthorizationCodeLifetime { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>
    /// How long a user's consent to an app is remembered: a later authorize request for the same scopes (or fewer)
    /// skips the consent page unless it says prompt=consent. Zero: always ask.
    /// </summary>
    public TimeSpan ConsentLifetime { get; set; } = TimeSpan.FromDays(90);

    /// <summary>How long an EHR launch id minted by /oauth/launch may be used.</summary>
    public TimeSpan LaunchLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>How long a browser sign-in lasts without activity.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);

    /// <summary>
    /// How access tokens are signed: RS256 (the default, with the RSA key that also signs id tokens) or ES256 (an
    /// EC P-256 key made next to it; signing costs about a tenth of RS256, the token endpoint's largest fixed
    /// cost). Both keys are published at /oauth/jwks; id tokens stay RS256.
    /// </summary>
    public string AccessTokenSigningAlgorithm { get; set; } = "RS256";

    /// <summary>
    /// Whether a refresh of a grant with openid returns a new id token (as Keycloak and Okta do). OpenID Connect Core
    /// §12.2 makes it optional and SMART App Launch 2.2 lists none; leaving it out saves an RS256 signature per refresh.
    /// </summary>
    public bool IdTokenOnRefresh { get; set; } = true;

    /// <summary>
    /// Group commit of token writes: how long a group of token rows (and client assertion ids) that is ready to commit
    /// waits, when other token requests are under way, for them to add theirs to the same transaction, counted from the
    /// arrival of its oldest write. A request with no other token request under way is never held. Zero: commit whatever
    /// is queued at once.
    /// </summary>
    public TimeSpan GroupCommitDelay { get; set; } = TimeSpan.FromMilliseconds(2);

    /// <summary>Where the signing and encryption keys live; default {DataDirectory}/keys.</summary>
    public string? KeyDirectory { get; set; }

    /// <summary>
    /// PostgreSQL: how often each node re-reads the signing keys in case it missed a notification; a rotation's new
    /// key starts signing twice this long after <c>ignis keys rotate</c> by default, when every node knows it.
    /// </summary>
    public TimeSpan KeyRefreshInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Sent as need_patient_banner in token responses with a patient context.</summary>
    public bool NeedPatientBanner { get; set; } = true;

    /// <summary>Sent as smart_style_url; default the server's own {origin}/smart-style.json.</summary>
    public string? SmartStyleUrl { get; set; }

    /// <summary>
    /// Serve the OAuth endpoints over plain http to remote clients. Off: plain http is accepted from loopback
    /// addresses only (the default insecure interface listens on loopback).
    /// </summary>
    public bool AllowInsecureHttp { get; set; }

    /// <summary>
    /// Serve the OAuth endpoints and pages over plain http to loopback clients (RFC 8252-style development on the
    /// insecure interface). Off: https only, loopback included (unless <see cref="AllowInsecureHttp"/>).
    /// </summary>
    public bool AllowLoopbackHttp { get; set; } = true;

    /// <summary>Scopes outside the SMART grammar that clients may request (e.g. scim for the admin API).</summary>
    public string[] ExtraScopes { get; set; } = ["scim"];

    /// <summary>How often expired, redeemed and revoked tokens and authorizations are deleted.</summary>
    public TimeSpan PruneInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Tokens and authorizations younger than this are kept even when no longer valid (audit, reuse detection).</summary>
    public TimeSpan PruneRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Client registration (RFC 7591/7592) and client secrets.</summary>
    public Clients.RegistrationOptions Registration { get; set; } = new();

    /// <summary>The password and implicit grants, off unless switched on.</summary>
    public Clients.LegacyGrantOptions LegacyGrants { get; set; } = new();

    /// <summary>Account lockout after wrong passwords.</summary>
    public Clients.LockoutOptions Lockout { get; set; } = new();
}
