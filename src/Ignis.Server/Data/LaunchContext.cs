namespace Ignis.Server.Data;

/// <summary>
/// An EHR launch minted by a signed-in clinician: an opaque single-use id that an app's authorize request
/// presents as <c>launch=</c> to receive this context.
/// </summary>
/// <remarks>Times are UTC DateTime: EF Core cannot compare DateTimeOffset columns on SQLite.</remarks>
public sealed class LaunchContext
{
    public required string Id { get; set; }
    public required string UserId { get; set; }
    /// <summary>When set, only this client may use the launch.</summary>
    public string? ClientId { get; set; }
    public string? Patient { get; set; }
    public string? Encounter { get; set; }
    /// <summary>Further context as the SMART 2.2 fhirContext JSON array, e.g. [{"reference":"ServiceRequest/1"}].</summary>
    public string? FhirContext { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
    public DateTime? UsedAt { get; set; }
}

/// <summary>
/// A browser sign-in session. The cookie carries its id; ending the row ends the session on every node,
/// and with it the online_access refresh tokens issued under it.
/// </summary>
public sealed class UserSession
{
    public required string Id { get; set; }
    public required string UserId { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime? EndedAt { get; set; }
    /// <summary>The last request seen in this session (updated at most once a minute).</summary>
    public DateTime? LastSeenAt { get; set; }
    /// <summary>The address of that request.</summary>
    public string? IpAddress { get; set; }
    /// <summary>The browser's User-Agent at sign-in (shortened).</summary>
    public string? UserAgent { get; set; }
}
