namespace Ignis.Smart.Scopes;

/// <summary>
/// One valid scope of a scope string. Two scopes are equal when their text is equal (scopes are
/// case-sensitive, RFC 6749 §3.3). Obtain scopes from <see cref="Scope.TryParse"/> or
/// <see cref="ScopeSet.Parse"/>; this library never throws on a client's scope string.
/// </summary>
public class Scope : IEquatable<Scope>
{
    private protected Scope(string text, ScopeKind kind)
    {
        Text = text;
        Kind = kind;
    }

    /// <summary>The scope as written by the client.</summary>
    public string Text { get; }

    /// <summary>What the scope is.</summary>
    public ScopeKind Kind { get; }

    /// <summary>Parses one scope token (no spaces).</summary>
    /// <param name="token">The token, e.g. <c>patient/Observation.rs</c>.</param>
    /// <param name="scope">The scope when the token is valid.</param>
    /// <param name="error">Why the token is invalid; <see cref="InvalidScopeReason.None"/> when valid.</param>
    /// <returns>Whether the token is a valid scope.</returns>
    public static bool TryParse(string? token, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out Scope? scope, out InvalidScopeReason error) =>
        ScopeParser.TryParse(token, out scope, out error);

    /// <inheritdoc />
    public bool Equals(Scope? other) => other is not null && string.Equals(Text, other.Text, StringComparison.Ordinal);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as Scope);

    /// <inheritdoc />
    public override int GetHashCode() => StringComparer.Ordinal.GetHashCode(Text);

    /// <inheritdoc />
    public override string ToString() => Text;

    internal static Scope Plain(string text, ScopeKind kind) => new(text, kind);
}

/// <summary>
/// A scope that grants access to FHIR resources: <c>context/type.permissions[?query]</c>, in v1
/// (<c>patient/*.read</c>) or v2 (<c>user/Observation.rs</c>, granular
/// <c>patient/Observation.rs?category=...</c>) syntax.
/// </summary>
public sealed class ClinicalScope : Scope
{
    /// <summary>The resource type a wildcard scope names: <c>*</c>.</summary>
    public const string AnyType = "*";

    internal ClinicalScope(string text, ScopeContext context, string resourceType, ScopePermissions permissions, ScopeSyntax syntax, ScopeQuery? query)
        : base(text, ScopeKind.Clinical)
    {
        Context = context;
        ResourceType = resourceType;
        Permissions = permissions;
        Syntax = syntax;
        Query = query;
    }

    /// <summary><c>patient</c>, <c>user</c> or <c>system</c>.</summary>
    public ScopeContext Context { get; }

    /// <summary>The FHIR resource type, or <see cref="AnyType"/>. The name is checked for form only
    /// (<c>[A-Z][A-Za-z]*</c>); whether the server knows the type is the FHIR engine's business.</summary>
    public string ResourceType { get; }

    /// <summary>The permissions in v2 terms (v1 <c>read</c> = <c>rs</c>, <c>write</c> = <c>cud</c>, <c>*</c> = <c>cruds</c>).</summary>
    public ScopePermissions Permissions { get; }

    /// <summary>The syntax the scope was written in.</summary>
    public ScopeSyntax Syntax { get; }

    /// <summary>The granular filter of a v2 scope, or null when the scope covers every resource of its type.</summary>
    public ScopeQuery? Query { get; }

    /// <summary>Written in SMART v1 syntax.</summary>
    public bool IsV1 => Syntax == ScopeSyntax.V1;

    /// <summary>Written in SMART v2 syntax.</summary>
    public bool IsV2 => Syntax == ScopeSyntax.V2;

    /// <summary>Names <c>*</c> rather than one resource type.</summary>
    public bool IsAnyType => ResourceType == AnyType;

    /// <summary>Carries a granular query.</summary>
    public bool IsGranular => Query is not null;

    /// <summary>Whether this scope applies to resources of <paramref name="resourceType"/>.</summary>
    public bool AppliesTo(string resourceType) => IsAnyType || string.Equals(ResourceType, resourceType, StringComparison.Ordinal);
}

/// <summary>
/// Why a scope token was not accepted. The names are stable identifiers: the server reports them
/// and tests assert them.
/// </summary>
public enum InvalidScopeReason
{
    /// <summary>The token is valid.</summary>
    None = 0,
    /// <summary>A character outside RFC 6749's scope-token set (<c>%x21 / %x23-5B / %x5D-7E</c>).</summary>
    IllegalCharacter = 1,
    /// <summary>The part before <c>/</c> is not <c>patient</c>, <c>user</c> or <c>system</c>.</summary>
    UnknownContext = 2,
    /// <summary>A <c>type.permissions</c> scope with no <c>patient/</c>, <c>user/</c> or <c>system/</c> (e.g. <c>*.*</c>).</summary>
    MissingContext = 3,
    /// <summary>The resource type is not <c>*</c> nor of the form of a FHIR type name.</summary>
    InvalidResourceType = 4,
    /// <summary>No <c>.permissions</c> after the resource type.</summary>
    MissingPermissions = 5,
    /// <summary>Neither v1 (<c>read</c>, <c>write</c>, <c>*</c>) nor a v2 subset of <c>cruds</c> in that
    /// order without repeats (<c>sr</c>, <c>rr</c>, <c>x</c> are invalid).</summary>
    InvalidPermissions = 6,
    /// <summary>A <c>?query</c> on a v1 scope; granular scopes are v2 only.</summary>
    QueryOnV1Scope = 7,
    /// <summary>The query is empty or a part is not <c>name=value</c> with both present.</summary>
    InvalidQuery = 8,
    /// <summary><c>launch/</c> followed by something other than <c>patient</c> or <c>encounter</c>.</summary>
    UnknownLaunchContext = 9,
    /// <summary>Any other token with characters a plain scope does not use (<c>/</c>, <c>*</c>, <c>?</c>, ...).</summary>
    Malformed = 10,
}

/// <summary>A token of a scope string that is not a valid scope; the server leaves it out of the grant.</summary>
/// <param name="Text">The token as written.</param>
/// <param name="Reason">Why it was not accepted.</param>
public sealed record InvalidScope(string Text, InvalidScopeReason Reason);
