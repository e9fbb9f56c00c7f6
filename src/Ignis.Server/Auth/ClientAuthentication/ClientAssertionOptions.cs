namespace Ignis.Server.Auth.ClientAuthentication;

/// <summary>
/// The "Ignis:Auth:ClientAssertions" configuration section: how private_key_jwt client assertions (RFC 7523,
/// SMART Backend Services) are checked and how registered jwks_uri documents are fetched.
/// </summary>
public sealed class ClientAssertionOptions
{
    public const string Section = "Ignis:Auth:ClientAssertions";

    /// <summary>The signature algorithms accepted (SMART requires RS384 and ES384; RS256 and ES256 are common).</summary>
    public static readonly IReadOnlyList<string> Algorithms = ["RS384", "ES384", "RS256", "ES256"];

    /// <summary>How far in the future exp may be (SMART Backend Services: no more than five minutes).</summary>
    public TimeSpan MaxLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Allowed difference between the client's clock and ours, applied to exp, nbf and iat (never to make an
    /// expired assertion valid: exp must still be in the future on our clock).
    /// </summary>
    public TimeSpan ClockSkew { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a fetched jwks_uri document is used when its response has no Cache-Control max-age.</summary>
    public TimeSpan JwksUriDefaultCacheDuration { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The longest a fetched jwks_uri document is used, whatever its Cache-Control says.</summary>
    public TimeSpan JwksUriMaxCacheDuration { get; set; } = TimeSpan.FromHours(24);

    /// <summary>
    /// An assertion whose kid is not in the cached document makes the server fetch jwks_uri again, once; this
    /// bounds how often that happens per jwks_uri (assertions with made-up kids cannot make it fetch in a loop).
    /// </summary>
    public TimeSpan JwksUriRefetchInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Time allowed for fetching a jwks_uri document.</summary>
    public TimeSpan JwksUriTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Largest jwks_uri document accepted, in bytes.</summary>
    public int JwksUriMaxBytes { get; set; } = 64 * 1024;

    /// <summary>How often used assertion ids (jti) whose assertions have expired are deleted.</summary>
    public TimeSpan ReplayPruneInterval { get; set; } = TimeSpan.FromMinutes(1);
}
