namespace Ignis.Server.Scim.Schema;

/// <summary>RFC 7643 §2.3 data types.</summary>
public enum ScimType { String, Boolean, Decimal, Integer, DateTime, Binary, Reference, Complex }

/// <summary>RFC 7643 §7 "mutability".</summary>
public enum Mutability { ReadOnly, ReadWrite, Immutable, WriteOnly }

/// <summary>RFC 7643 §7 "returned".</summary>
public enum Returned { Always, Never, Default, Request }

/// <summary>RFC 7643 §7 "uniqueness".</summary>
public enum Uniqueness { None, Server, Global }

/// <summary>
/// One attribute definition (RFC 7643 §7). The same definitions drive the /Schemas documents, input validation,
/// filters, PATCH paths, sorting and the attributes/excludedAttributes projection, so none can disagree.
/// </summary>
public sealed record ScimAttribute(string Name, ScimType Type = ScimType.String)
{
    public bool MultiValued { get; init; }
    public bool Required { get; init; }
    public bool CaseExact { get; init; }
    public Mutability Mutability { get; init; } = Mutability.ReadWrite;
    public Returned Returned { get; init; } = Returned.Default;
    public Uniqueness Uniqueness { get; init; } = Uniqueness.None;
    public string Description { get; init; } = "";
    public IReadOnlyList<ScimAttribute> SubAttributes { get; init; } = [];
    public IReadOnlyList<string> CanonicalValues { get; init; } = [];
    public IReadOnlyList<string> ReferenceTypes { get; init; } = [];

    /// <summary>Attribute names are case-insensitive (RFC 7643 §2.1).</summary>
    public ScimAttribute? SubAttribute(string name) =>
        SubAttributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>The sub-attribute a filter or sort on the complex attribute itself compares ("emails co ..." means emails.value).</summary>
    public ScimAttribute? ValueSubAttribute => Type == ScimType.Complex ? SubAttribute("value") : null;

    public bool IsComplex => Type == ScimType.Complex;
}

/// <summary>A schema (RFC 7643 §7): the core schema of a resource type or an extension.</summary>
public sealed record ScimSchema(string Id, string Name, string Description, IReadOnlyList<ScimAttribute> Attributes)
{
    public ScimAttribute? Attribute(string name) =>
        Attributes.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));
}

/// <summary>A resource type (RFC 7643 §6): its endpoint, core schema and extensions.</summary>
public sealed record ScimResourceType(string Id, string Endpoint, string Description, ScimSchema Schema, IReadOnlyList<ScimSchema> Extensions)
{
    public ScimSchema? Extension(string urn) =>
        Extensions.FirstOrDefault(e => string.Equals(e.Id, urn, StringComparison.OrdinalIgnoreCase));

    /// <summary>The core schema or an extension with that URN.</summary>
    public ScimSchema? SchemaById(string urn) =>
        string.Equals(Schema.Id, urn, StringComparison.OrdinalIgnoreCase) ? Schema : Extension(urn);
}
