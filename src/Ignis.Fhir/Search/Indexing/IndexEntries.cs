namespace Ignis.Fhir.Search.Indexing;

// The rows a resource contributes to the index tables (Storage/Sql/*/0001_initial.sql).
// ParamId is SearchParam.Id. Dates are UTC DateTime ticks; ranges are inclusive.

public readonly record struct StringEntry(int ParamId, string ValueNorm, string Value);

public readonly record struct TokenEntry(
    int ParamId, string? System, string? Code, string? Text, string? TypeSystem = null, string? TypeCode = null);

public readonly record struct DateEntry(int ParamId, long Lo, long Hi);

public readonly record struct NumberEntry(int ParamId, double Lo, double Hi);

public readonly record struct QuantityEntry(int ParamId, string? System, string? Code, double Lo, double Hi);

public readonly record struct ReferenceEntry(
    int ParamId, string? TargetType, string? TargetId, string? Url, string? UrlVersion = null);

public readonly record struct UriEntry(int ParamId, string Uri);

/// <summary>One component value of a composite row; which fields are set depends on the component's type.</summary>
public readonly record struct CompositePart(string? System, string? Code, double? Lo, double? Hi);

public readonly record struct CompositeEntry(int ParamId, CompositePart C1, CompositePart C2, CompositePart? C3);

/// <summary>Every index row of one resource version.</summary>
public sealed class ResourceIndex
{
    public List<StringEntry> Strings { get; } = [];
    public List<TokenEntry> Tokens { get; } = [];
    public List<DateEntry> Dates { get; } = [];
    public List<NumberEntry> Numbers { get; } = [];
    public List<QuantityEntry> Quantities { get; } = [];
    public List<ReferenceEntry> References { get; } = [];
    public List<UriEntry> Uris { get; } = [];
    public List<CompositeEntry> Composites { get; } = [];
}
