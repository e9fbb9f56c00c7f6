namespace Ignis.Server.Auth.Clients;

/// <summary>"Ignis:Auth:Registration": who may register clients, and how their secrets live.</summary>
public sealed class RegistrationOptions
{
    /// <summary>
    /// Anyone may register a client at /oauth/register, without an initial access token or a developer login.
    /// Unset: on with --demo, off otherwise.
    /// </summary>
    public bool? Open { get; set; }

    /// <summary>
    /// Initial access tokens (RFC 7591 §3) that allow registration when it is not open, sent as
    /// <c>Authorization: Bearer ...</c>. Long random strings; anyone holding one can register clients.
    /// </summary>
    public string[] InitialAccessTokens { get; set; } = [];

    /// <summary>Hold clients registered by anyone but an administrator until an administrator approves them.</summary>
    public bool RequireApproval { get; set; }

    /// <summary>How long the previous secret keeps working after a secret rotation.</summary>
    public TimeSpan SecretRotationGracePeriod { get; set; } = TimeSpan.FromDays(1);

    /// <summary>How long a client secret is valid (client_secret_expires_at); unset: secrets do not expire.</summary>
    public TimeSpan? ClientSecretLifetime { get; set; }
}

/// <summary>
/// "Ignis:Auth:LegacyGrants": the resource-owner password and implicit grants. OAuth 2.1 drops both; they are
/// off server-wide unless switched on here, and even then only clients an administrator enabled may use them.
/// </summary>
public sealed class LegacyGrantOptions
{
    /// <summary>Allow the password grant (grant_type=password) for clients enabled for it.</summary>
    public bool Password { get; set; }

    /// <summary>Allow the implicit grant (response_type=token) for clients enabled for it.</summary>
    public bool Implicit { get; set; }

    /// <summary>Password-grant requests accepted per client and remote address in each <see cref="PasswordRateWindow"/>.</summary>
    public int PasswordRateLimit { get; set; } = 20;

    /// <summary>The window of <see cref="PasswordRateLimit"/>.</summary>
    public TimeSpan PasswordRateWindow { get; set; } = TimeSpan.FromMinutes(1);
}

/// <summary>"Ignis:Auth:Lockout": wrong passwords (the login page and the password grant) lock the account.</summary>
public sealed class LockoutOptions
{
    /// <summary>Wrong passwords within <see cref="Window"/> that lock the account.</summary>
    public int MaxFailedAttempts { get; set; } = 5;

    /// <summary>Failures older than this no longer count towards a lockout (password grant).</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a locked account stays locked.</summary>
    public TimeSpan Duration { get; set; } = TimeSpan.FromMinutes(5);
}
