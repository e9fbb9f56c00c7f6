using System.Runtime.CompilerServices;
using System.Security.Claims;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth;

/// <summary>
/// /oauth/token in pass-through mode for the grants that act for a user (client credentials: <see cref="ClientCredentialsGrant"/>). OpenIddict has authenticated the client and validated the code (PKCE,
/// redirect_uri, single use) or the refresh token (its own client, not rotated out); this re-checks the user,
/// narrows scopes, and adds the SMART launch context to the response.
/// </summary>
public sealed class TokenEndpoint(
    UserManager<IgnisUser> users,
    SignInManager<IgnisUser> signIn,
    AuthDbContext db,
    SmartPrincipalFactory principals,
    Clients.PasswordGrant passwordGrant,
    IOpenIddictTokenStore<OpenIddictEntityFrameworkCoreToken> tokens,
    PreparedReads reads)
{
    public async Task<IResult> HandleAsync(HttpContext http)
    {
        var request = http.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("/oauth/token was reached without an OpenIddict request.");
        if (request.IsPasswordGrantType()) return await passwordGrant.HandleAsync(http, request);
        if (!request.IsAuthorizationCodeGrantType() && !request.IsRefreshTokenGrantType())
            return Reject(Errors.UnsupportedGrantType, "This grant type is not supported.");

        var stored = (await http.AuthenticateAsync(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme)).Principal;
        if (stored is null) return Reject(Errors.InvalidGrant, "The code or refresh token is no longer valid.");

        var user = await FindUser(db, reads, stored.GetClaim(Claims.Subject) ?? "", http.RequestAborted);
        if (user is null || !await signIn.CanSignInAsync(user) || await users.IsLockedOutAsync(user))
            return Reject(Errors.InvalidGrant, "The user is no longer allowed to sign in.");

        var scopes = stored.GetScopes().ToList();
        if (request.IsRefreshTokenGrantType())
        {
            // RFC 6749 §6: a refresh may narrow the scopes, never widen them.
            var asked = request.GetScopes();
            if (asked.Length > 0)
            {
                if (asked.Any(s => !scopes.Contains(s)))
                    return Reject(Errors.InvalidScope, "A refresh cannot add scopes that were not granted.");
                scopes = [.. asked];
            }
            if (!scopes.Contains(SmartScopes.OfflineAccess) && !await SessionIsActiveAsync(stored, http.RequestAborted))
                return Reject(Errors.InvalidGrant, "The sign-in session of this online_access grant has ended.");
            RevokeEarlierAccessTokens(stored);
        }

        var principal = await principals.RefreshAsync(http, stored, user, scopes);
        var properties = new AuthenticationProperties(items: null, parameters: principals.ResponseParameters(http, principal));
        return Results.SignIn(principal, properties, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// The user the grant acts for, read fresh on every request but not tracked, with a compiled query: through
    /// <c>UserManager.FindByIdAsync</c> EF Core rebuilt the query's parameters from its expression tree and looked its
    /// plan up on every call, ~5 % of a code exchange's CPU (docs/benchmarks.md, "Issue 3"). Nothing here changes the user.
    /// A compiled query runs only with the model it was compiled against, so there is one per model: SQLite's and
    /// PostgreSQL's differ, and one process may host servers on both (the tests do). On SQLite the statement stays
    /// prepared between requests (<see cref="PreparedUserRead"/>).
    /// </summary>
    private static Task<IgnisUser?> FindUser(AuthDbContext db, PreparedReads reads, string id, CancellationToken ct)
    {
        if (reads.Enabled && db.Database.CurrentTransaction is null && PreparedUserRead.For(db.Model) is { } read)
            return Task.FromResult(reads.ReadOne(read.Sql, "@id", id, read.Read));
        return FindUserByModel.GetValue(db.Model, _ =>
            EF.CompileAsyncQuery((AuthDbContext c, string i, CancellationToken t) => c.Users.AsNoTracking().FirstOrDefault(u => u.Id == i)))(db, id, ct);
    }

    private static readonly ConditionalWeakTable<IModel, Func<AuthDbContext, string, CancellationToken, Task<IgnisUser?>>> FindUserByModel = new();

    private async Task<bool> SessionIsActiveAsync(ClaimsPrincipal stored, CancellationToken ct)
    {
        var sid = stored.GetClaim(SmartPrincipalFactory.SessionClaim);
        return sid is not null && await db.Sessions.AnyAsync(s => s.Id == sid && s.EndedAt == null, ct);
    }

    /// <summary>
    /// A refresh replaces the access token: the ones issued earlier in this grant stop working (the resource server
    /// checks the token row). One statement, however long the grant's history: loading and saving each row made
    /// refreshes slower with every rotation. It is committed with the refresh's other rows (<see cref="TokenWriteBatch"/>),
    /// before the new access token's row is inserted.
    /// </summary>
    private void RevokeEarlierAccessTokens(ClaimsPrincipal stored)
    {
        if (stored.GetAuthorizationId() is not { } authorizationId) return;
        // OpenIddict stores the RFC 8693 type identifier; older rows may hold the short hint.
        ((TokenStore)tokens).Defer(
            "UPDATE \"OpenIddictTokens\" SET \"Status\" = @revoked WHERE \"AuthorizationId\" = @authorization AND \"Status\" = @valid " +
            "AND (\"Type\" = @type OR \"Type\" = @hint)",
            [new("@revoked", Statuses.Revoked), new("@authorization", authorizationId), new("@valid", Statuses.Valid),
             new("@type", TokenTypeIdentifiers.AccessToken), new("@hint", TokenTypeHints.AccessToken)]);
    }

    internal static IResult Reject(string error, string description) =>
        Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);
}
