using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Microsoft.EntityFrameworkCore.Migrations;
using Npgsql;

namespace Ignis.Server.Auth;

/// <summary>
/// PostgreSQL LISTEN/NOTIFY between the nodes. Triggers (<see cref="InstallTriggers"/>, created by the PostgreSQL
/// migrations) notify channel <see cref="Channel"/> when a token stops being valid (revoked, redeemed, deleted: every
/// kind of revocation ends in the token table) and when the signing keys change. Each node listens on a connection of
/// its own and at once forgets the token it had validated in the last second (<see cref="ValidatedTokenCache"/>) or
/// re-reads the keys (<see cref="KeyRing"/>).
/// </summary>
/// <remarks>
/// Notifications are the fast path, never the only one: a node re-validates every token against the database at
/// least once a second anyway (the cache lifetime) and re-reads the keys every Ignis:Auth:KeyRefreshInterval, so a
/// lost listening connection delays nothing beyond those bounds. After a reconnect the node clears its token cache
/// and re-reads the keys, since notifications sent meanwhile are lost.
/// </remarks>
public sealed partial class ClusterSignals(AuthDatabase database, ValidatedTokenCache tokens, KeyRing keys, ILogger<ClusterSignals> logger)
    : BackgroundService
{
    public const string Channel = "ignis";

    /// <summary>The application_name of the listening connections in pg_stat_activity.</summary>
    public const string ListenerName = "ignis-listener";
    private const string TokenPrefix = "t:";
    private const string KeysChanged = "k";
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(10);

    /// <summary>True while this node listens (for health checks and tests).</summary>
    public bool Listening { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!database.IsPostgres) return;
        var delay = TimeSpan.FromMilliseconds(200);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ListenAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !stoppingToken.IsCancellationRequested)
            {
                Listening = false;
                LogListenFailed(logger, e);
                await Task.Delay(delay, stoppingToken);
                delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, TimeSpan.FromSeconds(10).Ticks));
                continue;
            }
            break;
        }
    }

    private async Task ListenAsync(CancellationToken ct)
    {
        // A connection of its own, outside the pool, named so that operators see which one listens.
        await using var connection = new NpgsqlConnection(
            new NpgsqlConnectionStringBuilder(database.ConnectionString) { ApplicationName = ListenerName, Pooling = false, KeepAlive = 30 }.ConnectionString);
        await connection.OpenAsync(ct);
        connection.Notification += (_, e) => Handle(e.Payload);
        await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
            await listen.ExecuteNonQueryAsync(ct);
        Listening = true;
        // Anything sent before LISTEN took effect was missed.
        tokens.Clear();
        keys.Reload();
        while (!ct.IsCancellationRequested)
        {
            if (await connection.WaitAsync(Idle, ct)) continue;
            // Quiet for a while: make sure the connection is still there (a dead one would never deliver again).
            await using var ping = new NpgsqlCommand("SELECT 1", connection);
            await ping.ExecuteScalarAsync(ct);
        }
    }

    private void Handle(string payload)
    {
        if (payload.StartsWith(TokenPrefix, StringComparison.Ordinal)) tokens.Evict(payload[TokenPrefix.Length..]);
        else if (payload == KeysChanged)
        {
            try
            {
                keys.Reload();
            }
            catch (Exception e)
            {
                LogKeysReloadFailed(logger, e); // the key ring retries at its next refresh
            }
        }
    }

    /// <summary>The notifying triggers, for the PostgreSQL migrations.</summary>
    public static void InstallTriggers(MigrationBuilder migration)
    {
        migration.Sql($$"""
            CREATE OR REPLACE FUNCTION ignis_notify_token() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
              IF TG_OP = 'DELETE' THEN
                IF OLD."Status" = 'valid' THEN PERFORM pg_notify('{{Channel}}', '{{TokenPrefix}}' || OLD."Id"); END IF;
                RETURN OLD;
              END IF;
              IF OLD."Status" = 'valid' AND NEW."Status" IS DISTINCT FROM 'valid' THEN
                PERFORM pg_notify('{{Channel}}', '{{TokenPrefix}}' || NEW."Id");
              END IF;
              RETURN NEW;
            END $body$;
            """);
        migration.Sql("""
            CREATE TRIGGER ignis_token_invalidated AFTER UPDATE OF "Status" OR DELETE ON "OpenIddictTokens"
            FOR EACH ROW EXECUTE FUNCTION ignis_notify_token();
            """);
        migration.Sql($$"""
            CREATE OR REPLACE FUNCTION ignis_notify_keys() RETURNS trigger LANGUAGE plpgsql AS $body$
            BEGIN
              PERFORM pg_notify('{{Channel}}', '{{KeysChanged}}');
              RETURN NULL;
            END $body$;
            """);
        migration.Sql("""
            CREATE TRIGGER ignis_keys_changed AFTER INSERT OR UPDATE OR DELETE ON "AuthSigningKeys"
            FOR EACH STATEMENT EXECUTE FUNCTION ignis_notify_keys();
            """);
    }

    [LoggerMessage(EventId = 3510, Level = LogLevel.Warning, Message = "Listening for cluster notifications failed; reconnecting (tokens are still re-validated every second)")]
    private static partial void LogListenFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3511, Level = LogLevel.Warning, Message = "Re-reading the signing keys after a notification failed")]
    private static partial void LogKeysReloadFailed(ILogger logger, Exception exception);
}
