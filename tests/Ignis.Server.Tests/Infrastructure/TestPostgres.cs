using System.Security.Cryptography;
using System.Text;
using Npgsql;

namespace Ignis.Server.Tests.Infrastructure;

/// <summary>
/// The PostgreSQL server the tests may use: IGNIS_TEST_POSTGRES holds an admin connection string (scripts/test.sh
/// starts a throwaway server and sets it). Each test server gets a database of its own, dropped afterwards.
/// IGNIS_TEST_STORAGE=postgres runs every test server on PostgreSQL instead of SQLite.
/// </summary>
public static class TestPostgres
{
    public static string? AdminConnectionString => Environment.GetEnvironmentVariable("IGNIS_TEST_POSTGRES") is { Length: > 0 } cs ? cs : null;

    /// <summary>IGNIS_TEST_STORAGE=postgres: the test servers run on PostgreSQL.</summary>
    public static bool IsDefaultStorage => string.Equals(Environment.GetEnvironmentVariable("IGNIS_TEST_STORAGE"), "postgres", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// For tests that need PostgreSQL whatever the default storage: skipped without a server, except in CI (CI=true),
    /// where a missing server is a failure, so these tests cannot silently stop running.
    /// </summary>
    public static string Require()
    {
        if (AdminConnectionString is { } cs) return cs;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException("CI=true but IGNIS_TEST_POSTGRES is not set: start PostgreSQL with scripts/postgres.sh (scripts/test.sh does).");
        Assert.Skip("PostgreSQL tests need IGNIS_TEST_POSTGRES (scripts/test.sh starts a server); skipped.");
        return "";
    }

    /// <summary>Creates database ignis_t_{name} (when missing) and returns its connection string.</summary>
    public static async Task<string> CreateDatabaseAsync(string? name = null)
    {
        var admin = AdminConnectionString ?? throw new InvalidOperationException(
            "IGNIS_TEST_STORAGE=postgres needs IGNIS_TEST_POSTGRES, an admin connection string (scripts/test.sh sets both).");
        var database = "ignis_t_" + (name ?? Guid.NewGuid().ToString("N")[..16]);
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var exists = new NpgsqlCommand("SELECT 1 FROM pg_database WHERE datname = @name", connection);
            exists.Parameters.AddWithValue("name", database);
            if (await exists.ExecuteScalarAsync() is null)
            {
                await using var create = new NpgsqlCommand($"CREATE DATABASE \"{database}\"", connection);
                await create.ExecuteNonQueryAsync();
            }
        }
        return new NpgsqlConnectionStringBuilder(admin) { Database = database }.ConnectionString;
    }

    /// <summary>The database of a data folder, so a server restarted on the same folder finds the same data.</summary>
    public static Task<string> DatabaseForAsync(string dataDirectory) =>
        CreateDatabaseAsync(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(dataDirectory))))[..16]);

    public static async Task DropDatabaseAsync(string connectionString)
    {
        var database = new NpgsqlConnectionStringBuilder(connectionString).Database;
        NpgsqlConnection.ClearAllPools();
        await using var connection = new NpgsqlConnection(AdminConnectionString);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{database}\" WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    /// <summary>The arguments that put a server on this database.</summary>
    public static string[] Arguments(string connectionString) =>
        ["--Ignis:Storage:Provider=postgres", "--Ignis:Storage:ConnectionString=" + connectionString];
}
