using System.Security.Claims;
using System.Security.Cryptography;
using Ignis.Server.Audit;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Server.Portal;

/// <summary>A sign-in session as the account page lists it.</summary>
public sealed record SessionView(string Id, DateTime CreatedAt, DateTime? LastSeenAt, string? IpAddress, string Device, bool IsCurrent);

/// <summary>
/// Browser sign-in sessions: a row per sign-in (when, from where, which browser), its id in the cookie, so
/// a session can be listed and ended from any node.
/// </summary>
public sealed class SessionService(AuthDbContext db, SignInManager<IgnisUser> signIn, TimeProvider clock, SecurityLog log)
{
    /// <summary>How often a session's last-seen time and address are written (not on every request).</summary>
    public static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    public static string? CurrentId(ClaimsPrincipal user) => user.FindFirst(SmartPrincipalFactory.SessionClaim)?.Value;

    /// <summary>Opens a session for <paramref name="user"/> and signs the browser in to it.</summary>
    public async Task StartAsync(HttpContext http, IgnisUser user, bool remember)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var session = new UserSession
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24)),
            UserId = user.Id,
            CreatedAt = now,
            LastSeenAt = now,
            IpAddress = http.Connection.RemoteIpAddress?.ToString(),
            UserAgent = Shorten(http.Request.Headers.UserAgent.ToString(), 256),
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(http.RequestAborted);
        await signIn.SignInWithClaimsAsync(user, remember, [new Claim(SmartPrincipalFactory.SessionClaim, session.Id)]);
    }

    public async Task<List<SessionView>> ListActiveAsync(string userId, string? currentId, CancellationToken ct)
    {
        var rows = await db.Sessions.AsNoTracking()
            .Where(s => s.UserId == userId && s.EndedAt == null)
            .OrderByDescending(s => s.LastSeenAt ?? s.CreatedAt)
            .Take(100)
            .ToListAsync(ct);
        return [.. rows.Select(s => new SessionView(s.Id, s.CreatedAt, s.LastSeenAt, s.IpAddress, UserAgentText.Describe(s.UserAgent), s.Id == currentId))];
    }

    /// <summary>Ends one of the user's sessions; false when it is not theirs or already ended.</summary>
    public async Task<bool> EndAsync(HttpContext http, IgnisUser user, string sessionId)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var ended = await db.Sessions.Where(s => s.Id == sessionId && s.UserId == user.Id && s.EndedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now), http.RequestAborted) == 1;
        if (ended)
            log.Record(http, new SecurityEvent(SecurityEventKind.SessionEnded) { User = new SecurityParty(user.Id, user.UserName ?? user.Id), Detail = "ended from the account page" });
        return ended;
    }

    /// <summary>Ends every session of the user but <paramref name="keepId"/>.</summary>
    public Task<int> EndOthersAsync(string userId, string? keepId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        return db.Sessions.Where(s => s.UserId == userId && s.EndedAt == null && s.Id != keepId)
            .ExecuteUpdateAsync(s => s.SetProperty(x => x.EndedAt, now), ct);
    }

    /// <summary>Signs the browser out of its session (the logout page).</summary>
    public async Task SignOutAsync(HttpContext http, IgnisUser? user)
    {
        await AuthEndpoints.EndSessionAsync(http, signIn, db, clock);
        if (user is not null)
            log.Record(http, new SecurityEvent(SecurityEventKind.SignOut) { User = new SecurityParty(user.Id, user.UserName ?? user.Id) });
    }

    /// <summary>
    /// Whether the session is open; records the request's time and address at most once per
    /// <see cref="TouchInterval"/>. Called for every request that carries a session cookie.
    /// </summary>
    public static async Task<bool> TouchAsync(HttpContext http, string sessionId)
    {
        var db = http.RequestServices.GetRequiredService<AuthDbContext>();
        var now = http.RequestServices.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        var session = await db.Sessions.AsNoTracking()
            .Where(s => s.Id == sessionId && s.EndedAt == null)
            .Select(s => new { s.LastSeenAt, s.IpAddress })
            .FirstOrDefaultAsync(http.RequestAborted);
        if (session is null) return false;
        var address = http.Connection.RemoteIpAddress?.ToString();
        if (session.LastSeenAt is null || now - session.LastSeenAt >= TouchInterval || session.IpAddress != address)
        {
            await db.Sessions.Where(s => s.Id == sessionId)
                .ExecuteUpdateAsync(s => s.SetProperty(x => x.LastSeenAt, now).SetProperty(x => x.IpAddress, address), http.RequestAborted);
        }
        return true;
    }

    private static string? Shorten(string? s, int max) => string.IsNullOrEmpty(s) ? null : s.Length <= max ? s : s[..max];
}
