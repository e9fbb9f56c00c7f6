using Ignis.Smart.Scopes;

namespace Ignis.Smart.Access;

/// <summary>
/// The answer to one <see cref="AccessRequest"/>: denied (403 with <see cref="Denial"/>), or allowed with
/// the constraints the FHIR engine must apply inside its queries and checks:
/// <list type="bullet">
/// <item>the rows of each type, <see cref="For(string)"/>: compartment and granular filters (OR of ANDs);</item>
/// <item>for system-level search and history, the types to look at, <see cref="AllowedTypes"/>;</item>
/// <item>for a resource loaded by id, <see cref="Permits"/> (read, vread, each version of instance history);</item>
/// <item>for writes, <see cref="CheckWrite"/> with the resource before and after.</item>
/// </list>
/// A decision belongs to one request (or one batch entry) and caches the rows it computes; it is not
/// meant to be shared between threads.
/// </summary>
public sealed class AccessDecision
{
    private readonly AccessContext _context;
    private readonly Dictionary<(string, ScopePermissions), TypeAccess> _rows = [];

    internal AccessDecision(AccessContext context, AccessRequest request, AccessDenial? denial, IReadOnlySet<string>? allowedTypes)
    {
        _context = context;
        Request = request;
        Denial = denial;
        AllowedTypes = allowedTypes;
    }

    /// <summary>The request decided on.</summary>
    public AccessRequest Request { get; }

    /// <summary>The permission the interaction needs (<see cref="AccessPolicy.PermissionFor"/>).</summary>
    public ScopePermissions Permission => AccessPolicy.PermissionFor(Request.Interaction);

    /// <summary>Whether the interaction may go ahead (under the constraints).</summary>
    public bool IsAllowed => Denial is null;

    /// <summary>Why the interaction is denied; null when allowed.</summary>
    public AccessDenial? Denial { get; }

    /// <summary>
    /// The types the interaction may touch. For a system-level search or history without <c>_type</c>:
    /// the types some scope gives <c>s</c> on, or null when a <c>*</c> scope gives every type (ask
    /// <see cref="For(string)"/> for each type's rows all the same). Otherwise the requested types.
    /// Empty when denied.
    /// </summary>
    public IReadOnlySet<string>? AllowedTypes { get; }

    /// <summary>
    /// The rows of <paramref name="resourceType"/> reachable with this interaction's permission. Use it for
    /// the requested types and also for every type the request reaches indirectly (<c>_include</c>,
    /// <c>_revinclude</c>, chained and <c>_has</c> parameters): a type that is not allowed contributes
    /// no rows (includes left out, chains and <c>_has</c> match nothing).
    /// </summary>
    public TypeAccess For(string resourceType) => For(resourceType, Permission);

    /// <summary>
    /// The rows of <paramref name="resourceType"/> reachable with one <paramref name="permission"/>, e.g.
    /// <see cref="ScopePermissions.Search"/> for the search behind a conditional write.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="permission"/> is not exactly one permission.</exception>
    public TypeAccess For(string resourceType, ScopePermissions permission)
    {
        if (permission == ScopePermissions.None || (permission & (permission - 1)) != 0)
            throw new ArgumentException("Ask for exactly one permission (c, r, u, d or s).", nameof(permission));
        if (!IsAllowed)
            return new TypeAccess(resourceType, permission, []);
        if (!_rows.TryGetValue((resourceType, permission), out var access))
        {
            access = AccessPolicy.RowsFor(_context, resourceType, permission);
            _rows[(resourceType, permission)] = access;
        }
        return access;
    }

    /// <summary>
    /// Whether a resource loaded by id (read, vread, one version of an instance history) may be returned.
    /// When false, answer as if it did not exist (404), so the caller learns nothing about other patients.
    /// </summary>
    public bool Permits(IResourceOracle resource) => IsAllowed && For(resource.ResourceType).Matches(resource);

    /// <summary>
    /// The check for a write, called by the engine once it knows the stored resource (if any) and the
    /// resource as it would be stored: both must lie in the rows the scopes allow for the permission,
    /// so a patient-scoped token cannot write into another patient's compartment nor move a resource out
    /// of its own. An update that creates (no <paramref name="before"/>) also needs <c>c</c>.
    /// </summary>
    /// <param name="before">The current resource; null for a create, an update that creates, or a delete of nothing.</param>
    /// <param name="after">The resource as it would be stored; null for a delete.</param>
    /// <returns>Null when the write may go ahead; otherwise the denial (403).</returns>
    /// <exception cref="InvalidOperationException">The request is not a create, update, patch or delete.</exception>
    /// <exception cref="ArgumentException">A resource is missing, or of another type than the request's.</exception>
    public AccessDenial? CheckWrite(IResourceOracle? before, IResourceOracle? after)
    {
        if (Request.Interaction is not (FhirInteraction.Create or FhirInteraction.Update or FhirInteraction.Patch or FhirInteraction.Delete))
            throw new InvalidOperationException($"CheckWrite is for create, update, patch and delete, not {Request.Interaction}; use Permits for reads.");
        if (Denial is not null)
            return Denial;

        var type = Request.ResourceTypes[0];
        CheckType(before, type, nameof(before));
        CheckType(after, type, nameof(after));

        switch (Request.Interaction)
        {
            case FhirInteraction.Create:
                return Written(Required(after, nameof(after)), ScopePermissions.Create);

            case FhirInteraction.Update when before is null:
                // Update as create: a new resource enters the grant, so c is needed as well as u.
                var create = For(type, ScopePermissions.Create);
                if (!create.IsAllowed)
                    return new AccessDenial(AccessDenialCode.NoScope, type, ScopePermissions.Create);
                return Written(Required(after, nameof(after)), ScopePermissions.Create)
                    ?? Written(after!, ScopePermissions.Update);

            case FhirInteraction.Update or FhirInteraction.Patch:
                return Existing(Required(before, nameof(before)), ScopePermissions.Update)
                    ?? Written(Required(after, nameof(after)), ScopePermissions.Update);

            default: // Delete
                return before is null ? null : Existing(before, ScopePermissions.Delete);
        }
    }

    private AccessDenial? Written(IResourceOracle resource, ScopePermissions permission) =>
        For(resource.ResourceType, permission).Matches(resource)
            ? null
            : new AccessDenial(AccessDenialCode.WriteOutsideGrant, resource.ResourceType, permission);

    private AccessDenial? Existing(IResourceOracle resource, ScopePermissions permission) =>
        For(resource.ResourceType, permission).Matches(resource)
            ? null
            : new AccessDenial(AccessDenialCode.ExistingOutsideGrant, resource.ResourceType, permission);

    private static IResourceOracle Required(IResourceOracle? resource, string name) =>
        resource ?? throw new ArgumentException($"{name} is required for this interaction.", name);

    private static void CheckType(IResourceOracle? resource, string type, string name)
    {
        if (resource is not null && resource.ResourceType != type)
            throw new ArgumentException($"{name} is a {resource.ResourceType}, the request is about {type}.", name);
    }

    /// <inheritdoc />
    public override string ToString() => IsAllowed ? $"Allow {Request}" : $"Deny {Request}: {Denial!.Code}";
}
