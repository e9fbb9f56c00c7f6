using System.Text;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Query;

/// <summary>
/// A parsed search: what to match (<see cref="Criteria"/>, AND of OR-values), how to order and page it, what to
/// include, plus restrictions the server adds that the client does not see (compartments, access scopes).
/// Built by <see cref="SearchParser.Parse"/>; executed by <see cref="SearchEngine.ExecuteAsync"/>.
/// </summary>
public sealed class SearchRequest
{
    private readonly List<KeyValuePair<string, string>> _accepted = [];
    private readonly List<SearchRestriction> _restrictions = [];
    private readonly List<SearchIssue> _issues = [];

    internal SearchRequest(SearchParameterRegistry registry, string? resourceType, IReadOnlyList<string> types, SearchHandling handling)
    {
        Registry = registry;
        ResourceType = resourceType;
        Types = types;
        Handling = handling;
    }

    internal SearchParameterRegistry Registry { get; }

    /// <summary>The type searched, or null for a system-level search.</summary>
    public string? ResourceType { get; }

    /// <summary>The types searched: the one type, or for a system-level search the _type list (every type when absent).</summary>
    public IReadOnlyList<string> Types { get; internal set; }

    public SearchHandling Handling { get; }

    public List<SearchCriterion> Criteria { get; } = [];
    public List<SortKey> Sort { get; } = [];
    public List<IncludeSpec> Includes { get; } = [];
    public List<IncludeSpec> RevIncludes { get; } = [];

    /// <summary>Page size: <see cref="SearchParser.DefaultCount"/> unless _count says otherwise, at most <see cref="SearchParser.MaxCount"/>.</summary>
    public int Count { get; internal set; } = SearchParser.DefaultCount;

    public SearchTotal Total { get; internal set; } = SearchTotal.Auto;

    /// <summary>_summary as given, or null; the engine returns no entries for <see cref="SearchSummary.Count"/>.</summary>
    public SearchSummary? Summary { get; internal set; }

    /// <summary>_elements as given (element names), or null; applied by the serializer, not by search.</summary>
    public IReadOnlyList<string>? Elements { get; internal set; }

    /// <summary>The position to continue from (the <see cref="SearchParser.CursorParameter"/> parameter), or null for the first page.</summary>
    internal SearchCursor? Cursor { get; set; }

    /// <summary>Problems found while parsing; under <see cref="SearchHandling.Strict"/> they are errors and the caller answers 400.</summary>
    public IReadOnlyList<SearchIssue> Issues => _issues;

    public bool HasErrors => _issues.Any(i => i.Severity is OperationOutcome.IssueSeverity.Error or OperationOutcome.IssueSeverity.Fatal);

    /// <summary>Types outside this set are never returned, neither as matches nor as included resources; null = no limit.</summary>
    public IReadOnlySet<string>? AllowedTypes { get; private set; }

    public IReadOnlyList<SearchRestriction> Restrictions => _restrictions;

    /// <summary>The accepted parameters in the order given (without the cursor), for the self link.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> AcceptedParameters => _accepted;

    /// <summary>True when the client asked for no entries (_summary=count or _count=0).</summary>
    public bool CountOnly => Summary == SearchSummary.Count || Count == 0;

    internal void Accept(string key, string value) => _accepted.Add(new(key, value));

    internal void AddIssue(SearchIssue issue) => _issues.Add(issue);

    /// <summary>
    /// Adds a condition the client does not see: every resource of <paramref name="resourceType"/> this search returns
    /// (as a match, through _include/_revinclude, or considered by a chain or _has) must match at least one of
    /// <paramref name="anyOf"/> (ordinary search parameters of that type, e.g. ("subject", "Patient/123")).
    /// Several restrictions on one type must all hold. An empty <paramref name="anyOf"/> hides the type entirely.
    /// </summary>
    /// <exception cref="ArgumentException">A criterion is not a valid search parameter of the type (a programming error).</exception>
    public SearchRequest AddRestriction(string resourceType, IEnumerable<KeyValuePair<string, string>> anyOf) =>
        AddRestrictionGroups(resourceType, anyOf.Select(c => (IEnumerable<KeyValuePair<string, string>>)[c]));

