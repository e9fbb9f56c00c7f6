using System.Data;
using System.Globalization;
using System.Net;
using OperationOutcome = Hl7.Fhir.Model.OperationOutcome;
using Ignis.Fhir.Engine;
using Npgsql;

namespace Ignis.Fhir.Storage.Postgres;

/// <summary>
/// The PostgreSQL provider: several Ignis nodes may share one database. There is no process-wide write gate; each
/// write is a READ COMMITTED transaction that locks the rows it changes (<c>SELECT … FOR UPDATE</c>), so concurrent
/// updates of one resource queue behind each other and each sees the version the other wrote. A race no lock can
/// prevent (two nodes creating the same type/id, a deadlock between two transaction Bundles) ends in a unique
/// violation or deadlock error; the transaction is then rolled back and run again from the start. Commits are
/// durable (<c>synchronous_commit=on</c> on every connection).
/// </summary>
public sealed class PostgresFhirStore : IFhirStore, IDisposable
{
    /// <summary>The first key of Ignis's advisory locks (ASCII "IGNS"); the second says what is locked.</summary>
    internal const int LockNamespace = 0x49474E53;

    /// <summary>Second advisory-lock key of the schema migration.</summary>
    internal const int MigrationLock = 1;

    /// <summary>A write that lost a race runs again at most this many times in all.</summary>
    internal const int MaxAttempts = 8;

    private readonly NpgsqlDataSource _dataSource;
    private readonly WriteGate _clock = new();

    public PostgresFhirStore(string connectionString)
    {
        var builder = new NpgsqlDataSourceBuilder(connectionString);
        var cs = builder.ConnectionStringBuilder;
        // Commit = durable, whatever the server's or the role's default says.
        cs.Options = string.IsNullOrWhiteSpace(cs.Options) ? "-c synchronous_commit=on" : cs.Options + " -c synchronous_commit=on";
        if (string.IsNullOrEmpty(cs.ApplicationName)) cs.ApplicationName = "ignis";
        Location = $"postgres://{cs.Host}:{cs.Port.ToString(CultureInfo.InvariantCulture)}/{cs.Database ?? cs.Username}";
        _dataSource = builder.Build();
    }

    public string Provider => "postgres";

    public string Location { get; }

    public int LatestSchemaVersion => Migrations.Value.Count;

    public static int LatestVersion => Migrations.Value.Count;

    /// <summary>A connection of this store's pool (tests; tools).</summary>
    public NpgsqlConnection OpenConnection() => _dataSource.OpenConnection();

    public int Migrate() => Migrate(LatestVersion);

