using Hl7.Fhir.Model;

namespace Ignis.Server.Audit;

/// <summary>What happened. Each kind has one fixed coding in the security log (<see cref="SecurityEventCatalog"/>).</summary>
public enum SecurityEventKind
{
    SignIn,
    SignInFailed,
    Lockout,
    SignOut,
    SignOutEverywhere,
    SessionEnded,
    PasswordChanged,
    TokenIssued,
    TokenRefreshed,
    TokenRevoked,
    ConsentGranted,
    ConsentRevoked,
    AppLaunched,
    ClientRegistered,
    ClientChanged,
    ClientDeleted,
    UserCreated,
    UserChanged,
    RolesChanged,
    UserDeleted,
}

/// <summary>A user or a client as the security log names it: its stable id (when known) and its name.</summary>
public sealed record SecurityParty(string? Id, string Name);

/// <summary>
/// One entry of the security log, as the code that observed it describes it. Never carries a secret, token,
/// code or password; <see cref="Detail"/> is for scopes, roles and reasons.
/// </summary>
public sealed record SecurityEvent(SecurityEventKind Kind)
{
    public DateTimeOffset Recorded { get; init; } = DateTimeOffset.UtcNow;
    /// <summary>The event is a failure (wrong password, lockout).</summary>
    public bool Failed { get; init; }
    /// <summary>The person who acted (signed in, granted, changed something).</summary>
    public SecurityParty? User { get; init; }
    /// <summary>The app that acted or was acted for (token requests, grants, launches).</summary>
    public SecurityParty? Client { get; init; }
    /// <summary>The user an administrator acted on.</summary>
    public SecurityParty? TargetUser { get; init; }
    /// <summary>The app that was registered, changed, deleted, authorized or revoked.</summary>
    public SecurityParty? TargetClient { get; init; }
    /// <summary>The patient in context (a launch).</summary>
    public string? Patient { get; init; }
    /// <summary>A short description: scopes, roles, the reason of a failure.</summary>
    public string? Detail { get; init; }
    /// <summary>The IP address of the browser or client.</summary>
    public string? Address { get; init; }
    public string? UserAgent { get; init; }
    /// <summary>
    /// How many events this entry stands for: 1, or more for a backend service's token events grouped by
    /// <see cref="SecurityEventGroups"/>, which are the same in everything but the time.
    /// </summary>
    public int Count { get; init; } = 1;
    /// <summary>With a <see cref="Count"/> above 1, the time of the last event; <see cref="Recorded"/> is the first one's.</summary>
    public DateTimeOffset? Until { get; init; }
}

/// <summary>
/// How each kind is coded in an R4 AuditEvent: <c>type</c> is a DICOM audit event ID, <c>subtype</c> the DICOM
/// (or IHE) event type code where one fits plus Ignis's own code, which names the kind exactly and is what the
/// log page filters on.
/// </summary>
public static class SecurityEventCatalog
{
    public const string Dicom = "http://dicom.nema.org/resources/ontology/DCM";
    public const string IheEventType = "urn:ihe:event-type-code";
    /// <summary>Ignis's code system for the kinds of security events (subtype).</summary>
    public const string IgnisSystem = "urn:ignis:security-event";

    private static readonly Coding UserAuthentication = new(Dicom, "110114", "User Authentication");
    private static readonly Coding SecurityAlert = new(Dicom, "110113", "Security Alert");
    private static readonly Coding ApplicationActivity = new(Dicom, "110100", "Application Activity");
    private static readonly Coding Login = new(Dicom, "110122", "Login");
    private static readonly Coding Logout = new(Dicom, "110123", "Logout");
    private static readonly Coding ApplicationStart = new(Dicom, "110120", "Application Start");
    private static readonly Coding SecurityConfiguration = new(Dicom, "110129", "Security Configuration");
    private static readonly Coding RolesChangedCode = new(Dicom, "110136", "Security Roles Changed");
    private static readonly Coding AttributesChanged = new(Dicom, "110137", "User Security Attributes Changed");
    private static readonly Coding GetAccessToken = new(IheEventType, "ITI-71", "Get Access Token");

