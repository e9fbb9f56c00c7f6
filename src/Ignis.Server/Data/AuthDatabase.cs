using System.Data.Common;
using Ignis.Server.Hosting;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Ignis.Server.Data;

/// <summary>Where the server keeps its data: <c>Ignis:Storage:Provider</c>.</summary>
public enum StorageProvider
{
    /// <summary>One SQLite file (the default): one node.</summary>
    Sqlite,
    /// <summary>A PostgreSQL database shared by any number of nodes.</summary>
    Postgres,
}

/// <summary>
/// The auth tables' database as the hand-written statements reach it (the write batcher, the backend client cache,
/// advisory locks); EF Core reaches the same database through <see cref="AuthDbContext"/>. On PostgreSQL one
/// <see cref="NpgsqlDataSource"/> (one connection pool) serves both.
/// </summary>
public sealed class AuthDatabase : IAsyncDisposable
{
    public const string SqliteName = "sqlite";
    public const string PostgresName = "postgres";

    // The auth tables' settings on SQLite (see AuthConnectionSettings), and foreign_keys as EF Core sets it.
    private const string SqlitePragmas = "PRAGMA busy_timeout=30000; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;";

    private AuthDatabase(StorageProvider provider, string connectionString, NpgsqlDataSource? dataSource)
    {
        Provider = provider;
        ConnectionString = connectionString;
        DataSource = dataSource;
    }

    public StorageProvider Provider { get; }

    public bool IsPostgres => Provider == StorageProvider.Postgres;

    /// <summary>The connection string EF Core and the hand-written statements use.</summary>
    public string ConnectionString { get; }

    /// <summary>The PostgreSQL connection pool (null on SQLite).</summary>
    public NpgsqlDataSource? DataSource { get; }

    /// <summary>Parses Ignis:Storage:Provider; null when it names no provider Ignis has.</summary>
    public static StorageProvider? ParseProvider(string? name) => name?.Trim().ToLowerInvariant() switch
    {
        null or "" or SqliteName => StorageProvider.Sqlite,
        PostgresName or "postgresql" or "npgsql" => StorageProvider.Postgres,
        _ => null,
    };

    /// <summary>The SQLite file: Ignis:Storage:ConnectionString, or {DataDirectory}/ignis.db.</summary>
    public static string SqlitePath(IgnisOptions options) =>
        Path.GetFullPath(options.Storage.ConnectionString is { Length: > 0 } path ? path : Path.Combine(options.DataDirectory, "ignis.db"));

    public static AuthDatabase Create(IgnisOptions options)
    {
        var provider = ParseProvider(options.Storage.Provider)
            ?? throw new InvalidOperationException($"Ignis:Storage:Provider must be '{SqliteName}' or '{PostgresName}', not '{options.Storage.Provider}'.");
        if (provider == StorageProvider.Sqlite)
        {
            // The auth tables may be opened (migrated) before anything else of a fresh start has made the data folder:
            // start-up runs the FHIR store, the auth tables and the keys side by side.
            var path = SqlitePath(options);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            return new AuthDatabase(provider, $"Data Source={path};Default Timeout=30;Pooling=True", null);
        }

        if (options.Storage.ConnectionString is not { Length: > 0 } cs)
            throw new InvalidOperationException("Ignis:Storage:ConnectionString must be set with Ignis:Storage:Provider=postgres, e.g. Host=db.example.org;Database=ignis;Username=ignis;Password=...");
        var builder = new NpgsqlConnectionStringBuilder(cs);
        // Names this node's connections in pg_stat_activity unless the operator chose a name.
        builder.ApplicationName ??= "ignis";
        var source = new NpgsqlDataSourceBuilder(builder.ConnectionString).Build();
        return new AuthDatabase(provider, builder.ConnectionString, source);
    }

    /// <summary>An open connection for hand-written statements (the caller disposes it).</summary>
    public async Task<DbConnection> OpenAsync(CancellationToken ct = default)
    {
        if (DataSource is not null) return await DataSource.OpenConnectionAsync(ct);
        var connection = new SqliteConnection(ConnectionString);
        await connection.OpenAsync(ct);
        await using var pragma = connection.CreateCommand();
        pragma.CommandText = SqlitePragmas;
        await pragma.ExecuteNonQueryAsync(ct);
        return connection;
    }

