using Ignis.Server.Data;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Portal;

/// <summary>How much an app is used, from the token and authorization tables.</summary>
/// <param name="TokensLastWeek">Access tokens issued in the last 7 days.</param>
/// <param name="Users">Users with a grant that still holds a usable token.</param>
/// <param name="LastToken">When the app last got a token.</param>
public sealed record AppUsage(int TokensLastWeek, int Users, DateTime? LastToken)
{
    public static AppUsage None { get; } = new(0, 0, null);
}

public sealed class ClientUsage(AuthDbContext db, TimeProvider clock)
{
    private static readonly string[] AccessTokenTypes = [TokenTypeIdentifiers.AccessToken, TokenTypeHints.AccessToken];

    public async Task<Dictionary<string, AppUsage>> ForAsync(IReadOnlyCollection<string> clientIds, CancellationToken ct)
    {
        if (clientIds.Count == 0) return [];
        var now = clock.GetUtcNow().UtcDateTime;
        var weekAgo = now.AddDays(-7);
        var tokens = await db.Set<OpenIddictEntityFrameworkCoreToken>().AsNoTracking()
            .Where(t => t.Application != null && clientIds.Contains(t.Application.ClientId!))
            .GroupBy(t => t.Application!.ClientId!)
            .Select(g => new
            {
                ClientId = g.Key,
                LastWeek = g.Count(t => AccessTokenTypes.Contains(t.Type!) && t.CreationDate > weekAgo),
                Last = g.Max(t => t.CreationDate),
            })
            .ToListAsync(ct);
        var users = await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().AsNoTracking()
            .Where(a => a.Application != null && clientIds.Contains(a.Application.ClientId!) && a.Status == Statuses.Valid && a.Subject != null)
            .Where(a => a.Tokens.Any(t => t.Status == Statuses.Valid && t.ExpirationDate > now))
            .GroupBy(a => a.Application!.ClientId!)
            .Select(g => new { ClientId = g.Key, Users = g.Select(a => a.Subject).Distinct().Count() })
            .ToListAsync(ct);
        return clientIds.ToDictionary(id => id, id =>
        {
            var t = tokens.FirstOrDefault(x => x.ClientId == id);
            var u = users.FirstOrDefault(x => x.ClientId == id);
            return new AppUsage(t?.LastWeek ?? 0, u?.Users ?? 0, t?.Last);
        });
    }
}
