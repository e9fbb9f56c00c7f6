using System.Collections.Frozen;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search;

/// <summary>
/// Every search parameter the server supports, per resource type: the R4 definitions of the Firely SDK
/// (their shared multi-resource expressions narrowed to each type) plus the resource-level parameters
/// the SDK lacks (_id, _lastUpdated, _tag, _profile, _security, _source).
/// </summary>
public sealed class SearchParameterRegistry
{
    public static SearchParameterRegistry Default { get; } = new();

    private readonly FrozenDictionary<string, FrozenDictionary<string, SearchParam>> _byType;

    public SearchParameterRegistry()
    {
        var byType = new Dictionary<string, Dictionary<string, SearchParam>>(StringComparer.Ordinal);
        var byUrl = ModelInfo.SearchParameters
            .Where(d => d.Url is not null)
            .GroupBy(d => d.Url!)
            .ToDictionary(g => g.Key, g => g.First());

        foreach (var type in ModelInfo.SupportedResources)
        {
            if (!ModelInfo.IsKnownResource(type) || type is "Resource" or "DomainResource") continue;
            var map = new Dictionary<string, SearchParam>(StringComparer.Ordinal);
            foreach (var p in ResourceLevel(type)) map[p.Code] = p;
            byType[type] = map;
        }

        foreach (var def in ModelInfo.SearchParameters)
        {
            if (def.Resource is null || !byType.TryGetValue(def.Resource, out var map)) continue;
            if (def.Code is null || def.Code.StartsWith('_')) continue; // _text and friends: not supported
            var expression = def.Expression is null ? null : NarrowExpression(def.Expression, def.Resource);
            if (string.IsNullOrEmpty(expression)) continue;

            var components = new List<SearchParamComponentInfo>();
            if (def.Type == SearchParamType.Composite)
            {
                var ok = true;
                foreach (var c in def.Component ?? [])
                {
                    if (c.Definition is null || !byUrl.TryGetValue(c.Definition, out var cdef) || cdef.Code is null)
                    {
                        ok = false;
                        break;
                    }
                    components.Add(new SearchParamComponentInfo(
                        cdef.Code, cdef.Type, FixComponentExpression(def.Resource, def.Code, c.Definition, c.Expression), c.Definition));
                }
                if (!ok || components.Count == 0) continue;
            }

            map[def.Code] = new SearchParam(
                def.Resource, def.Code, def.Type, expression,
                (def.Target ?? []).Select(t => t.ToString()).ToArray(),
                components, def.Url ?? "", def.Description?.Value);
        }

        _byType = byType.ToFrozenDictionary(
            kv => kv.Key, kv => kv.Value.ToFrozenDictionary(StringComparer.Ordinal), StringComparer.Ordinal);

        var ids = new Dictionary<int, SearchParam>();
        foreach (var p in _byType.Values.SelectMany(m => m.Values))
        {
            if (ids.TryGetValue(p.Id, out var other))
                throw new InvalidOperationException(
                    $"Search parameter ids collide: {p.ResourceType}.{p.Code} and {other.ResourceType}.{other.Code}.");
            ids[p.Id] = p;
        }
    }

    /// <summary>The resource types that have search parameters (every concrete R4 resource type).</summary>
    public IEnumerable<string> ResourceTypes => _byType.Keys;

    public bool IsKnownType(string type) => _byType.ContainsKey(type);

    public IReadOnlyCollection<SearchParam> For(string resourceType) =>
        _byType.TryGetValue(resourceType, out var map) ? map.Values : [];

    public SearchParam? Find(string resourceType, string code) =>
        _byType.TryGetValue(resourceType, out var map) && map.TryGetValue(code, out var p) ? p : null;

    /// <summary>Parameters common to all types (used by system-level search): those defined on Resource.</summary>
    public IEnumerable<SearchParam> Common => ResourceLevel("Resource");

    private static IEnumerable<SearchParam> ResourceLevel(string type)
    {
        const string b = "http://hl7.org/fhir/SearchParameter/Resource-";
        yield return new(type, "_id", SearchParamType.Token, null, [], [], b + "id", "Logical id of this artifact");
        yield return new(type, "_lastUpdated", SearchParamType.Date, null, [], [], b + "lastUpdated", "When the resource version last changed");
        yield return new(type, "_tag", SearchParamType.Token, type + ".meta.tag", [], [], b + "tag", "Tags applied to this resource");
        yield return new(type, "_profile", SearchParamType.Uri, type + ".meta.profile", [], [], b + "profile", "Profiles this resource claims to conform to");
        yield return new(type, "_security", SearchParamType.Token, type + ".meta.security", [], [], b + "security", "Security Labels applied to this resource");
        yield return new(type, "_source", SearchParamType.Uri, type + ".meta.source", [], [], b + "source", "Identifies where the resource comes from");
    }

    /// <summary>
    /// Corrects component expressions that are wrong in the published R4 definitions:
    /// DocumentReference-relationship pairs relatesto (a Reference) with "code" and relation (a code) with
    /// "target"; Observation-code-value-date casts to "DateTime", the System type, which no FHIR element is.
    /// </summary>
    internal static string FixComponentExpression(string resource, string code, string definition, string expression)
    {
        if (resource == "DocumentReference" && code == "relationship")
        {
            if (definition.EndsWith("/DocumentReference-relatesto", StringComparison.Ordinal) && expression == "code") return "target";
            if (definition.EndsWith("/DocumentReference-relation", StringComparison.Ordinal) && expression == "target") return "code";
        }
        return expression.Replace("as(DateTime)", "as(dateTime)", StringComparison.Ordinal);
    }

    /// <summary>
    /// Keeps the branches of a top-level union that apply to <paramref name="type"/>:
    /// "Condition.subject | Observation.subject" becomes "Observation.subject" for Observation.
    /// </summary>
    internal static string? NarrowExpression(string expression, string type)
    {
        var branches = SplitTopLevelUnion(expression);
        var kept = branches.Where(b => AppliesTo(b, type)).ToList();
        return kept.Count == 0 ? null : string.Join(" | ", kept);
    }

    private static bool AppliesTo(string branch, string type)
    {
        var s = branch.TrimStart('(', ' ');
        return s == type || s.StartsWith(type + ".", StringComparison.Ordinal) || s.StartsWith(type + " ", StringComparison.Ordinal)
            || s.StartsWith("Resource.", StringComparison.Ordinal) || s.StartsWith("DomainResource.", StringComparison.Ordinal)
            || s.StartsWith("%resource", StringComparison.Ordinal);
    }

    internal static List<string> SplitTopLevelUnion(string expression)
    {
        var result = new List<string>();
        int depth = 0, start = 0;
        var quoted = false;
        for (var i = 0; i < expression.Length; i++)
        {
            var c = expression[i];
            if (c == '\'' && (i == 0 || expression[i - 1] != '\\')) quoted = !quoted;
            if (quoted) continue;
            if (c == '(') depth++;
            else if (c == ')') depth--;
            else if (c == '|' && depth == 0)
            {
                result.Add(expression[start..i].Trim());
                start = i + 1;
            }
        }
        result.Add(expression[start..].Trim());
        return result.Where(s => s.Length > 0).ToList();
    }
}
