using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace Ignis.Server.Auth;

/// <summary>
/// What the "connected apps" and admin pages do: take back what a user granted one app, or end every token and
/// session of a user (sign out everywhere, the lost-phone case).
/// </summary>
public sealed partial class GrantRevocation(
    IOpenIddictApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    UserManager<IgnisUser> users,
    AuthDbContext db,
    TimeProvider clock,
    ILogger<GrantRevocation> logger)
{
    /// <summary>Revokes every authorization and token user <paramref name="userId"/> granted to client <paramref name="clientId"/>.</summary>
    public async Task<long> RevokeAppAsync(string userId, string clientId, CancellationToken ct = default)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        if (application is null) return 0;
        var client = await applications.GetIdAsync(application, ct);
        long count = 0;
        // Each list is read in full before anything is written: writing while a query's reader is open fails in
        // SQLite ("database is locked") when another connection wrote in between.
        foreach (var authorization in await ToListAsync(authorizations.FindAsync(userId, client, status: null, type: null, scopes: null, ct)))
        {
            var id = await authorizations.GetIdAsync(authorization, ct);
            await authorizations.TryRevokeAsync(authorization, ct);
            count += await tokens.RevokeByAuthorizationIdAsync(id!, ct);
        }
        // Tokens issued without an authorization (none today, but the store allows it).
        foreach (var token in await ToListAsync(tokens.FindAsync(userId, client, status: null, type: null, ct)))
            if (await tokens.TryRevokeAsync(token, ct)) count++;
        LogAppRevoked(logger, userId, clientId, count);
        return count;
    }

    /// <summary>Revokes every authorization and token of the user and ends all their browser sessions.</summary>
    public async Task<long> SignOutEverywhereAsync(string userId, CancellationToken ct = default)
    {
        long count = 0;
        foreach (var authorization in await ToListAsync(authorizations.FindBySubjectAsync(userId, ct)))
        {
            await authorizations.TryRevokeAsync(authorization, ct);
            count += await tokens.RevokeByAuthorizationIdAsync((await authorizations.GetIdAsync(authorization, ct))!, ct);
        }
        count += await tokens.RevokeBySubjectAsync(userId, ct);
        var now = clock.GetUtcNow().UtcDateTime;
        await db.Sessions.Where(s => s.UserId == userId && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now), ct);
        if (await users.FindByIdAsync(userId) is { } user) await users.UpdateSecurityStampAsync(user);
        await External.ExternalBearerTokens.MarkSignedOutEverywhereAsync(db, userId, clock.GetUtcNow(), ct);
        LogSignedOutEverywhere(logger, userId, count);
        return count;
    }

    private static async Task<List<T>> ToListAsync<T>(IAsyncEnumerable<T> items)
    {
        var list = new List<T>();
        await foreach (var item in items) list.Add(item);
        return list;
    }

    [LoggerMessage(EventId = 3100, Level = LogLevel.Information, Message = "Revoked the grants of user {UserId} to client {ClientId} ({Count} tokens)")]
    private static partial void LogAppRevoked(ILogger logger, string userId, string clientId, long count);

    [LoggerMessage(EventId = 3101, Level = LogLevel.Information, Message = "Signed user {UserId} out everywhere ({Count} tokens revoked)")]
    private static partial void LogSignedOutEverywhere(ILogger logger, string userId, long count);
}
