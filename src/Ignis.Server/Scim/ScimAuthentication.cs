using System.Net;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Scim;

/// <summary>Who is calling the SCIM API: an approved backend client, or an administrator through an app.</summary>
public sealed record ScimCaller(string Subject, string? ClientId, bool IsUser);

/// <summary>
/// Access to /scim/v2: a bearer token issued by this server (signature, issuer, lifetime, not revoked: OpenIddict
/// validation, as for the FHIR API) whose audience includes the SCIM base URL and whose scopes include
/// <c>scim</c>. Tokens get that audience only when <c>scim</c> is granted (<see cref="ScimTokenAudience"/>), so a
/// FHIR-only token is refused here. The caller must then still be entitled, checked on every request: a
/// client must be registered for the scim scope and not awaiting approval; a user must be an active admin.
/// </summary>
public static class ScimAuthentication
{
    public const string Scope = "scim";

    public static async Task<ScimCaller> AuthenticateAsync(HttpContext http, string scimBase)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
            throw Unauthorized(scimBase, null, "This request needs an access token with the scim scope (Authorization: Bearer ...).");
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
            throw Unauthorized(scimBase, "invalid_request", "Only Bearer tokens are accepted.");

        var result = await http.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
        if (!result.Succeeded || result.Principal is not { } principal)
            throw Unauthorized(scimBase, "invalid_token", "The access token is not valid: it is malformed, expired, revoked or not issued here.");
        // RFC 9068 §4: the token must be meant for this resource server.
        if (!principal.GetAudiences().Contains(scimBase, StringComparer.Ordinal))
            throw Unauthorized(scimBase, "invalid_token", $"The access token was not issued for {scimBase}: request the scim scope.");
        if (!principal.HasScope(Scope))
            throw Forbidden(scimBase, "The access token does not carry the scim scope.");

        var subject = principal.GetClaim(Claims.Subject) ?? "";
        var clientId = principal.GetClaim(Claims.ClientId);
        var isUser = principal.GetClaim(SmartPrincipalFactory.UserKindClaim) is not null || subject != clientId;
        if (isUser)
        {
            var users = http.RequestServices.GetRequiredService<UserManager<IgnisUser>>();
            var user = await users.FindByIdAsync(subject);
            if (user is null || !user.Active)
                throw Unauthorized(scimBase, "invalid_token", "The user of this access token no longer exists or is disabled.");
            if (!await users.IsInRoleAsync(user, IgnisRoles.Admin))
                throw Forbidden(scimBase, "Only administrators may manage users through SCIM.");
        }
        else
        {
            var applications = http.RequestServices.GetRequiredService<IOpenIddictApplicationManager>();
            var application = clientId is null ? null : await applications.FindByClientIdAsync(clientId);
            if (application is null)
                throw Unauthorized(scimBase, "invalid_token", "The client of this access token no longer exists.");
            if (!await applications.HasPermissionAsync(application, Permissions.Prefixes.Scope + Scope))
                throw Forbidden(scimBase, "The client is no longer registered for the scim scope.");
            var properties = await applications.GetPropertiesAsync(application);
            if (properties.TryGetValue(ClientProperties.PendingApproval, out var pending)
                && pending.ValueKind == System.Text.Json.JsonValueKind.True)
                throw Forbidden(scimBase, "The client is awaiting an administrator's approval.");
        }
        return new ScimCaller(subject, clientId, isUser);
    }

    /// <summary>Bearer tokens over plain http only on loopback, as for the OAuth endpoints (Ignis:Auth:AllowInsecureHttp lifts it).</summary>
    public static void RequireSecureTransport(HttpContext http)
    {
        if (http.Request.IsHttps || http.RequestServices.GetRequiredService<IOptions<AuthOptions>>().Value.AllowInsecureHttp) return;
        if (http.Connection.RemoteIpAddress is { } remote && !IPAddress.IsLoopback(remote))
            throw new ScimException(403, null, "Use https: SCIM requests carry bearer tokens and personal data.");
    }

    // RFC 6750 §3: the challenge names the error only when a token was presented.
    private static ScimException Unauthorized(string realm, string? error, string description) => new(401, null, description)
    {
        Challenge = error is null ? $"Bearer realm=\"{realm}\"" : $"Bearer realm=\"{realm}\", error=\"{error}\", error_description=\"{description}\"",
    };

    private static ScimException Forbidden(string realm, string description) => new(403, null, description)
    {
        Challenge = $"Bearer realm=\"{realm}\", error=\"insufficient_scope\", scope=\"{Scope}\", error_description=\"{description}\"",
    };
}
