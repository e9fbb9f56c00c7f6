using System.Globalization;
using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Scim.Filter;

/// <summary>An attribute path as written: [schema URN ":"] name ["." sub-attribute] (RFC 7644 §3.10).</summary>
public sealed record AttributePath(string? SchemaUrn, string Name, string? Sub)
{
    public static AttributePath Parse(string text)
    {
        string? urn = null;
        var rest = text;
        if (text.StartsWith("urn:", StringComparison.OrdinalIgnoreCase))
        {
            // Attribute names never contain ':'; the URN itself may contain dots ("2.0").
            var colon = text.LastIndexOf(':');
            urn = text[..colon];
            rest = text[(colon + 1)..];
        }
        var dot = rest.IndexOf('.');
        return dot < 0 ? new AttributePath(urn, rest, null) : new AttributePath(urn, rest[..dot], rest[(dot + 1)..]);
    }

    public override string ToString() => (SchemaUrn is null ? "" : SchemaUrn + ":") + Name + (Sub is null ? "" : "." + Sub);
}

/// <summary>
/// Where an attribute path points once resolved against a resource type: a top-level attribute (core or common),
/// an attribute inside an extension object, or (Relative) a sub-attribute of the element a value filter is testing.
/// </summary>
public sealed record AttributeRef(ScimSchema? Extension, ScimAttribute Attribute, ScimAttribute? Sub, bool Relative = false)
{
    /// <summary>The attribute whose values are compared: the sub-attribute, or "value" of a complex attribute.</summary>
    public ScimAttribute? Leaf => Sub ?? (Attribute.IsComplex ? Attribute.ValueSubAttribute : Attribute);
}

public enum CompareOp { Eq, Ne, Co, Sw, Ew, Gt, Ge, Lt, Le }

/// <summary>A comparison value: a JSON string, number, true/false or null.</summary>
public sealed record FilterValue(string? String, decimal? Number, bool? Bool)
{
    private static readonly System.Text.Json.JsonSerializerOptions Relaxed =
        new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public bool IsNull => String is null && Number is null && Bool is null;

    public override string ToString() =>
        String is not null ? System.Text.Json.JsonSerializer.Serialize(String, Relaxed)
        : Number is { } n ? n.ToString(CultureInfo.InvariantCulture)
        : Bool is { } b ? (b ? "true" : "false")
        : "null";
}

/// <summary>The filter AST. Parsed nodes carry paths; bound nodes also carry what the paths resolve to.</summary>
public abstract record FilterNode;

public sealed record AndNode(FilterNode Left, FilterNode Right) : FilterNode
{
    public override string ToString() => $"({Left} and {Right})";
}

public sealed record OrNode(FilterNode Left, FilterNode Right) : FilterNode
{
    public override string ToString() => $"({Left} or {Right})";
}

public sealed record NotNode(FilterNode Inner) : FilterNode
{
    public override string ToString() => $"not({Inner})";
}

public sealed record PresentNode(AttributePath Path, AttributeRef? Target = null) : FilterNode
{
    public override string ToString() => $"{Path} pr";
}

public sealed record CompareNode(AttributePath Path, CompareOp Op, FilterValue Value, AttributeRef? Target = null) : FilterNode
{
    public override string ToString() => $"{Path} {Op.ToString().ToLowerInvariant()} {Value}";
}

/// <summary>attrPath "[" valFilter "]": some element of a complex attribute satisfies the inner filter.</summary>
public sealed record ValuePathNode(AttributePath Path, FilterNode Filter, AttributeRef? Target = null) : FilterNode
{
    public override string ToString() => $"{Path}[{Filter}]";
}

/// <summary>A PATCH path: attrPath, or valuePath with an optional trailing sub-attribute (RFC 7644 §3.5.2).</summary>
public sealed record PatchPath(AttributePath Path, FilterNode? ValueFilter, string? SubAttribute)
{
    public override string ToString() => Path + (ValueFilter is null ? "" : $"[{ValueFilter}]") + (SubAttribute is null ? "" : "." + SubAttribute);
}
