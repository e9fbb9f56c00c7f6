using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Ignis.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Auth.ClientAuthentication;

/// <summary>
/// An authenticated assertion whose jti is recorded together with the access token's row, in the same
/// transaction (client_credentials at the token endpoint; see <see cref="StoreClientCredentialsAccessToken"/>).
/// </summary>
public sealed record PendingClientAssertion(string Key, long ExpiresAt)
{
    public const string Property = ".ignis_pending_client_assertion";
}

/// <summary>A client assertion id (jti) that was accepted, kept until the assertion expires (table AuthClientAssertionJtis).</summary>
public sealed class UsedClientAssertion
{
    /// <summary>base64url SHA-256 of client_id, a zero byte and jti: fixed length whatever the client sends.</summary>
    public string Key { get; set; } = "";

    /// <summary>Until when the assertion could be valid (its exp plus the allowed clock skew), unix seconds.</summary>
    public long ExpiresAt { get; set; }
}

/// <summary>
/// RFC 7523 §3 item 7 / SMART Backend Services: a client assertion's jti is accepted once. The record is in the
/// database so that every node sees it: the row's primary key makes two nodes racing with the same jti
/// produce one success (the insert is an upsert that only replaces a row whose assertion has expired; it goes
/// through <see cref="AuthWriteBatcher"/>, which commits concurrent requests' rows together).
/// Each node also remembers the ids it accepted, so a replay to the same node is refused without a query.
/// Expired rows are deleted every <see cref="ClientAssertionOptions.ReplayPruneInterval"/>.
/// </summary>
public sealed partial class AssertionReplayCache(
    IServiceScopeFactory scopes, AuthDatabase database, AuthWriteBatcher writer, IOptions<ClientAssertionOptions> options, TimeProvider clock, ILogger<AssertionReplayCache> logger)
    : BackgroundService
{
    private const int MaxRemembered = 100_000;

    private readonly ConcurrentDictionary<string, long> _seen = new(StringComparer.Ordinal);

    /// <summary>Records the assertion id; false when it was already used by an assertion that has not expired.</summary>
    public Task<bool> TryUseAsync(string clientId, string jti, DateTimeOffset expiresAt) =>
        TryUseAsync(KeyOf(clientId, jti), expiresAt.ToUnixTimeSeconds());

    public async Task<bool> TryUseAsync(string key, long expiresAt)
    {
        if (SeenHere(key)) return false;
        if (!await writer.TryUseJtiAsync(key, expiresAt, clock.GetUtcNow().ToUnixTimeSeconds())) return false;
        Remember(key, expiresAt);
        return true;
    }

    /// <summary>True when this node accepted the key for an assertion that has not expired (no query).</summary>
    public bool SeenHere(string key) => _seen.TryGetValue(key, out var until) && until > clock.GetUtcNow().ToUnixTimeSeconds();

    /// <summary>Remembers a key the database accepted.</summary>
    public void Remember(string key, long expiresAt)
    {
        if (_seen.Count >= MaxRemembered) ForgetExpired(clock.GetUtcNow().ToUnixTimeSeconds());
        _seen[key] = expiresAt;
    }

    public static string KeyOf(string clientId, string jti)
    {
        var bytes = Encoding.UTF8.GetBytes(clientId + "\0" + jti);
        return Convert.ToBase64String(SHA256.HashData(bytes)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private void ForgetExpired(long now)
    {
        foreach (var (key, until) in _seen)
            if (until <= now) _seen.TryRemove(key, out _);
        if (_seen.Count >= MaxRemembered) _seen.Clear(); // the database still holds them all
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.ReplayPruneInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await PruneAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPruneFailed(logger, e);
            }
        }
    }

    public async Task<int> PruneAsync(CancellationToken ct)
    {
        using var scope = scopes.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        ForgetExpired(now);
        await using var turn = await database.TryLockAsync(ClusterLock.AssertionPruning, ct);
        if (turn is null) return 0; // another node is deleting them
        return await db.Set<UsedClientAssertion>().Where(u => u.ExpiresAt <= now).ExecuteDeleteAsync(ct);
    }

    [LoggerMessage(EventId = 3310, Level = LogLevel.Warning, Message = "Deleting expired client assertion ids failed; will retry at the next interval")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
