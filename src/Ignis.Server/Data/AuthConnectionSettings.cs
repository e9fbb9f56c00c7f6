using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Ignis.Server.Data;

/// <summary>
/// The auth tables' SQLite connections commit with synchronous=NORMAL and wait for the write lock inside SQLite. The database is in WAL mode (set by the FHIR
/// store, which keeps FULL for its own connections): a commit is then durable against the process dying (kill -9)
/// and only an operating-system crash or power loss can lose the last few token rows, which clients recover from by
/// signing in again. FULL costs an fsync per commit, and a token response makes several (docs/benchmarks.md, "Issue 3").
/// </summary>
public sealed class AuthConnectionSettings : DbConnectionInterceptor
{
    // busy_timeout: a writer that finds the database locked waits inside SQLite (sleeps of 1-100 ms) instead of
    // returning SQLITE_BUSY to Microsoft.Data.Sqlite, whose retry sleeps 150 ms: token requests queued behind another
    // writer showed up as a p90 of 150-170 ms with the CPU half idle.
    private const string Pragmas = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=30000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