    /// <summary>
    /// Upgrades to <paramref name="target"/>. Nodes starting together take turns on a session advisory lock: the first
    /// applies the scripts, the others then find the schema current. Each script commits with its version row.
    /// </summary>
    internal int Migrate(int target)
    {
        using var connection = _dataSource.OpenConnection();
        Execute(connection, null, $"SELECT pg_advisory_lock({LockNamespace}, {MigrationLock})");
        try
        {
            Execute(connection, null,
                "CREATE TABLE IF NOT EXISTS ignis_fhir_schema (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())");
            int found;
            using (var cmd = new NpgsqlCommand("SELECT coalesce(max(version), 0) FROM ignis_fhir_schema", connection))
                found = Convert.ToInt32(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
            if (found > LatestVersion)
                throw new InvalidOperationException(
                    $"The database {Location} has FHIR schema version {found}, newer than this build of Ignis knows ({LatestVersion}). Use a newer Ignis.");
            foreach (var (version, sql) in Migrations.Value.Where(m => m.Version > found && m.Version <= target))
            {
                using var tx = connection.BeginTransaction();
                Execute(connection, tx, sql);
                Execute(connection, tx, $"INSERT INTO ignis_fhir_schema (version) VALUES ({version.ToString(CultureInfo.InvariantCulture)})");
                tx.Commit();
            }
            return found;
        }
        finally
        {
            Execute(connection, null, $"SELECT pg_advisory_unlock({LockNamespace}, {MigrationLock})");
        }
    }

    private static void Execute(NpgsqlConnection connection, NpgsqlTransaction? tx, string sql)
    {
        using var cmd = new NpgsqlCommand(sql, connection, tx);
        cmd.ExecuteNonQuery();
    }

    public IResourceSession OpenReader() => new PostgresResourceStore(_dataSource.OpenConnection(), inTransaction: false, ownsConnection: true);

    public bool WritesMayRetry => true;

    public async Task<T> WriteAsync<T>(Func<IResourceStore, T> work, CancellationToken ct)
    {
        // Synchronous from open to commit, like the engine's work inside: a transaction holding row locks never waits
        // for a thread-pool thread to continue (threads blocked on those locks could starve it). Hence also a plain
        // BEGIN/COMMIT rather than NpgsqlTransaction, whose BEGIN rides on the first command as a two-command batch,
        // which Npgsql sends partly asynchronously even from its synchronous API.
        for (var attempt = 1; ; attempt++)
        {
            ct.ThrowIfCancellationRequested();
            try
            {
                using var connection = _dataSource.OpenConnection();
                Execute(connection, null, "BEGIN ISOLATION LEVEL READ COMMITTED");
                var committed = false;
                try
                {
                    var result = work(new PostgresResourceStore(connection, inTransaction: true, ownsConnection: false));
                    Execute(connection, null, "COMMIT");
                    committed = true;
                    return result;
                }
                finally
                {
                    if (!committed) Rollback(connection);
                }
            }
            catch (PostgresException e) when (IsLostRace(e))
            {
                if (attempt >= MaxAttempts)
                    throw new FhirException(HttpStatusCode.Conflict, OperationOutcome.IssueType.Conflict,
                        "Other writers changed the same resources at the same time, again and again; nothing was changed. Try again.");
                // Rolled back above (no engine code swallows a database error, so a failed statement always gets here);
                // wait a little, more each time and with jitter, before the next run.
                await Task.Delay(TimeSpan.FromMilliseconds(Random.Shared.Next(1, 5 << attempt)), ct).ConfigureAwait(false);
            }
        }
    }

    private static void Rollback(NpgsqlConnection connection)
    {
        try
        {
            if (connection.State == ConnectionState.Open) Execute(connection, null, "ROLLBACK");
        }
        catch (NpgsqlException)
        {
            // A broken connection has no transaction left; the pool discards it.
        }
    }

    /// <summary>A race between transactions, not a fault: unique violation (two creates of one id), deadlock, serialization failure.</summary>
    internal static bool IsLostRace(PostgresException e) => e.SqlState is PostgresErrorCodes.UniqueViolation
        or PostgresErrorCodes.DeadlockDetected or PostgresErrorCodes.SerializationFailure;

    public long NextTicks() => _clock.NextTicks();

    /// <summary>
    /// The server cannot be reached or is not taking work: a network, socket or timeout failure (an
    /// <see cref="NpgsqlException"/> that is not a server error), or a server error of class 08 (connection), 57P0x
    /// (shutting down, starting up) or 53 (out of connections or resources).
    /// </summary>
    public bool IsUnavailable(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is PostgresException pg)
                return pg.SqlState.StartsWith("08", StringComparison.Ordinal) || pg.SqlState.StartsWith("57P0", StringComparison.Ordinal)
                    || pg.SqlState.StartsWith("53", StringComparison.Ordinal);
            if (x is NpgsqlException) return true;
        }
        return false;
    }

    public void Dispose() => _dataSource.Dispose();

    private static readonly Lazy<List<(int Version, string Sql)>> Migrations = new(() =>
    {
        var asm = typeof(PostgresFhirStore).Assembly;
        var list = new List<(int, string)>();
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.Contains(".Storage.Sql.postgres.", StringComparison.Ordinal)).Order(StringComparer.Ordinal))
        {
            var file = name[(name.IndexOf(".postgres.", StringComparison.Ordinal) + 10)..];
            var version = int.Parse(file[..4], CultureInfo.InvariantCulture);
            using var stream = asm.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            list.Add((version, reader.ReadToEnd()));
        }
        for (var i = 0; i < list.Count; i++)
            if (list[i].Item1 != i + 1) throw new InvalidOperationException($"PostgreSQL migration {i + 1} is missing.");
        return list;
    });
}
