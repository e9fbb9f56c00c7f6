namespace Ignis.Smart.Scopes;

/// <summary>
/// The SMART v2 permissions of a clinical scope, in the spec's order <c>c r u d s</c>
/// (SMART App Launch 2.2, "Scopes for requesting FHIR resources").
/// </summary>
[Flags]
public enum ScopePermissions
{
    /// <summary>No permission.</summary>
    None = 0,
    /// <summary><c>c</c>: type-level create.</summary>
    Create = 1,
    /// <summary><c>r</c>: instance-level read, vread and history.</summary>
    Read = 2,
    /// <summary><c>u</c>: instance-level update and patch.</summary>
    Update = 4,
    /// <summary><c>d</c>: instance-level delete.</summary>
    Delete = 8,
    /// <summary><c>s</c>: type- and system-level search and history.</summary>
    Search = 16,
    /// <summary><c>cruds</c>, which is also what v1 <c>.*</c> means.</summary>
    All = Create | Read | Update | Delete | Search,
}

/// <summary>Conversions between <see cref="ScopePermissions"/> and the SMART letters.</summary>
public static class ScopePermissionsExtensions
{
    /// <summary>The v1 <c>read</c> permission in v2 terms: <c>rs</c>.</summary>
    public const ScopePermissions V1Read = ScopePermissions.Read | ScopePermissions.Search;

    /// <summary>The v1 <c>write</c> permission in v2 terms: <c>cud</c>.</summary>
    public const ScopePermissions V1Write = ScopePermissions.Create | ScopePermissions.Update | ScopePermissions.Delete;

    internal static readonly (char Letter, ScopePermissions Permission)[] Ordered =
    [
        ('c', ScopePermissions.Create),
        ('r', ScopePermissions.Read),
        ('u', ScopePermissions.Update),
        ('d', ScopePermissions.Delete),
        ('s', ScopePermissions.Search),
    ];

    /// <summary>The permissions as v2 letters in <c>cruds</c> order, e.g. <c>rs</c>; empty for none.</summary>
    public static string ToLetters(this ScopePermissions permissions)
    {
        Span<char> letters = stackalloc char[5];
        var count = 0;
        foreach (var (letter, permission) in Ordered)
        {
            if ((permissions & permission) != 0)
                letters[count++] = letter;
        }
        return new string(letters[..count]);
    }

    /// <summary>Each single permission set in <paramref name="permissions"/>, in <c>cruds</c> order.</summary>
    public static IEnumerable<ScopePermissions> Each(this ScopePermissions permissions)
    {
        foreach (var (_, permission) in Ordered)
        {
            if ((permissions & permission) != 0)
                yield return permission;
        }
    }

    /// <summary>Whether every permission in <paramref name="required"/> is in <paramref name="granted"/>.</summary>
    public static bool Includes(this ScopePermissions granted, ScopePermissions required) =>
        (granted & required) == required;
}
