using Ignis.Smart.Scopes;

namespace Ignis.Smart.Access;

/// <summary>Who is behind a token, which bounds what its scopes can give.</summary>
public enum CallerKind
{
    /// <summary>A signed-in patient: only their own Patient compartment, whatever the scopes say.</summary>
    PatientUser,
    /// <summary>A signed-in clinician (fhirUser a Practitioner): <c>user/</c> scopes reach every patient.</summary>
    PractitionerUser,
    /// <summary>A signed-in administrator: treated as a clinician for FHIR data.</summary>
    AdminUser,
    /// <summary>A signed-in user with no clinical role (e.g. a client developer): no FHIR data at all.</summary>
    OtherUser,
    /// <summary>A backend client with no user (client_credentials): only <c>system/</c> scopes count.</summary>
    BackendService,
}

/// <summary>
/// The caller of a FHIR interaction as the access decision sees it: the granted scopes and the
/// rights of the user (or backend client) they were granted by, plus the launch context.
/// Build it with the factory methods; they reject impossible combinations (a developer error).
/// </summary>
public sealed class AccessContext
{
    private Grant[]? _grants;

    private AccessContext(ScopeSet scopes, CallerKind caller, string? userPatientId, string? launchPatientId, string? launchEncounterId)
    {
        Scopes = scopes;
        Caller = caller;
        UserPatientId = userPatientId;
        LaunchPatientId = launchPatientId;
        LaunchEncounterId = launchEncounterId;
    }

    /// <summary>The scopes the token grants.</summary>
    public ScopeSet Scopes { get; }

    /// <summary>Who the token belongs to.</summary>
    public CallerKind Caller { get; }

    /// <summary>For <see cref="CallerKind.PatientUser"/>: the id of the user's own Patient resource.</summary>
    public string? UserPatientId { get; }

    /// <summary>The launch patient (the token's <c>patient</c>), which <c>patient/</c> scopes are bound to.</summary>
    public string? LaunchPatientId { get; }

    /// <summary>The launch encounter (the token's <c>encounter</c>). Carried for the engine; it does not narrow access.</summary>
    public string? LaunchEncounterId { get; }

    /// <summary>A patient user. <paramref name="launchPatientId"/> defaults to their own Patient.</summary>
    /// <exception cref="ArgumentException"><paramref name="patientId"/> is blank.</exception>
    public static AccessContext ForPatientUser(ScopeSet scopes, string patientId, string? launchPatientId = null, string? launchEncounterId = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(patientId);
        return new(scopes, CallerKind.PatientUser, patientId, launchPatientId ?? patientId, launchEncounterId);
    }

    /// <summary>A clinician, with the patient and encounter picked at launch if any.</summary>
    public static AccessContext ForPractitionerUser(ScopeSet scopes, string? launchPatientId = null, string? launchEncounterId = null) =>
        new(scopes, CallerKind.PractitionerUser, null, launchPatientId, launchEncounterId);

    /// <summary>An administrator, with the launch context if any.</summary>
    public static AccessContext ForAdminUser(ScopeSet scopes, string? launchPatientId = null, string? launchEncounterId = null) =>
        new(scopes, CallerKind.AdminUser, null, launchPatientId, launchEncounterId);

    /// <summary>A signed-in user with no clinical role.</summary>
    public static AccessContext ForOtherUser(ScopeSet scopes) =>
        new(scopes, CallerKind.OtherUser, null, null, null);

    /// <summary>A backend client (no user, no launch context).</summary>
    public static AccessContext ForBackendService(ScopeSet scopes) =>
        new(scopes, CallerKind.BackendService, null, null, null);

    /// <summary>
    /// The scopes after intersecting them with the caller's rights: each clinical scope that counts for
    /// this caller, with the rows it may reach. Computed once per context.
    /// </summary>
    internal IReadOnlyList<Grant> Grants => _grants ??= Scopes.Clinical.Select(ToGrant).OfType<Grant>().ToArray();

    /// <summary>
    /// The resource type of the server's security log (sign-ins, addresses, grants of every user). Only
    /// administrators and backend services reach it: no scope gives it to a patient or a clinician, and
    /// their <c>*</c> scopes leave it out.
    /// </summary>
    public const string SecurityLogType = "AuditEvent";

    /// <summary>Whether this caller may reach the security log (<see cref="SecurityLogType"/>) at all.</summary>
    public bool MayReachSecurityLog => Caller is CallerKind.AdminUser or CallerKind.BackendService;

    private Grant? ToGrant(ClinicalScope scope)
    {
        if (!TryBind(scope.Context, out var compartment))
            return null;
        if (scope.ResourceType == SecurityLogType && !MayReachSecurityLog)
            return null;
        return new Grant(scope.ResourceType, scope.Permissions, new RowFilter(compartment, scope.Query), ExcludesSecurityLog: !MayReachSecurityLog);
    }

    // Where a scope's rows live for this caller: null compartment = every patient; false = the scope
    // gives this caller nothing.
    private bool TryBind(ScopeContext context, out string? compartment)
    {
        compartment = null;
        switch (Caller, context)
        {
            // A patient user reaches only their own compartment, whatever the scope's context says.
            // A patient/ scope bound to some other launch patient would reach rows that are not theirs.
            case (CallerKind.PatientUser, ScopeContext.Patient):
                compartment = UserPatientId;
                return LaunchPatientId == UserPatientId;
            case (CallerKind.PatientUser, ScopeContext.User):
                compartment = UserPatientId;
                return true;

            case (CallerKind.PractitionerUser or CallerKind.AdminUser, ScopeContext.Patient):
                compartment = LaunchPatientId;
                return LaunchPatientId is not null;
            case (CallerKind.PractitionerUser or CallerKind.AdminUser, ScopeContext.User):
                return true;

            case (CallerKind.BackendService, ScopeContext.System):
                return true;

            // system/ in a user's token, user/ or patient/ in a backend token, anything for OtherUser.
            default:
                return false;
        }
    }
}

/// <summary>One clinical scope after binding to the caller: on which type, with which permissions, which rows.</summary>
internal sealed record Grant(string ResourceType, ScopePermissions Permissions, RowFilter Rows, bool ExcludesSecurityLog = false)
{
    public bool AppliesTo(string resourceType) =>
        ResourceType == resourceType
        || (ResourceType == ClinicalScope.AnyType && !(ExcludesSecurityLog && resourceType == AccessContext.SecurityLogType));
}
