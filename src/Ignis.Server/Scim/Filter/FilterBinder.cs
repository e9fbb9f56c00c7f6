using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Scim.Filter;

/// <summary>
/// Resolves the attribute paths of a parsed filter against a resource type's schemas and checks every
/// comparison against the attribute's type, so that a filter is refused (400 invalidFilter) before any
/// resource is looked at, whether or not resources exist.
/// </summary>
public static class FilterBinder
{
    public static FilterNode Bind(FilterNode node, ScimResourceType type) => Bind(node, type, parent: null);

    /// <summary>Binds the filter of a PATCH value path to the complex attribute it selects elements of.</summary>
    public static FilterNode BindValueFilter(FilterNode node, ScimResourceType type, ScimAttribute attribute) => Bind(node, type, attribute);

    private static FilterNode Bind(FilterNode node, ScimResourceType type, ScimAttribute? parent) => node switch
    {
        AndNode and => new AndNode(Bind(and.Left, type, parent), Bind(and.Right, type, parent)),
        OrNode or => new OrNode(Bind(or.Left, type, parent), Bind(or.Right, type, parent)),
        NotNode not => new NotNode(Bind(not.Inner, type, parent)),
        PresentNode present => present with { Target = Resolve(present.Path, type, parent, ScimErrorType.InvalidFilter) },
        CompareNode compare => BindCompare(compare, Resolve(compare.Path, type, parent, ScimErrorType.InvalidFilter)),
        ValuePathNode valuePath => BindValuePath(valuePath, type, parent),
        _ => throw new InvalidOperationException("Unknown filter node " + node.GetType().Name),
    };

    private static ValuePathNode BindValuePath(ValuePathNode node, ScimResourceType type, ScimAttribute? parent)
    {
        if (parent is not null) throw Invalid($"A value filter cannot be nested inside another ('{node.Path}').");
        var target = Resolve(node.Path, type, null, ScimErrorType.InvalidFilter);
        if (target.Sub is not null || !target.Attribute.IsComplex)
            throw Invalid($"'{node.Path}[...]' needs a complex attribute before '['.");
        return node with { Target = target, Filter = Bind(node.Filter, type, target.Attribute) };
    }

    private static CompareNode BindCompare(CompareNode node, AttributeRef target)
    {
        var leaf = target.Leaf ?? throw Invalid($"'{node.Path}' is a complex attribute; compare one of its sub-attributes (e.g. {node.Path}.{target.Attribute.SubAttributes[0].Name}).");
        var op = node.Op;
        var value = node.Value;
        if (value.IsNull)
        {
            if (op is not (CompareOp.Eq or CompareOp.Ne)) throw Invalid($"null can only be compared with eq or ne ('{node}').");
            return node with { Target = target };
        }
        switch (leaf.Type)
        {
            case ScimType.Boolean:
                if (op is not (CompareOp.Eq or CompareOp.Ne)) throw Invalid($"'{node.Path}' is a boolean: only eq and ne apply.");
                if (value.Bool is null) throw Invalid($"'{node.Path}' is a boolean: compare it with true or false.");
                break;
            case ScimType.Decimal or ScimType.Integer:
                if (op is CompareOp.Co or CompareOp.Sw or CompareOp.Ew) throw Invalid($"'{node.Path}' is a number: co, sw and ew do not apply.");
                if (value.Number is null) throw Invalid($"'{node.Path}' is a number: compare it with a number.");
                break;
            case ScimType.DateTime:
                if (op is CompareOp.Co or CompareOp.Sw or CompareOp.Ew) throw Invalid($"'{node.Path}' is a dateTime: co, sw and ew do not apply.");
                if (value.String is null || !FilterEvaluator.TryParseDate(value.String, out _))
                    throw Invalid($"'{node.Path}' is a dateTime: compare it with an xsd:dateTime string such as \"2024-05-13T04:42:34Z\".");
                break;
            case ScimType.Binary:
                if (op is not (CompareOp.Eq or CompareOp.Ne)) throw Invalid($"'{node.Path}' is binary: only eq and ne apply.");
                if (value.String is null) throw Invalid($"'{node.Path}' is binary: compare it with a base64 string.");
                break;
            default:
                if (value.String is null) throw Invalid($"'{node.Path}' is a string: compare it with a \"string\".");
                break;
        }
        return node with { Target = target };
    }

    /// <summary>Resolves a path against a resource type (or, inside a value filter, against the complex attribute).</summary>
    public static AttributeRef Resolve(AttributePath path, ScimResourceType type, ScimAttribute? parent, string errorType)
    {
        ScimException Unknown(string what) => ScimException.BadRequest(errorType, what);
        if (parent is not null)
        {
            if (path.SchemaUrn is not null || path.Sub is not null)
                throw Unknown($"Inside '{parent.Name}[...]' use the names of its sub-attributes, not '{path}'.");
            var sub = parent.SubAttribute(path.Name)
                ?? throw Unknown($"'{parent.Name}' has no sub-attribute '{path.Name}'.");
            return new AttributeRef(null, sub, null, Relative: true);
        }

        ScimSchema? extension = null;
        ScimAttribute? attribute;
        if (path.SchemaUrn is { } urn)
        {
            var schema = type.SchemaById(urn) ?? throw Unknown($"'{urn}' is not a schema of {type.Id} resources.");
            if (schema != type.Schema) extension = schema;
            attribute = schema.Attribute(path.Name) ?? (extension is null ? Common(path.Name) : null);
        }
        else
        {
            attribute = Common(path.Name) ?? type.Schema.Attribute(path.Name);
        }
        if (attribute is null) throw Unknown($"'{path}' is not an attribute of {type.Id} resources.");

        ScimAttribute? subAttribute = null;
        if (path.Sub is not null)
        {
            if (!attribute.IsComplex) throw Unknown($"'{attribute.Name}' has no sub-attributes ('{path}').");
            subAttribute = attribute.SubAttribute(path.Sub) ?? throw Unknown($"'{attribute.Name}' has no sub-attribute '{path.Sub}'.");
        }
        return new AttributeRef(extension, attribute, subAttribute);
    }

    private static ScimAttribute? Common(string name) =>
        ScimSchemas.Common.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    private static ScimException Invalid(string detail) => ScimException.BadRequest(ScimErrorType.InvalidFilter, detail);
}
