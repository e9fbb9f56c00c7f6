using System.Collections;

namespace Ignis.Smart.Scopes;

/// <summary>One <c>name=value</c> pair of a granular scope's query, percent-decoded.</summary>
/// <param name="Name">The search parameter, with its modifier if any (e.g. <c>code:in</c>).</param>
/// <param name="Value">The value as a FHIR search value (e.g. <c>system|code</c>).</param>
public readonly record struct ScopeQueryParameter(string Name, string Value)
{
    /// <inheritdoc />
    public override string ToString() => $"{Name}={Value}";
}

/// <summary>
/// The query part of a granular v2 scope (<c>patient/Observation.rs?category=...|laboratory</c>):
/// a resource matches when it matches every parameter (AND), as a FHIR search with those
/// parameters would. Repeated names are kept (<c>date=ge2020&amp;date=lt2021</c>).
/// </summary>
public sealed class ScopeQuery : IReadOnlyList<ScopeQueryParameter>, IEquatable<ScopeQuery>
{
    private readonly ScopeQueryParameter[] _parameters;

    internal ScopeQuery(string text, ScopeQueryParameter[] parameters)
    {
        Text = text;
        _parameters = parameters;
    }

    /// <summary>The query exactly as written in the scope, without the leading <c>?</c>.</summary>
    public string Text { get; }

    /// <inheritdoc />
    public int Count => _parameters.Length;

    /// <inheritdoc />
    public ScopeQueryParameter this[int index] => _parameters[index];

    /// <summary>
    /// Whether every resource that matches this query also matches <paramref name="other"/>: true
    /// when this query has every parameter of the other (more ANDed parameters, fewer rows).
    /// Values are compared as written; two spellings of one filter are not recognised as equal.
    /// </summary>
    public bool IsAtLeastAsNarrowAs(ScopeQuery other) =>
        other._parameters.All(p => _parameters.Contains(p));

    /// <inheritdoc />
    public IEnumerator<ScopeQueryParameter> GetEnumerator() => ((IEnumerable<ScopeQueryParameter>)_parameters).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc />
    public bool Equals(ScopeQuery? other) =>
        other is not null && _parameters.Length == other._parameters.Length && IsAtLeastAsNarrowAs(other) && other.IsAtLeastAsNarrowAs(this);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as ScopeQuery);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = 0;
        foreach (var p in _parameters)
            hash ^= p.GetHashCode();
        return hash;
    }

    /// <inheritdoc />
    public override string ToString() => Text;
}
