using System.Collections;

namespace Ignis.Smart.Scopes;

/// <summary>
/// An ordered set of valid scopes: what a client requested, or what a token grants. Duplicates are
/// dropped (the first occurrence keeps its place); <see cref="ToString"/> writes the space-separated
/// scope string back.
/// </summary>
public sealed class ScopeSet : IReadOnlyList<Scope>
{
    private readonly Scope[] _scopes;
    private readonly HashSet<string> _texts;

    /// <summary>The empty set.</summary>
    public static ScopeSet Empty { get; } = new([]);

    private ScopeSet(Scope[] scopes)
    {
        _scopes = scopes;
        _texts = new HashSet<string>(scopes.Select(s => s.Text), StringComparer.Ordinal);
        Clinical = scopes.OfType<ClinicalScope>().ToArray();
    }

    /// <summary>
    /// Parses a space-separated scope string (RFC 6749 §3.3). Never throws: tokens that are not valid
    /// scopes are returned in <see cref="ScopeParseResult.Invalid"/>. Null or blank gives the empty set.
    /// </summary>
    public static ScopeParseResult Parse(string? scope)
    {
        var valid = new List<Scope>();
        var invalid = new List<InvalidScope>();
        foreach (var token in (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            if (Scope.TryParse(token, out var parsed, out var reason))
                valid.Add(parsed);
            else if (!invalid.Any(i => i.Text == token))
                invalid.Add(new InvalidScope(token, reason));
        }
        return new ScopeParseResult(Of(valid), invalid);
    }

    /// <summary>A set of the given scopes, in order, without duplicates.</summary>
    public static ScopeSet Of(IEnumerable<Scope> scopes)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        var distinct = scopes.Where(s => seen.Add(s.Text)).ToArray();
        return distinct.Length == 0 ? Empty : new ScopeSet(distinct);
    }

    /// <summary>The clinical scopes, in order.</summary>
    public IReadOnlyList<ClinicalScope> Clinical { get; }

    /// <inheritdoc />
    public int Count => _scopes.Length;

    /// <inheritdoc />
    public Scope this[int index] => _scopes[index];

    /// <summary>Whether the set holds this exact scope text.</summary>
    public bool Contains(string scope) => _texts.Contains(scope);

    /// <summary>Whether the set holds a scope of this kind (e.g. <see cref="ScopeKind.OpenId"/>).</summary>
    public bool Contains(ScopeKind kind) => _scopes.Any(s => s.Kind == kind);

    /// <summary>
    /// Whether these scopes, as a grant, already give everything <paramref name="requested"/> asks for,
    /// so that it may appear in a narrowed grant. A non-clinical scope is covered only by itself. A
    /// clinical scope is covered when each of its permissions is given by some granted scope with the
    /// same context, the same type or <c>*</c>, and no query or a query the requested one narrows
    /// (has every parameter of). Granted v1 <c>patient/*.read</c> covers v2 <c>patient/Observation.rs</c>;
    /// granted <c>patient/Observation.r</c> and <c>patient/Observation.s</c> together cover
    /// <c>patient/Observation.rs</c>; <c>user/</c> does not cover <c>patient/</c> (a different grant, not a narrower one).
    /// </summary>
    public bool Covers(Scope requested)
    {
        if (requested is not ClinicalScope wanted)
            return Contains(requested.Text);

        foreach (var permission in wanted.Permissions.Each())
        {
            var covered = Clinical.Any(g =>
                g.Context == wanted.Context
                && (g.IsAnyType || (!wanted.IsAnyType && g.ResourceType == wanted.ResourceType))
                && g.Permissions.Includes(permission)
                && (g.Query is null || (wanted.Query is not null && wanted.Query.IsAtLeastAsNarrowAs(g.Query))));
            if (!covered)
                return false;
        }
        return true;
    }

    /// <summary>
    /// The scopes a refresh may carry when the client asks for <paramref name="requested"/> (RFC 6749 §6:
    /// the scope may be narrowed, never widened). Blank or null asks for the same grant. Every requested
    /// token must be a valid scope covered by this grant (<see cref="Covers"/>); any other is listed in
    /// <see cref="NarrowResult.Refused"/> and the server answers <c>invalid_scope</c>.
    /// </summary>
    public NarrowResult Narrow(string? requested)
    {
        if (string.IsNullOrWhiteSpace(requested))
            return new NarrowResult(this, []);

        var parsed = Parse(requested);
        var refused = parsed.Invalid.Select(i => i.Text).ToList();
        refused.AddRange(parsed.Scopes.Where(s => !Covers(s)).Select(s => s.Text));
        return refused.Count == 0
            ? new NarrowResult(parsed.Scopes, [])
            : new NarrowResult(Empty, refused);
    }

    /// <inheritdoc />
    public IEnumerator<Scope> GetEnumerator() => ((IEnumerable<Scope>)_scopes).GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>The scopes as a space-separated string, in order.</summary>
    public override string ToString() => string.Join(' ', _scopes.Select(s => s.Text));
}

/// <summary>The result of <see cref="ScopeSet.Parse"/>.</summary>
/// <param name="Scopes">The valid scopes, in order, without duplicates.</param>
/// <param name="Invalid">The tokens that are not valid scopes, with the reason; left out of any grant.</param>
public sealed record ScopeParseResult(ScopeSet Scopes, IReadOnlyList<InvalidScope> Invalid);

/// <summary>The result of <see cref="ScopeSet.Narrow"/>.</summary>
/// <param name="Scopes">The narrowed grant; empty when anything was refused.</param>
/// <param name="Refused">Requested tokens that are invalid or not covered by the grant (a widening).</param>
public sealed record NarrowResult(ScopeSet Scopes, IReadOnlyList<string> Refused)
{
    /// <summary>Whether the request narrows (or repeats) the grant; otherwise answer <c>invalid_scope</c>.</summary>
    public bool IsAllowed => Refused.Count == 0;
}
