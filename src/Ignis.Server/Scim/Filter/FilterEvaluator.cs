using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Scim.Filter;

/// <summary>
/// Evaluates a bound filter against a resource in its SCIM JSON form (RFC 7644 §3.4.2.2): a multi-valued
/// attribute matches when any of its values does; strings compare case-insensitively unless the attribute is
/// caseExact; dateTimes compare as instants; ne and not(...) match resources without the attribute.
/// </summary>
public static class FilterEvaluator
{
    public static bool Matches(FilterNode node, JsonObject resource) => Matches(node, resource, element: null);

    /// <summary>Whether one element of a complex attribute satisfies a value filter bound to that attribute.</summary>
    public static bool MatchesElement(FilterNode filter, JsonObject resource, JsonObject element) => Matches(filter, resource, element);

    private static bool Matches(FilterNode node, JsonObject resource, JsonObject? element) => node switch
    {
        AndNode and => Matches(and.Left, resource, element) && Matches(and.Right, resource, element),
        OrNode or => Matches(or.Left, resource, element) || Matches(or.Right, resource, element),
        NotNode not => !Matches(not.Inner, resource, element),
        PresentNode present => Values(Bound(present.Target), resource, element, leafOnly: false).Any(IsPresent),
        CompareNode compare => MatchesCompare(compare, resource, element),
        ValuePathNode valuePath => Elements(ScimJson.Locate(resource, Bound(valuePath.Target)))
            .Any(e => Matches(valuePath.Filter, resource, e)),
        _ => throw new InvalidOperationException("Unknown filter node " + node.GetType().Name),
    };

    private static AttributeRef Bound(AttributeRef? target) =>
        target ?? throw new InvalidOperationException("The filter must be bound before it is evaluated.");

    private static bool MatchesCompare(CompareNode node, JsonObject resource, JsonObject? element)
    {
        var target = Bound(node.Target);
        var values = Values(target, resource, element, leafOnly: true).Where(IsPresent);
        if (node.Value.IsNull)
            return node.Op == CompareOp.Eq ? !values.Any() : values.Any();
        var leaf = target.Leaf!;
        var any = values.Any(v => Compare(v, node.Op == CompareOp.Ne ? CompareOp.Eq : node.Op, node.Value, leaf));
        return node.Op == CompareOp.Ne ? !any : any;
    }

    /// <summary>The values a path selects: each value of a multi-valued attribute, "value" of complex ones when leafOnly.</summary>
    private static IEnumerable<JsonNode?> Values(AttributeRef target, JsonObject resource, JsonObject? element, bool leafOnly)
    {
        var node = target.Relative ? ScimJson.Get(element, target.Attribute.Name) : ScimJson.Locate(resource, target);
        var attribute = target.Attribute;
        var sub = target.Sub?.Name ?? (leafOnly && attribute.IsComplex ? attribute.ValueSubAttribute?.Name : null);
        foreach (var value in node is JsonArray array ? (IEnumerable<JsonNode?>)array : new[] { node })
            yield return sub is null ? value : ScimJson.Get(value as JsonObject, sub);
    }

    private static IEnumerable<JsonObject> Elements(JsonNode? node) => node switch
    {
        JsonArray array => array.OfType<JsonObject>(),
        JsonObject single => [single],
        _ => [],
    };

    public static bool IsPresent(JsonNode? value) => value switch
    {
        null => false,
        JsonArray array => array.Count > 0,
        JsonObject obj => obj.Count > 0,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>().Length > 0,
        JsonValue v => v.GetValueKind() != JsonValueKind.Null,
        _ => true,
    };

    private static bool Compare(JsonNode? node, CompareOp op, FilterValue value, ScimAttribute leaf)
    {
        if (node is not JsonValue v) return false;
        switch (leaf.Type)
        {
            case ScimType.Boolean:
                return v.GetValueKind() is JsonValueKind.True or JsonValueKind.False && v.GetValue<bool>() == value.Bool;
            case ScimType.Decimal or ScimType.Integer:
                return v.GetValueKind() == JsonValueKind.Number && Order(v.GetValue<decimal>().CompareTo(value.Number!.Value), op);
            case ScimType.DateTime:
                return v.GetValueKind() == JsonValueKind.String && TryParseDate(v.GetValue<string>(), out var left)
                    && TryParseDate(value.String!, out var right) && Order(left.CompareTo(right), op);
            default:
                if (v.GetValueKind() != JsonValueKind.String) return false;
                var text = v.GetValue<string>();
                var comparison = leaf.CaseExact ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase;
                return op switch
                {
                    CompareOp.Eq => string.Equals(text, value.String, comparison),
                    CompareOp.Co => text.Contains(value.String!, comparison),
                    CompareOp.Sw => text.StartsWith(value.String!, comparison),
                    CompareOp.Ew => text.EndsWith(value.String!, comparison),
                    _ => Order(CompareStrings(text, value.String!, leaf.CaseExact), op),
                };
        }
    }

    /// <summary>Unicode code-point order, case-folded unless caseExact (RFC 7644 §3.4.2.3: no locale).</summary>
    public static int CompareStrings(string a, string b, bool caseExact) =>
        caseExact ? string.CompareOrdinal(a, b) : string.CompareOrdinal(a.ToUpperInvariant(), b.ToUpperInvariant());

    private static bool Order(int sign, CompareOp op) => op switch
    {
        CompareOp.Eq => sign == 0,
        CompareOp.Gt => sign > 0,
        CompareOp.Ge => sign >= 0,
        CompareOp.Lt => sign < 0,
        CompareOp.Le => sign <= 0,
        _ => false,
    };

    public static bool TryParseDate(string text, out DateTimeOffset value) =>
        DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value)
        && text.Length >= 10 && char.IsAsciiDigit(text[0]);
}
