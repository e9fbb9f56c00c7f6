using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Scim.Filter;
using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Scim;

/// <summary>A list or search request (RFC 7644 §3.4.2, §3.4.3): filter, sort, page and attribute selection.</summary>
public sealed record ScimQuery(string? Filter, string? SortBy, bool Descending, int StartIndex, int Count,
    List<string>? Attributes, List<string>? ExcludedAttributes)
{
    public static ScimQuery FromQueryString(IQueryCollection query, ScimOptions options) => Create(
        Single(query, "filter"), Single(query, "sortBy"), Single(query, "sortOrder"),
        Integer(Single(query, "startIndex"), "startIndex"), Integer(Single(query, "count"), "count"),
        ScimJson.SplitList(Single(query, "attributes")), ScimJson.SplitList(Single(query, "excludedAttributes")), options);

    /// <summary>The body of POST .search (urn:ietf:params:scim:api:messages:2.0:SearchRequest).</summary>
    public static ScimQuery FromSearchRequest(JsonObject body, ScimOptions options)
    {
        if (ScimJson.Get(body, "schemas") is not JsonArray schemas
            || !schemas.Any(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String
                && string.Equals(v.GetValue<string>(), ScimSchemas.SearchRequestUrn, StringComparison.OrdinalIgnoreCase)))
            throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"A search request must list \"{ScimSchemas.SearchRequestUrn}\" in \"schemas\".");
        return Create(Text(body, "filter"), Text(body, "sortBy"), Text(body, "sortOrder"),
            Number(body, "startIndex"), Number(body, "count"), List(body, "attributes"), List(body, "excludedAttributes"), options);
    }

    private static ScimQuery Create(string? filter, string? sortBy, string? sortOrder, long? startIndex, long? count,
        List<string>? attributes, List<string>? excluded, ScimOptions options)
    {
        var descending = sortOrder?.ToLowerInvariant() switch
        {
            null or "" or "ascending" => false,
            "descending" => true,
            _ => throw ScimException.BadRequest(ScimErrorType.InvalidValue, "sortOrder must be ascending or descending."),
        };
        // RFC 7644 §3.4.2.4: a startIndex below 1 means 1; a negative count means 0.
        var start = (int)Math.Clamp(startIndex ?? 1, 1, int.MaxValue);
        var size = (int)Math.Clamp(count ?? options.MaxResults, 0, options.MaxResults);
        return new ScimQuery(string.IsNullOrWhiteSpace(filter) ? null : filter, string.IsNullOrWhiteSpace(sortBy) ? null : sortBy.Trim(),
            descending, start, size, attributes, excluded);
    }

    private static string? Single(IQueryCollection query, string name)
    {
        foreach (var (key, values) in query)
        {
            if (!string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) continue;
            if (values.Count > 1) throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{name}' may be given once.");
            return values.ToString();
        }
        return null;
    }

    private static long? Integer(string? text, string name)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        return long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{name}' must be an integer.");
    }

    private static string? Text(JsonObject body, string name) => ScimJson.Get(body, name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{name}' must be a string."),
    };

    private static long? Number(JsonObject body, string name) => ScimJson.Get(body, name) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var n) => n,
        _ => throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{name}' must be an integer."),
    };

    private static List<string>? List(JsonObject body, string name) => ScimJson.Get(body, name) switch
    {
        null => null,
        JsonArray array when array.All(a => a is JsonValue v && v.GetValueKind() == JsonValueKind.String) =>
            [.. array.Select(a => a!.GetValue<string>())],
        JsonValue v when v.GetValueKind() == JsonValueKind.String => ScimJson.SplitList(v.GetValue<string>()),
        _ => throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{name}' must be an array of attribute names."),
    };

    /// <summary>The bound filter, or null.</summary>
    public FilterNode? BindFilter(ScimResourceType type) => Filter is null ? null : FilterBinder.Bind(FilterParser.Parse(Filter), type);

    /// <summary>The attribute sortBy names, or null.</summary>
    public AttributeRef? BindSort(ScimResourceType type)
    {
        if (SortBy is null) return null;
        AttributePath path;
        try
        {
            path = FilterParser.ParsePath(SortBy) is { ValueFilter: null, SubAttribute: null } p ? p.Path
                : throw ScimException.BadRequest(ScimErrorType.InvalidValue, "sortBy must name an attribute, without a filter.");
        }
        catch (ScimException e) when (e.ScimType == ScimErrorType.InvalidPath)
        {
            throw ScimException.BadRequest(ScimErrorType.InvalidValue, "sortBy: " + e.Detail);
        }
        return FilterBinder.Resolve(path, type, null, ScimErrorType.InvalidValue);
    }

    /// <summary>A ListResponse (RFC 7644 §3.4.2) of one page of the matches.</summary>
    public JsonObject ListResponse(int total, IEnumerable<JsonObject> page)
    {
        var resources = new JsonArray([.. page]);
        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.ListResponseUrn),
            ["totalResults"] = total,
            ["itemsPerPage"] = resources.Count,
            ["startIndex"] = StartIndex,
            ["Resources"] = resources,
        };
    }
}

/// <summary>
/// RFC 7644 §3.4.2.3 ordering: by the attribute's type, case-insensitive unless caseExact, the primary (or first)
/// value of a multi-valued attribute; resources without a value come last when ascending, first when descending.
/// </summary>
public sealed class ScimSortComparer(AttributeRef target, bool descending) : IComparer<JsonObject>
{
    public int Compare(JsonObject? x, JsonObject? y)
    {
        var a = Key(x);
        var b = Key(y);
        int result;
        if (a is null && b is null) result = 0;
        else if (a is null) result = 1;
        else if (b is null) result = -1;
        else result = CompareValues(a, b);
        if (descending) result = -result;
        return result != 0 ? result : string.CompareOrdinal((string?)x?["id"], (string?)y?["id"]);
    }

    private int CompareValues(JsonValue a, JsonValue b)
    {
        var leaf = target.Leaf!;
        return leaf.Type switch
        {
            ScimType.Boolean => a.GetValue<bool>().CompareTo(b.GetValue<bool>()),
            ScimType.Integer or ScimType.Decimal => a.GetValue<decimal>().CompareTo(b.GetValue<decimal>()),
            ScimType.DateTime when FilterEvaluator.TryParseDate(a.GetValue<string>(), out var da) && FilterEvaluator.TryParseDate(b.GetValue<string>(), out var db) =>
                da.CompareTo(db),
            _ => FilterEvaluator.CompareStrings(a.ToString(), b.ToString(), leaf.CaseExact),
        };
    }

    private JsonValue? Key(JsonObject? resource)
    {
        if (resource is null) return null;
        var node = ScimJson.Locate(resource, target);
        if (node is JsonArray array)
            node = array.OfType<JsonObject>().FirstOrDefault(ScimJson.IsPrimary) ?? array.FirstOrDefault();
        var sub = target.Sub?.Name ?? (target.Attribute.IsComplex ? target.Attribute.ValueSubAttribute?.Name : null);
        if (sub is not null) node = (node as JsonObject)?[sub];
        return node is JsonValue v && FilterEvaluator.IsPresent(v) ? v : null;
    }
}