    public DbConnection Open()
    {
        if (DataSource is not null) return DataSource.OpenConnection();
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var pragma = connection.CreateCommand();
        pragma.CommandText = SqlitePragmas;
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>
    /// Whether EF Core's migration history table exists. Asked through EF Core, Npgsql answers by running a query that
    /// fails on a new database, which EF Core logs as an error.
    /// </summary>
    public async Task<bool> HasMigrationHistoryAsync(CancellationToken ct = default)
    {
        await using var connection = await OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = IsPostgres
            ? "SELECT to_regclass('\"__EFMigrationsHistory\"') IS NOT NULL"
            : "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = '__EFMigrationsHistory'";
        return Convert.ToBoolean(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>A constraint (primary key, unique, foreign key, not null) refused the statement.</summary>
    public static bool IsConstraintViolation(Exception e) => e switch
    {
        SqliteException s => s.SqliteErrorCode == 19, // SQLITE_CONSTRAINT
        PostgresException p => p.SqlState.StartsWith("23", StringComparison.Ordinal), // class 23: integrity constraint violation
        _ => false,
    };

    /// <summary>
    /// Holds a cluster-wide lock until disposed: a PostgreSQL session advisory lock on a connection of its own, so one
    /// node at a time runs what it guards (schema migrations at start-up, pruning). SQLite has one node: no lock.
    /// </summary>
    /// <summary>The start-up lock (<see cref="ClusterLock.Startup"/>), for the synchronous start-up path.</summary>
    public IDisposable LockStartup() => LockAsync(ClusterLock.Startup).GetAwaiter().GetResult();

    public async Task<ClusterLockHandle> LockAsync(ClusterLock which, CancellationToken ct = default)
    {
        if (DataSource is null) return NoLock.Instance;
        var connection = await DataSource.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", (long)which);
            await command.ExecuteNonQueryAsync(ct);
            return new AdvisoryLock(connection, (long)which);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>Like <see cref="LockAsync"/> but does not wait: null when another node holds the lock.</summary>
    public async Task<ClusterLockHandle?> TryLockAsync(ClusterLock which, CancellationToken ct = default)
    {
        if (DataSource is null) return NoLock.Instance;
        var connection = await DataSource.OpenConnectionAsync(ct);
        try
        {
            await using var command = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            command.Parameters.AddWithValue("key", (long)which);
            if (await command.ExecuteScalarAsync(ct) is true) return new AdvisoryLock(connection, (long)which);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
        await connection.DisposeAsync();
        return null;
    }

    public async ValueTask DisposeAsync()
    {
        if (DataSource is not null) await DataSource.DisposeAsync();
    }

    private sealed class NoLock : ClusterLockHandle
    {
        public static readonly NoLock Instance = new();
        public override ValueTask DisposeAsync() => default;
    }

    private sealed class AdvisoryLock(NpgsqlConnection connection, long key) : ClusterLockHandle
    {
        public override async ValueTask DisposeAsync()
        {
            try
            {
                await using var command = new NpgsqlCommand("SELECT pg_advisory_unlock(@key)", connection);
                command.Parameters.AddWithValue("key", key);
                await command.ExecuteNonQueryAsync();
            }
            catch (NpgsqlException)
            {
                // The connection broke: the server released the lock with the session.
            }
            await connection.DisposeAsync();
        }
    }
}

/// <summary>A held cluster lock; disposing releases it.</summary>
public abstract class ClusterLockHandle : IAsyncDisposable, IDisposable
{
    public abstract ValueTask DisposeAsync();

    public void Dispose() => DisposeAsync().AsTask().GetAwaiter().GetResult();
}

/// <summary>The advisory lock keys Ignis uses on PostgreSQL (arbitrary constants, "IGNS" + a number).</summary>
public enum ClusterLock : long
{
    /// <summary>Start-up: schema migrations, demo data, the first keys.</summary>
    Startup = 0x49474E53_0001,
    /// <summary>Deleting expired tokens, authorizations and launch ids.</summary>
    TokenPruning = 0x49474E53_0002,
    /// <summary>Deleting expired client assertion ids.</summary>
    AssertionPruning = 0x49474E53_0003,
    /// <summary>Creating or rotating the signing keys.</summary>
    SigningKeys = 0x49474E53_0004,
}
