using Ignis.Smart.Scopes;

namespace Ignis.Smart.Access;

/// <summary>
/// One way a row may be allowed: in this patient's compartment (or any, when null) AND matching this
/// granular query (or any, when null).
/// </summary>
/// <param name="PatientCompartment">Rows must be in <c>Patient/{id}</c>'s compartment; null = any patient.</param>
/// <param name="Query">Rows must match this granular query; null = no filter.</param>
public sealed record RowFilter(string? PatientCompartment, ScopeQuery? Query)
{
    /// <summary>No condition at all: every row of the type.</summary>
    public static RowFilter Unrestricted { get; } = new(null, null);

    /// <summary>Whether this filter lets every row through.</summary>
    public bool IsUnrestricted => PatientCompartment is null && Query is null;

    /// <summary>Whether every row <paramref name="other"/> allows is also allowed by this filter.</summary>
    public bool Covers(RowFilter other) =>
        (PatientCompartment is null || PatientCompartment == other.PatientCompartment)
        && (Query is null || (other.Query is not null && other.Query.IsAtLeastAsNarrowAs(Query)));

    /// <summary>Whether <paramref name="resource"/> passes this filter.</summary>
    public bool Matches(IResourceOracle resource) =>
        (PatientCompartment is null || resource.IsInPatientCompartment(PatientCompartment))
        && (Query is null || resource.Matches(Query));
}

/// <summary>
/// The rows of one resource type a caller may reach with one permission: those matching ANY of
/// <see cref="AnyOf"/> (OR between scopes; within one filter, compartment AND query). The FHIR engine
/// compiles this into the query (search, history, includes, chains, <c>_has</c>) and checks it on
/// single resources (read, vread, instance history, writes).
/// </summary>
public sealed class TypeAccess
{
    internal TypeAccess(string resourceType, ScopePermissions permission, IReadOnlyList<RowFilter> anyOf)
    {
        ResourceType = resourceType;
        Permission = permission;
        AnyOf = anyOf;
    }

    /// <summary>The resource type.</summary>
    public string ResourceType { get; }

    /// <summary>The permission these rows are allowed for.</summary>
    public ScopePermissions Permission { get; }

    /// <summary>
    /// The filters, any of which lets a row through. Empty: nothing allowed. Simplified: no filter in
    /// the list is covered by another, so an unrestricted grant is the only entry.
    /// </summary>
    public IReadOnlyList<RowFilter> AnyOf { get; }

    /// <summary>Whether any row may be reached.</summary>
    public bool IsAllowed => AnyOf.Count > 0;

    /// <summary>Whether every row may be reached: no compartment and no granular filter to apply.</summary>
    public bool IsUnrestricted => AnyOf.Count == 1 && AnyOf[0].IsUnrestricted;

    /// <summary>Whether <paramref name="resource"/> is one of the allowed rows.</summary>
    public bool Matches(IResourceOracle resource) => AnyOf.Any(f => f.Matches(resource));

    /// <inheritdoc />
    public override string ToString() =>
        !IsAllowed ? $"{ResourceType}.{Permission.ToLetters()}: none"
        : $"{ResourceType}.{Permission.ToLetters()}: " + string.Join(" OR ", AnyOf.Select(f =>
            f.IsUnrestricted ? "all" : string.Join(" AND ", new[] { f.PatientCompartment is { } p ? $"Patient/{p}" : null, f.Query?.Text }.OfType<string>())));

    internal static TypeAccess From(string resourceType, ScopePermissions permission, IEnumerable<RowFilter> filters)
    {
        var kept = new List<RowFilter>();
        foreach (var filter in filters)
        {
            if (kept.Any(k => k.Covers(filter)))
                continue;
            kept.RemoveAll(filter.Covers);
            kept.Add(filter);
        }
        return new TypeAccess(resourceType, permission, kept);
    }
}
