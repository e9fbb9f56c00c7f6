using Ignis.Smart.Scopes;

namespace Ignis.Smart.Access;

/// <summary>
/// The one access decision for FHIR interactions: effective access = granted scopes ∩ the caller's
/// rights (see <see cref="CallerKind"/>), mapped to the interaction's permission as SMART App Launch
/// 2.2 defines it. Pure and cheap: no I/O; call it for every interaction and every batch entry.
/// </summary>
public static class AccessPolicy
{
    /// <summary>
    /// Decides on <paramref name="request"/> for <paramref name="context"/>. Denies (403) when a requested
    /// type has no granted scope for the needed permission (and, for a conditional write, for <c>s</c>);
    /// otherwise allows with the constraints on the returned decision.
    /// </summary>
    public static AccessDecision Decide(AccessContext context, AccessRequest request)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(request);

        var permission = PermissionFor(request.Interaction);

        if (request.IsSystemLevel && request.ResourceTypes.Count == 0)
        {
            var grants = context.Grants.Where(g => g.Permissions.Includes(permission)).ToArray();
            if (grants.Length == 0)
                return Deny(context, request, ClinicalScope.AnyType, permission);
            IReadOnlySet<string>? types = grants.Any(g => g.ResourceType == ClinicalScope.AnyType)
                ? null
                : grants.Select(g => g.ResourceType).ToHashSet(StringComparer.Ordinal);
            return new AccessDecision(context, request, null, types);
        }

        var allowed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var type in request.ResourceTypes)
        {
            if (!HasAny(context, type, permission))
            {
                // A system-level search over many types leaves the security log out for a caller who may not
                // reach it, instead of failing as a whole; asked for alone, it is denied.
                if (request.IsSystemLevel && request.ResourceTypes.Count > 1 && type == AccessContext.SecurityLogType && !context.MayReachSecurityLog)
                    continue;
                return Deny(context, request, type, permission);
            }
            if (request.IsConditional && !HasAny(context, type, ScopePermissions.Search))
                return Deny(context, request, type, ScopePermissions.Search);
            allowed.Add(type);
        }
        return new AccessDecision(context, request, null, allowed);
    }

    /// <summary>
    /// The permission an interaction needs (SMART App Launch 2.2, "Scopes for requesting FHIR resources"):
    /// read, vread and instance history → <c>r</c>; type and system search and history → <c>s</c>;
    /// create → <c>c</c>; update and patch → <c>u</c>; delete → <c>d</c>. An update that creates needs
    /// <c>c</c> too, and a conditional write <c>s</c> too; the decision checks those separately.
    /// </summary>
    public static ScopePermissions PermissionFor(FhirInteraction interaction) => interaction switch
    {
        FhirInteraction.Read or FhirInteraction.VRead or FhirInteraction.HistoryInstance => ScopePermissions.Read,
        FhirInteraction.SearchType or FhirInteraction.SearchSystem or FhirInteraction.HistoryType or FhirInteraction.HistorySystem => ScopePermissions.Search,
        FhirInteraction.Create => ScopePermissions.Create,
        FhirInteraction.Update or FhirInteraction.Patch => ScopePermissions.Update,
        FhirInteraction.Delete => ScopePermissions.Delete,
        _ => throw new ArgumentOutOfRangeException(nameof(interaction), interaction, null),
    };

    internal static TypeAccess RowsFor(AccessContext context, string resourceType, ScopePermissions permission) =>
        TypeAccess.From(resourceType, permission, context.Grants
            .Where(g => g.AppliesTo(resourceType) && g.Permissions.Includes(permission))
            .Select(g => g.Rows));

    private static bool HasAny(AccessContext context, string resourceType, ScopePermissions permission) =>
        context.Grants.Any(g => g.AppliesTo(resourceType) && g.Permissions.Includes(permission));

    private static AccessDecision Deny(AccessContext context, AccessRequest request, string type, ScopePermissions permission) =>
        new(context, request, new AccessDenial(AccessDenialCode.NoScope, type, permission), new HashSet<string>());
}
