namespace Ignis.Server.Audit;

/// <summary>The "Ignis:SecurityLog" configuration section.</summary>
public sealed class SecurityLogOptions
{
    public const string Section = "Ignis:SecurityLog";

    /// <summary>
    /// A backend service's token events (client_credentials) of the same client, scopes, address and user agent within
    /// this window of the clock are stored as one AuditEvent with their number and period (<see cref="SecurityEventGroups"/>).
    /// Zero: one AuditEvent per token.
    /// </summary>
    public TimeSpan BackendTokenWindow { get; set; } = TimeSpan.FromSeconds(1);
}
