using Npgsql;
using Xunit;

namespace Ignis.Fhir.Tests.Providers;

/// <summary>The two storage providers every engine test runs on.</summary>
public enum StoreKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// The PostgreSQL server the tests use: IGNIS_TEST_POSTGRES holds an admin connection string
/// (e.g. Host=127.0.0.1;Port=54329;Username=postgres;Database=postgres; scripts/postgres.sh starts one). Without it the
/// PostgreSQL tests are skipped locally, and fail in CI (CI=true), so CI cannot pass without running them.
/// </summary>
public static class TestPostgres
{
    public const string Variable = "IGNIS_TEST_POSTGRES";

    public static string? AdminConnectionString =>
        Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } s ? s : null;

    private static bool InCi => string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase);

    /// <summary>The admin connection string; otherwise skips the test (locally) or fails it (CI).</summary>
    public static string RequireAdmin()
    {
        if (AdminConnectionString is { } cs) return cs;
        if (InCi) Assert.Fail($"{Variable} is not set: CI must run the PostgreSQL tests (start a server with scripts/postgres.sh).");
        Assert.Skip($"{Variable} is not set: the PostgreSQL tests are skipped (in CI they fail).");
        return null!;
    }
}

/// <summary>A fresh database (ignis_t_…) on the test server, dropped on dispose.</summary>
public sealed class PostgresTestDatabase : IDisposable
{
    private readonly string _admin;

    public PostgresTestDatabase()
    {
        _admin = TestPostgres.RequireAdmin();
        Name = "ignis_t_" + Guid.NewGuid().ToString("N")[..16];
        using (var c = new NpgsqlConnection(_admin))
        {
            c.Open();
            using var cmd = new NpgsqlCommand($"CREATE DATABASE {Name}", c);
            cmd.ExecuteNonQuery();
        }
        ConnectionString = new NpgsqlConnectionStringBuilder(_admin) { Database = Name }.ConnectionString;
    }

    public string Name { get; }

    /// <summary>The connection string of the fresh database (same server and user as the admin one).</summary>
    public string ConnectionString { get; }

    public void Dispose()
    {
        NpgsqlConnection.ClearAllPools();
        using var c = new NpgsqlConnection(_admin);
        c.Open();
        using var cmd = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)", c);
        cmd.ExecuteNonQuery();
    }
}

/// <summary>
/// One migrated PostgreSQL database for a test class (xUnit class fixture); each test starts from empty tables
/// (<see cref="Reset"/>). Made lazily, so a test class whose tests are skipped never touches the server.
/// </summary>
public sealed class PostgresFixture : IDisposable
{
    private PostgresTestDatabase? _database;
    private Ignis.Fhir.Storage.Postgres.PostgresFhirStore? _store;

    public Ignis.Fhir.Storage.Postgres.PostgresFhirStore Store
    {
        get
        {
            if (_store is null)
            {
                _database = new PostgresTestDatabase();
                _store = new Ignis.Fhir.Storage.Postgres.PostgresFhirStore(_database.ConnectionString);
                _store.Migrate();
            }
            return _store;
        }
    }

    /// <summary>The store with every table emptied and the keys starting from 1 again.</summary>
    public Ignis.Fhir.Storage.Postgres.PostgresFhirStore Reset()
    {
        var store = Store;
        using var c = store.OpenConnection();
        using var cmd = new NpgsqlCommand(
            "TRUNCATE resources, history, idx_string, idx_token, idx_date, idx_number, idx_quantity, idx_reference, idx_uri, idx_composite RESTART IDENTITY", c);
        cmd.ExecuteNonQuery();
        return store;
    }

    public void Dispose()
    {
        _store?.Dispose();
        _database?.Dispose();
    }
}
