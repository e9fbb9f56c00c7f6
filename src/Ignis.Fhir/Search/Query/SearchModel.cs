using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Query;

/// <summary>How unknown or malformed parameters are treated (FHIR <c>Prefer: handling=</c>).</summary>
public enum SearchHandling
{
    /// <summary>Unknown or malformed parameters are ignored and left out of the self link; issues are warnings.</summary>
    Lenient,

    /// <summary>Unknown or malformed parameters are errors; the caller answers 400 with the issues.</summary>
    Strict,
}

public enum SearchTotal
{
    None,
    Accurate,
    /// <summary>The default: the exact total when at most <see cref="SearchEngine.AutoTotalLimit"/> resources match, otherwise none.</summary>
    Auto,
}

public enum SearchSummary
{
    False,
    True,
    Text,
    Data,
    Count,
}

/// <summary>Stable identifiers of the problems the parser reports; tests and callers match on these, not on prose.</summary>
public enum SearchIssueKind
{
    UnknownResourceType,
    UnknownParameter,
    UnsupportedParameter,
    UnsupportedModifier,
    InvalidValue,
    InvalidChain,
    InvalidInclude,
    InvalidSort,
    InvalidCursor,
}

/// <param name="Parameter">The query parameter name as the client sent it.</param>
public sealed record SearchIssue(
    OperationOutcome.IssueSeverity Severity,
    OperationOutcome.IssueType Code,
    SearchIssueKind Kind,
    string Parameter,
    string Message);

public enum SearchPrefix
{
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

public enum SearchModifier
{
    None,
    Missing,
    Exact,
    Contains,
    Text,
    Not,
    OfType,
    Below,
    Above,

    /// <summary>A reference parameter narrowed to one target type (<c>subject:Patient=123</c>).</summary>
    Type,
}

/// <summary>One parsed search value; which record depends on the parameter type.</summary>
public abstract record SearchValue;

public sealed record StringSearchValue(string Raw, string Normalized) : SearchValue;

/// <param name="System">The system, or null.</param>
/// <param name="SystemGiven">True when the value had a '|': then a null <paramref name="System"/> means "no system".</param>
/// <param name="Code">The code, or null for "system|" (any code of the system).</param>
public sealed record TokenSearchValue(
    string? System, bool SystemGiven, string? Code, string? TypeSystem = null, string? TypeCode = null) : SearchValue;

/// <summary>A token :text value, normalized like string values.</summary>
public sealed record TextSearchValue(string Normalized) : SearchValue;

/// <param name="Lo">First tick the value covers at its precision.</param>
/// <param name="Hi">Last tick (inclusive).</param>
public sealed record DateSearchValue(SearchPrefix Prefix, long Lo, long Hi) : SearchValue;

/// <param name="Lo">Lower end of the range the value's precision implies.</param>
/// <param name="Hi">Upper end of that range.</param>
public sealed record NumberSearchValue(SearchPrefix Prefix, decimal Value, double Lo, double Hi) : SearchValue;

public sealed record QuantitySearchValue(
    SearchPrefix Prefix, decimal Value, double Lo, double Hi, string? System, string? Code) : SearchValue;

/// <summary>A reference value: a local <c>Type/id</c> or bare id, or an absolute/canonical <c>Url</c> (with <c>Version</c>).</summary>
public sealed record ReferenceSearchValue(string? Type, string? Id, string? Url, string? Version) : SearchValue;

public sealed record UriSearchValue(string Uri) : SearchValue;

public sealed record CompositeSearchValue(IReadOnlyList<SearchValue> Components) : SearchValue;

/// <summary>One AND-term of a search.</summary>
public abstract record SearchCriterion;

/// <summary>
/// A parameter with its OR-values. <see cref="Params"/> holds the definition per resource type searched
/// (one for a type-level search; one per type for a system-level search over common parameters).
/// </summary>
public sealed record ParameterCriterion(
    IReadOnlyList<SearchParam> Params,
    SearchModifier Modifier,
    string? TargetType,
    IReadOnlyList<SearchValue> AnyOf,
    bool? Missing) : SearchCriterion
{
    public string Code => Params[0].Code;
    public SearchParamType Type => Params[0].Type;
}

/// <summary><c>subject:Patient.name=x</c>: resources whose reference points at a target matching the inner criterion of that type.</summary>
public sealed record ChainCriterion(IReadOnlyList<SearchParam> References, IReadOnlyList<ChainTarget> Targets) : SearchCriterion;

public sealed record ChainTarget(string Type, SearchCriterion Inner);

/// <summary><c>_has:Observation:patient:code=x</c>: resources referenced by <paramref name="Reference"/> of a source matching <paramref name="Inner"/>.</summary>
public sealed record HasCriterion(string SourceType, SearchParam Reference, SearchCriterion Inner) : SearchCriterion;

public sealed record SortKey(string Code, bool Descending, IReadOnlyList<SearchParam> Params)
{
    public SearchParamType Type => Params[0].Type;
}

/// <summary>An _include or _revinclude: references of <paramref name="Params"/> (of <paramref name="SourceType"/>), optionally to <paramref name="TargetType"/> only.</summary>
public sealed record IncludeSpec(string SourceType, IReadOnlyList<SearchParam> Params, string? TargetType, bool Iterate, bool Reverse);