    /// <summary>
    /// As <see cref="AddRestriction(string, IEnumerable{KeyValuePair{string, string}})"/>, with alternatives that are
    /// each several criteria ANDed: "AND (any of (all of these))". SMART granular scopes need it: a compartment AND a
    /// category, OR another scope's filter.
    /// </summary>
    public SearchRequest AddRestrictionGroups(string resourceType, IEnumerable<IEnumerable<KeyValuePair<string, string>>> anyOf)
    {
        if (!Registry.IsKnownType(resourceType))
            throw new ArgumentException($"'{resourceType}' is not a resource type this server knows.", nameof(resourceType));
        var groups = new List<IReadOnlyList<SearchCriterion>>();
        var source = new List<KeyValuePair<string, string>>();
        foreach (var group in anyOf)
        {
            var criteria = new List<SearchCriterion>();
            foreach (var (key, value) in group)
            {
                var parsed = SearchParser.Parse(resourceType, [new(key, value)], SearchHandling.Strict, Registry);
                if (parsed.HasErrors || parsed.Criteria.Count != 1)
                    throw new ArgumentException(
                        $"The restriction {resourceType}?{key}={value} is not a valid search criterion: " +
                        string.Join("; ", parsed.Issues.Select(i => i.Message)), nameof(anyOf));
                criteria.Add(parsed.Criteria[0]);
                source.Add(new(key, value));
            }
            if (criteria.Count == 0)
                throw new ArgumentException("A restriction alternative needs at least one criterion.", nameof(anyOf));
            groups.Add(criteria);
        }
        _restrictions.Add(new SearchRestriction(resourceType, groups, source));
        return this;
    }

    public SearchRequest AddRestriction(string resourceType, params (string Parameter, string Value)[] anyOf) =>
        AddRestriction(resourceType, anyOf.Select(a => new KeyValuePair<string, string>(a.Parameter, a.Value)));

    /// <summary>Never returns resources of other types (matches or included). Calling it again narrows further.</summary>
    public SearchRequest LimitTypes(IEnumerable<string> types)
    {
        var set = new HashSet<string>(types, StringComparer.Ordinal);
        if (AllowedTypes is not null) set.IntersectWith(AllowedTypes);
        AllowedTypes = set;
        return this;
    }

    /// <summary>The accepted parameters as a normalised query string (no leading '?'), for the self link.</summary>
    public string ToSelfQuery()
    {
        var sb = new StringBuilder();
        foreach (var (key, value) in _accepted)
        {
            if (sb.Length > 0) sb.Append('&');
            sb.Append(Encode(key)).Append('=').Append(Encode(value));
        }
        return sb.ToString();
    }

    /// <summary>The query string of another page of this search: the self query plus the cursor parameter.</summary>
    public string ToPageQuery(string cursor)
    {
        var self = ToSelfQuery();
        return (self.Length > 0 ? self + "&" : "") + SearchParser.CursorParameter + "=" + Encode(cursor);
    }

    // Characters FHIR search syntax uses and that are legal in a query component stay readable.
    private static string Encode(string s) =>
        Uri.EscapeDataString(s).Replace("%3A", ":").Replace("%2C", ",").Replace("%7C", "|").Replace("%24", "$").Replace("%2F", "/");
}

/// <summary>"AND (any of these groups, each all of its criteria)" for resources of <see cref="ResourceType"/>; see <see cref="SearchRequest.AddRestrictionGroups"/>.</summary>
public sealed record SearchRestriction(
    string ResourceType,
    IReadOnlyList<IReadOnlyList<SearchCriterion>> AnyOf,
    IReadOnlyList<KeyValuePair<string, string>> Source);
