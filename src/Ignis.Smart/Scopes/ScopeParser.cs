namespace Ignis.Smart.Scopes;

/// <summary>
/// The scope grammar of SMART App Launch 2.2 (with v1 permissions accepted):
/// <code>
/// clinical  = ("patient" / "user" / "system") "/" (type / "*") "." perms ["?" query]
/// perms     = "read" / "write" / "*"               ; v1, no query allowed
///           / ["c"] ["r"] ["u"] ["d"] ["s"]        ; v2, at least one letter, in this order
/// query     = param *("&amp;" param) ; param = name "=" value, both non-empty
/// </code>
/// plus the launch and identity scopes, and plain scopes kept as <see cref="ScopeKind.Other"/>.
/// </summary>
internal static class ScopeParser
{
    public static bool TryParse(string? token, out Scope? scope, out InvalidScopeReason error)
    {
        scope = null;
        error = Classify(token ?? "", ref scope);
        return error == InvalidScopeReason.None;
    }

    private static InvalidScopeReason Classify(string token, ref Scope? scope)
    {
        if (token.Length == 0)
            return InvalidScopeReason.Malformed;

        // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
        foreach (var c in token)
        {
            if (c < 0x21 || c > 0x7E || c == '"' || c == '\\')
                return InvalidScopeReason.IllegalCharacter;
        }

        var kind = token switch
        {
            "launch" => ScopeKind.Launch,
            "launch/patient" => ScopeKind.LaunchPatient,
            "launch/encounter" => ScopeKind.LaunchEncounter,
            "openid" => ScopeKind.OpenId,
            "fhirUser" => ScopeKind.FhirUser,
            "profile" => ScopeKind.Profile,
            "offline_access" => ScopeKind.OfflineAccess,
            "online_access" => ScopeKind.OnlineAccess,
            _ => (ScopeKind?)null,
        };
        if (kind is { } known)
        {
            scope = Scope.Plain(token, known);
            return InvalidScopeReason.None;
        }

        if (token.StartsWith("launch/", StringComparison.Ordinal))
            return InvalidScopeReason.UnknownLaunchContext;

        var slash = token.IndexOf('/');
        if (slash >= 0)
            return ParseClinical(token, slash, ref scope);

        if (IsPlain(token))
        {
            if (LooksLikeClinicalWithoutContext(token))
                return InvalidScopeReason.MissingContext;
            scope = Scope.Plain(token, ScopeKind.Other);
            return InvalidScopeReason.None;
        }

        return LooksLikeClinicalWithoutContext(token) ? InvalidScopeReason.MissingContext : InvalidScopeReason.Malformed;
    }

    private static InvalidScopeReason ParseClinical(string token, int slash, ref Scope? scope)
    {
        ScopeContext context;
        switch (token.AsSpan(0, slash))
        {
            case "patient": context = ScopeContext.Patient; break;
            case "user": context = ScopeContext.User; break;
            case "system": context = ScopeContext.System; break;
            default: return InvalidScopeReason.UnknownContext;
        }

        var rest = token.AsSpan(slash + 1);
        var question = rest.IndexOf('?');
        var body = question < 0 ? rest : rest[..question];
        var dot = body.IndexOf('.');
        var type = dot < 0 ? body : body[..dot];
        if (!(type is "*" || IsTypeName(type)))
            return InvalidScopeReason.InvalidResourceType;
        if (dot < 0 || dot == body.Length - 1)
            return InvalidScopeReason.MissingPermissions;

        var perms = body[(dot + 1)..];
        ScopePermissions permissions;
        ScopeSyntax syntax;
        switch (perms)
        {
            case "read": permissions = ScopePermissionsExtensions.V1Read; syntax = ScopeSyntax.V1; break;
            case "write": permissions = ScopePermissionsExtensions.V1Write; syntax = ScopeSyntax.V1; break;
            case "*": permissions = ScopePermissions.All; syntax = ScopeSyntax.V1; break;
            default:
                if (!TryParseCruds(perms, out permissions))
                    return InvalidScopeReason.InvalidPermissions;
                syntax = ScopeSyntax.V2;
                break;
        }

        ScopeQuery? query = null;
        if (question >= 0)
        {
            if (syntax == ScopeSyntax.V1)
                return InvalidScopeReason.QueryOnV1Scope;
            query = ParseQuery(rest[(question + 1)..].ToString());
            if (query is null)
                return InvalidScopeReason.InvalidQuery;
        }

        scope = new ClinicalScope(token, context, type.ToString(), permissions, syntax, query);
        return InvalidScopeReason.None;
    }

    private static bool TryParseCruds(ReadOnlySpan<char> letters, out ScopePermissions permissions)
    {
        permissions = ScopePermissions.None;
        var next = 0; // index into the cruds order: each letter must come after the previous one
        foreach (var c in letters)
        {
            var index = Array.FindIndex(ScopePermissionsExtensions.Ordered, next, o => o.Letter == c);
            if (index < 0)
                return false;
            permissions |= ScopePermissionsExtensions.Ordered[index].Permission;
            next = index + 1;
        }
        return permissions != ScopePermissions.None;
    }

    private static ScopeQuery? ParseQuery(string text)
    {
        if (text.Length == 0)
            return null;
        var parts = text.Split('&');
        var parameters = new ScopeQueryParameter[parts.Length];
        for (var i = 0; i < parts.Length; i++)
        {
            var part = parts[i];
            var equals = part.IndexOf('=');
            if (equals <= 0 || equals == part.Length - 1)
                return null;
            var name = part[..equals];
            if (!name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.' or ':'))
                return null;
            var value = part[(equals + 1)..];
            if (value.Contains('?') || value.Contains('#'))
                return null;
            parameters[i] = new ScopeQueryParameter(Uri.UnescapeDataString(name), Uri.UnescapeDataString(value));
        }
        return new ScopeQuery(text, parameters);
    }

    private static bool IsTypeName(ReadOnlySpan<char> name)
    {
        if (name.Length == 0 || name.Length > 64 || !char.IsAsciiLetterUpper(name[0]))
            return false;
        foreach (var c in name)
        {
            if (!char.IsAsciiLetter(c))
                return false;
        }
        return true;
    }

    // Plain scopes: scim, introspection, email, api:read, ... (letters, digits, '.', '_', ':', '-').
    private static bool IsPlain(string token) =>
        char.IsAsciiLetterOrDigit(token[0]) && token.All(c => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-');

    // "Observation.read", "*.*", "Patient.rs": a clinical scope that forgot its context. Reported rather
    // than kept as a plain scope, so the client learns why it got nothing.
    private static bool LooksLikeClinicalWithoutContext(string token)
    {
        var dot = token.IndexOf('.');
        if (dot <= 0)
            return false;
        var type = token.AsSpan(0, dot);
        var perms = token.AsSpan(dot + 1);
        var question = perms.IndexOf('?');
        if (question >= 0)
            perms = perms[..question];
        return (type is "*" || IsTypeName(type))
            && (perms is "read" or "write" or "*" || TryParseCruds(perms, out _));
    }
}