    public sealed record Entry(SecurityEventKind Kind, string Code, string Label, Coding Type, Coding? StandardSubtype, AuditEvent.AuditEventAction Action);

    public static IReadOnlyList<Entry> All { get; } =
    [
        new(SecurityEventKind.SignIn, "sign-in", "Signed in", UserAuthentication, Login, AuditEvent.AuditEventAction.E),
        new(SecurityEventKind.SignInFailed, "sign-in-failed", "Failed sign-in", UserAuthentication, Login, AuditEvent.AuditEventAction.E),
        new(SecurityEventKind.Lockout, "lockout", "Account locked", UserAuthentication, Login, AuditEvent.AuditEventAction.E),
        new(SecurityEventKind.SignOut, "sign-out", "Signed out", UserAuthentication, Logout, AuditEvent.AuditEventAction.E),
        new(SecurityEventKind.SignOutEverywhere, "sign-out-everywhere", "Signed out everywhere", UserAuthentication, Logout, AuditEvent.AuditEventAction.E),
        new(SecurityEventKind.SessionEnded, "session-ended", "Session ended", UserAuthentication, Logout, AuditEvent.AuditEventAction.E),
        new(SecurityEventKind.PasswordChanged, "password-changed", "Password changed", SecurityAlert, AttributesChanged, AuditEvent.AuditEventAction.U),
        new(SecurityEventKind.TokenIssued, "token-issued", "Token issued", UserAuthentication, GetAccessToken, AuditEvent.AuditEventAction.C),
        new(SecurityEventKind.TokenRefreshed, "token-refreshed", "Token refreshed", UserAuthentication, GetAccessToken, AuditEvent.AuditEventAction.C),
        new(SecurityEventKind.TokenRevoked, "token-revoked", "Token revoked", UserAuthentication, null, AuditEvent.AuditEventAction.D),
        new(SecurityEventKind.ConsentGranted, "consent-granted", "App authorized", SecurityAlert, AttributesChanged, AuditEvent.AuditEventAction.C),
        new(SecurityEventKind.ConsentRevoked, "consent-revoked", "App access revoked", SecurityAlert, AttributesChanged, AuditEvent.AuditEventAction.D),
        new(SecurityEventKind.AppLaunched, "app-launched", "App launched", ApplicationActivity, ApplicationStart, AuditEvent.AuditEventAction.E),
        new(SecurityEventKind.ClientRegistered, "client-registered", "App registered", SecurityAlert, SecurityConfiguration, AuditEvent.AuditEventAction.C),
        new(SecurityEventKind.ClientChanged, "client-changed", "App changed", SecurityAlert, SecurityConfiguration, AuditEvent.AuditEventAction.U),
        new(SecurityEventKind.ClientDeleted, "client-deleted", "App deleted", SecurityAlert, SecurityConfiguration, AuditEvent.AuditEventAction.D),
        new(SecurityEventKind.UserCreated, "user-created", "User created", SecurityAlert, AttributesChanged, AuditEvent.AuditEventAction.C),
        new(SecurityEventKind.UserChanged, "user-changed", "User changed", SecurityAlert, AttributesChanged, AuditEvent.AuditEventAction.U),
        new(SecurityEventKind.RolesChanged, "roles-changed", "Roles changed", SecurityAlert, RolesChangedCode, AuditEvent.AuditEventAction.U),
        new(SecurityEventKind.UserDeleted, "user-deleted", "User deleted", SecurityAlert, AttributesChanged, AuditEvent.AuditEventAction.D),
    ];

    public static Entry Of(SecurityEventKind kind) => All[(int)kind];

    public static Entry? ByCode(string? code) => All.FirstOrDefault(e => e.Code == code);

    static SecurityEventCatalog()
    {
        for (var i = 0; i < All.Count; i++)
            if ((int)All[i].Kind != i) throw new InvalidOperationException($"SecurityEventCatalog.All is out of order at {All[i].Kind}.");
    }
}
