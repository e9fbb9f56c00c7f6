namespace Ignis.Smart.Access;

/// <summary>The FHIR interactions the access decision knows.</summary>
public enum FhirInteraction
{
    /// <summary><c>GET [type]/[id]</c>: needs <c>r</c>.</summary>
    Read,
    /// <summary><c>GET [type]/[id]/_history/[vid]</c>: needs <c>r</c>.</summary>
    VRead,
    /// <summary><c>GET [type]?...</c> (also compartment search): needs <c>s</c>.</summary>
    SearchType,
    /// <summary><c>GET /?_type=...</c>: needs <c>s</c> on each type searched.</summary>
    SearchSystem,
    /// <summary><c>GET [type]/[id]/_history</c>: needs <c>r</c> (SMART 2.2 puts instance history under read).</summary>
    HistoryInstance,
    /// <summary><c>GET [type]/_history</c>: needs <c>s</c>.</summary>
    HistoryType,
    /// <summary><c>GET /_history</c>: needs <c>s</c> on each type listed.</summary>
    HistorySystem,
    /// <summary><c>POST [type]</c>: needs <c>c</c>.</summary>
    Create,
    /// <summary><c>PUT [type]/[id]</c>: needs <c>u</c>, and <c>c</c> as well when it creates the resource.</summary>
    Update,
    /// <summary><c>PATCH [type]/[id]</c>: needs <c>u</c>.</summary>
    Patch,
    /// <summary><c>DELETE [type]/[id]</c>: needs <c>d</c>.</summary>
    Delete,
}

/// <summary>
/// A FHIR interaction to decide on: what is done, and to which resource type(s). For a batch or
/// transaction, decide each entry on its own.
/// </summary>
public sealed class AccessRequest
{
    private AccessRequest(FhirInteraction interaction, IReadOnlyList<string> resourceTypes, bool isConditional)
    {
        foreach (var type in resourceTypes)
            ArgumentException.ThrowIfNullOrWhiteSpace(type, nameof(resourceTypes));
        Interaction = interaction;
        ResourceTypes = resourceTypes;
        IsConditional = isConditional;
    }

    /// <summary>The interaction.</summary>
    public FhirInteraction Interaction { get; }

    /// <summary>
    /// The resource types asked for: one for type- and instance-level interactions; for system-level
    /// search and history the <c>_type</c> list, or empty for "every type I may see". Types that only
    /// <c>_include</c>, <c>_revinclude</c>, chains or <c>_has</c> bring in are not listed here: the
    /// engine asks <see cref="AccessDecision.For(string)"/> about them and leaves out what is denied.
    /// </summary>
    public IReadOnlyList<string> ResourceTypes { get; }

    /// <summary>A conditional create, update, patch or delete: the condition is a search, so <c>s</c> is needed too.</summary>
    public bool IsConditional { get; }

    /// <summary>A read of <c>[type]/[id]</c>.</summary>
    public static AccessRequest Read(string resourceType) => new(FhirInteraction.Read, [resourceType], false);

    /// <summary>A vread of <c>[type]/[id]/_history/[vid]</c>.</summary>
    public static AccessRequest VRead(string resourceType) => new(FhirInteraction.VRead, [resourceType], false);

    /// <summary>A search of one type.</summary>
    public static AccessRequest Search(string resourceType) => new(FhirInteraction.SearchType, [resourceType], false);

    /// <summary>A system-level search; no types means every type the caller may search.</summary>
    public static AccessRequest SearchSystem(params IEnumerable<string> resourceTypes) => new(FhirInteraction.SearchSystem, resourceTypes.ToArray(), false);

    /// <summary>The history of one resource.</summary>
    public static AccessRequest HistoryInstance(string resourceType) => new(FhirInteraction.HistoryInstance, [resourceType], false);

    /// <summary>The history of a type.</summary>
    public static AccessRequest HistoryType(string resourceType) => new(FhirInteraction.HistoryType, [resourceType], false);

    /// <summary>The system history; no types means every type the caller may search.</summary>
    public static AccessRequest HistorySystem(params IEnumerable<string> resourceTypes) => new(FhirInteraction.HistorySystem, resourceTypes.ToArray(), false);

    /// <summary>A create (conditional with <c>If-None-Exist</c>).</summary>
    public static AccessRequest Create(string resourceType, bool conditional = false) => new(FhirInteraction.Create, [resourceType], conditional);

    /// <summary>An update, which may turn out to create the resource.</summary>
    public static AccessRequest Update(string resourceType, bool conditional = false) => new(FhirInteraction.Update, [resourceType], conditional);

    /// <summary>A patch.</summary>
    public static AccessRequest Patch(string resourceType, bool conditional = false) => new(FhirInteraction.Patch, [resourceType], conditional);

    /// <summary>A delete.</summary>
    public static AccessRequest Delete(string resourceType, bool conditional = false) => new(FhirInteraction.Delete, [resourceType], conditional);

    /// <summary>Whether the interaction lists many types (system-level search or history).</summary>
    public bool IsSystemLevel => Interaction is FhirInteraction.SearchSystem or FhirInteraction.HistorySystem;

    /// <inheritdoc />
    public override string ToString() =>
        $"{Interaction}{(IsConditional ? " (conditional)" : "")} {string.Join(',', ResourceTypes)}".TrimEnd();
}
