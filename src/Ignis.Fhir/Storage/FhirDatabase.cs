using System.Collections.Concurrent;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Ignis.Fhir.Storage;

/// <summary>
/// The SQLite database file: opens connections with the durability settings every acknowledged write
/// relies on (WAL, synchronous=FULL) and upgrades the schema in place on start.
/// </summary>
public sealed class FhirDatabase
{
    private readonly string _connectionString;

    public FhirDatabase(string path)
    {
        Path = System.IO.Path.GetFullPath(path);
        var dir = System.IO.Path.GetDirectoryName(Path);
        if (!string.IsNullOrEmpty(dir)) Directory.CreateDirectory(dir);
        _connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = Path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Cache = SqliteCacheMode.Private,
            Pooling = false, // pooled here instead, with the pragmas set once per physical connection
            DefaultTimeout = 30,
        }.ToString();
    }

    public string Path { get; }

    /// <summary>The schema versions this build knows; a database at a lower version is upgraded on open.</summary>
    public static int LatestVersion => Migrations.Value.Count;

    private const int MaxIdle = 32;
    private readonly ConcurrentBag<PooledSqliteConnection> _idle = [];

    /// <summary>
    /// An open connection; disposing it returns it to the pool. Connections keep their pragmas and their
    /// prepared statements (<see cref="PooledSqliteConnection.Prepared"/>) between uses.
    /// </summary>
    public SqliteConnection Open() => Open(pooled: true);

    private SqliteConnection Open(bool pooled)
    {
        if (pooled && _idle.TryTake(out var idle)) return idle;
        var connection = new PooledSqliteConnection(_connectionString, this);
        connection.Open();
        // synchronous=FULL: a write acknowledged to a client is on disk before the response (kill -9 safe).
        // The page cache is per connection; with up to MaxIdle connections it stays bounded (memory target).
        // No mmap: every connection maps the file on its own, so a large database showed up many times in RSS
        // (measured: 2.2 GiB of file pages on the 1,000,000-resource database); the OS page cache serves reads as well.
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=30000; PRAGMA cache_size=-4096; PRAGMA temp_store=MEMORY; PRAGMA mmap_size=0;";
        cmd.ExecuteNonQuery();
        return connection;
    }

    private readonly ConcurrentBag<PooledSqliteConnection> _writers = [];

    /// <summary>
    /// A connection for writes, which the write gate lets through one at a time. Its page cache is large: a
    /// transaction Bundle dirties thousands of index pages, and a small cache spills them to the WAL (and
    /// re-reads them) in the middle of the transaction. Only one is kept (the gate lets one writer in at a time anyway):
    /// a connection whose database another connection has written since its last transaction throws its whole page
    /// cache away, so two writers taking turns would re-read every page they touch.
    /// </summary>
    public SqliteConnection OpenWriter()
    {
        if (_writers.TryTake(out var pooled)) return pooled;
        var connection = (PooledSqliteConnection)Open(pooled: false);
        connection.IsWriter = true;
        using var cmd = connection.CreateCommand();
        // No checkpoint inside COMMIT (wal_autocheckpoint=0): the store checkpoints on another thread after each commit
        // (SqliteFhirStore, through WalCheckpoints), so copying the WAL into the database file and its fsync are not serial
        // time of the writer. When the log starts over, a WAL file grown past journal_size_limit is cut back to it.
        cmd.CommandText = "PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=" + WalCheckpoints.KeptWalBytes + ";";
        cmd.ExecuteNonQuery();
        return connection;
    }

    /// <summary>
    /// A checkpoint on a connection of its own: copies the committed WAL frames that no reader still needs into the
    /// database file (synchronous=FULL: fsynced), without blocking the writer or readers, and makes the log start over
    /// once it is large (<see cref="WalCheckpoints.Checkpoint"/>). Errors are left to the next checkpoint (a full disk
    /// shows up on the next write anyway).
    /// </summary>
    internal void Checkpoint(Engine.WriteGate gate)
    {
        try
        {
            using var connection = Open();
            WalCheckpoints.Checkpoint(connection, gate);
        }
        catch (SqliteException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    internal void Return(PooledSqliteConnection connection)
    {
        var bag = connection.IsWriter ? _writers : _idle;
        var max = connection.IsWriter ? 1 : MaxIdle;
        if (connection.State == System.Data.ConnectionState.Open && bag.Count < max) bag.Add(connection);
        else connection.Close(true);
    }

    /// <summary>Closes the idle connections (tests that delete the database file; shutdown).</summary>
    public void ClearPool()
    {
        while (_idle.TryTake(out var c)) c.Close(true);
        while (_writers.TryTake(out var w)) w.Close(true);
    }

    /// <summary>Creates the database or upgrades it to <see cref="LatestVersion"/>; returns the version it found.</summary>
    public int Migrate() => Migrate(LatestVersion);

    /// <summary>Upgrades to <paramref name="target"/> (tests use it to make a database as an older Ignis left it).</summary>
    internal int Migrate(int target)
    {
        using var connection = Open();
        var found = connection.ExecuteScalar<long>("PRAGMA user_version");
        if (found > LatestVersion)
            throw new InvalidOperationException(
                $"The database {Path} has schema version {found}, newer than this build of Ignis knows ({LatestVersion}). Use a newer Ignis.");
        foreach (var (version, sql) in Migrations.Value.Where(m => m.Version > found && m.Version <= target))
        {
            using var tx = connection.BeginTransaction();
            connection.Execute(sql, transaction: tx);
            connection.Execute($"PRAGMA user_version = {version}", transaction: tx);
            tx.Commit();
        }
        return (int)found;
    }

    private static readonly Lazy<List<(int Version, string Sql)>> Migrations = new(() =>
    {
        var asm = typeof(FhirDatabase).Assembly;
        var list = new List<(int, string)>();
        foreach (var name in asm.GetManifestResourceNames().Where(n => n.Contains(".Storage.Sql.sqlite.")).Order(StringComparer.Ordinal))
        {
            var file = name[(name.IndexOf(".sqlite.", StringComparison.Ordinal) + 8)..];
            var version = int.Parse(file[..4], System.Globalization.CultureInfo.InvariantCulture);
            using var stream = asm.GetManifestResourceStream(name)!;
            using var reader = new StreamReader(stream);
            list.Add((version, reader.ReadToEnd()));
        }
        for (var i = 0; i < list.Count; i++)
            if (list[i].Item1 != i + 1) throw new InvalidOperationException($"Migration {i + 1} is missing.");
        return list;
    });
}
