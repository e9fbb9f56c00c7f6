using System.Text.RegularExpressions;

namespace Ignis.Server.Auth;

/// <summary>
/// The SMART App Launch 2.2 scope grammar as far as the authorization server needs it: which requested
/// scopes are syntactically valid (v1, v2 and granular v2 resource scopes, launch and identity scopes) and how
/// to describe them to a person. Everything else is left out of the grant.
/// </summary>
/// <remarks>
/// Kept in this one class on purpose: the full grammar and the access decision belong to Ignis.Smart, which
/// will replace this parser once it lands.
/// </remarks>
public static partial class SmartScopes
{
    public const string OpenId = "openid";
    public const string FhirUser = "fhirUser";
    public const string Profile = "profile";
    public const string Launch = "launch";
    public const string LaunchPatient = "launch/patient";
    public const string LaunchEncounter = "launch/encounter";
    public const string OfflineAccess = "offline_access";
    public const string OnlineAccess = "online_access";
    /// <summary>
    /// Lets a bearer token call the introspection endpoint (RFC 7662 §2.1). Granted only to clients with the
    /// <c>scp:introspect</c> permission.
    /// </summary>
    public const string Introspect = "introspect";

    /// <summary>The non-resource scopes this server understands.</summary>
    public static readonly string[] Fixed = [OpenId, FhirUser, Profile, Launch, LaunchPatient, LaunchEncounter, OfflineAccess, OnlineAccess];

    /// <summary>Examples of resource scopes advertised in discovery (the grammar accepts any resource type).</summary>
    public static readonly string[] AdvertisedResourceScopes =
    [
        "patient/*.cruds", "patient/*.rs", "user/*.cruds", "user/*.rs", "system/*.cruds", "system/*.rs",
        "patient/*.read", "patient/*.write", "patient/*.*", "user/*.read", "user/*.write", "user/*.*", "system/*.read", "system/*.*",
    ];

    private const int MaxScopeLength = 512;
    private const int MaxScopes = 100;

    /// <summary>A parsed resource scope: patient/Observation.rs?category=laboratory.</summary>
    public sealed record ResourceScope(string Context, string ResourceType, string Permissions, string? Query, bool IsV1);

    /// <summary>Keeps the syntactically valid scopes, in request order, without duplicates.</summary>
    public static List<string> Filter(IEnumerable<string> requested, IEnumerable<string> extraScopes)
    {
        var extra = extraScopes.ToHashSet(StringComparer.Ordinal);
        var result = new List<string>();
        foreach (var scope in requested)
        {
            if (result.Count == MaxScopes) break;
            if (result.Contains(scope, StringComparer.Ordinal)) continue;
            if (Fixed.Contains(scope, StringComparer.Ordinal) || scope == Introspect || extra.Contains(scope) || TryParseResource(scope, out _))
                result.Add(scope);
        }
        return result;
    }

    /// <summary>A clinical scope in the SMART grammar of <see cref="Ignis.Smart.Scopes.Scope"/> (the one the resource server enforces).</summary>
    public static bool TryParseResource(string scope, out ResourceScope parsed)
    {
        parsed = null!;
        if (scope.Length > MaxScopeLength
            || !Ignis.Smart.Scopes.Scope.TryParse(scope, out var any, out _)
            || any is not Ignis.Smart.Scopes.ClinicalScope clinical)
            return false;
        var question = scope.IndexOf('?');
        var permissions = scope[(scope.IndexOf('.') + 1)..(question < 0 ? scope.Length : question)];
        parsed = new ResourceScope(clinical.Context.ToString().ToLowerInvariant(), clinical.ResourceType, permissions, clinical.Query?.Text, clinical.IsV1);
        return true;
    }

    public static bool IsSystem(string scope) => scope.StartsWith("system/", StringComparison.Ordinal);

    public static bool IsPatient(string scope) => scope.StartsWith("patient/", StringComparison.Ordinal);

    /// <summary>What the scope lets the app do, in words for the consent page.</summary>
    public static string Describe(string scope)
    {
        switch (scope)
        {
            case OpenId: return "Confirm your identity (sign you in to the app)";
            case FhirUser: return "Know which user record you are (your patient or practitioner record)";
            case Profile: return "See your name and user name";
            case Launch: return "Use the patient and encounter opened in your EHR session";
            case LaunchPatient: return "Know which patient's record it works with";
            case LaunchEncounter: return "Know which encounter (visit) it works with";
            case OfflineAccess: return "Keep access when you are not using it, until you revoke it";
            case OnlineAccess: return "Keep access while you stay signed in";
            case Introspect: return "Check whether access tokens issued by this server are still valid";
            case "scim": return "Manage user accounts (create, change, disable and remove users; administrators only)";
        }
        if (!TryParseResource(scope, out var s)) return scope;
        var what = s.ResourceType == "*" ? "all kinds of data" : Humanize(s.ResourceType) + " data";
        var whose = s.Context switch
        {
            "patient" => "for the selected patient",
            "user" => "that you can access",
            _ => "on the whole server (no user involved)",
        };
        var verbs = new List<string>();
        var p = s.IsV1 ? s.Permissions switch { "read" => "rs", "write" => "cud", _ => "cruds" } : s.Permissions;
        if (p.Contains('r') || p.Contains('s')) verbs.Add(p.Contains('r') && p.Contains('s') ? "read and search" : p.Contains('r') ? "read" : "search");
        if (p.Contains('c')) verbs.Add("create");
        if (p.Contains('u')) verbs.Add("update");
        if (p.Contains('d')) verbs.Add("delete");
        var text = $"{Capitalize(Join(verbs))} {what} {whose}";
        return s.Query is null ? text : $"{text}, limited to {s.Query}";
    }

    private static string Humanize(string type) => HumanizePattern().Replace(type, " $1").Trim();

    private static string Capitalize(string s) => s.Length == 0 ? s : char.ToUpperInvariant(s[0]) + s[1..];

    private static string Join(List<string> parts) => parts.Count switch
    {
        0 => "",
        1 => parts[0],
        _ => string.Join(", ", parts[..^1]) + " and " + parts[^1],
    };

    // context "/" (resource type | "*") "." permissions ["?" query]
    [GeneratedRegex("(?<!^)([A-Z])", RegexOptions.CultureInvariant)]
    private static partial Regex HumanizePattern();
}
