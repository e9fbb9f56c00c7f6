using System.Security.Cryptography;
using Ignis.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Server.Auth;

/// <summary>EHR launch ids: minted for a signed-in user, single-use, short-lived, optionally bound to one app.</summary>
public sealed class LaunchService(AuthDbContext db, IOptions<AuthOptions> options, TimeProvider clock)
{
    public async Task<LaunchContext> CreateAsync(string userId, string? clientId, string? patient, string? encounter, string? fhirContext, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var launch = new LaunchContext
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32)),
            UserId = userId,
            ClientId = clientId,
            Patient = patient,
            Encounter = encounter,
            FhirContext = fhirContext,
            CreatedAt = now,
            ExpiresAt = now + options.Value.LaunchLifetime,
        };
        db.Launches.Add(launch);
        await db.SaveChangesAsync(ct);
        return launch;
    }

    /// <summary>The launch when it exists, has not expired, was not used and may be used by this client.</summary>
    public async Task<LaunchContext?> FindUsableAsync(string id, string clientId, CancellationToken ct)
    {
        if (id.Length > 64) return null;
        var now = clock.GetUtcNow().UtcDateTime;
        var launch = await db.Launches.AsNoTracking().FirstOrDefaultAsync(l => l.Id == id, ct);
        return launch is { UsedAt: null } && launch.ExpiresAt > now && (launch.ClientId is null || launch.ClientId == clientId) ? launch : null;
    }

    /// <summary>Marks the launch used; false when another request used it first.</summary>
    public async Task<bool> TryConsumeAsync(string id, string userId, CancellationToken ct)
    {
        var now = clock.GetUtcNow().UtcDateTime;
        var updated = await db.Launches
            .Where(l => l.Id == id && l.UserId == userId && l.UsedAt == null && l.ExpiresAt > now)
            .ExecuteUpdateAsync(s => s.SetProperty(l => l.UsedAt, now), ct);
        return updated == 1;
    }

    public Task<int> PruneAsync(DateTime before, CancellationToken ct) =>
        db.Launches.Where(l => l.ExpiresAt < before).ExecuteDeleteAsync(ct);
}
