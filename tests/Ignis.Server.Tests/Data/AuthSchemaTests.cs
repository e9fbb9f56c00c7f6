using Ignis.Server.Data;
using Ignis.Server.Hosting;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Data;

/// <summary>
/// The auth schema on SQLite is made and checked without EF Core at start-up (<see cref="AuthSchema"/>): a new database
/// gets EF Core's script for all migrations, which must stay the script EF Core generates, and must make the same
/// schema as EF Core's migrator; a database with only some of the migrations is upgraded by the migrator.
/// </summary>
public sealed class AuthSchemaTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("ignis-auth-schema-");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { _folder.Delete(recursive: true); } catch (IOException) { }
    }

    private AuthDbContext Context(string name) => new(new DbContextOptionsBuilder<AuthDbContext>()
        .UseSqlite("Data Source=" + Path.Combine(_folder.FullName, name)).UseOpenIddict().Options);

    private AuthDatabase Database(string name) => AuthDatabase.Create(new IgnisOptions
    {
        DataDirectory = _folder.FullName,
        Storage = { ConnectionString = Path.Combine(_folder.FullName, name) },
    });

    [Fact]
    public void The_embedded_script_is_the_one_EF_Core_generates_for_the_migrations()
    {
        using var context = Context("generated.db");
        // Regenerate with IMigrator.GenerateScript() (see AuthSchema) after adding a migration.
        Normalize(AuthSchema.SqliteScript).ShouldBe(Normalize(context.GetService<IMigrator>().GenerateScript()));
        AuthSchema.SqliteMigrations.ShouldBe(context.Database.GetMigrations());
    }

    [Fact]
    public async Task A_database_made_by_the_script_has_the_schema_and_history_of_one_migrated_by_EF_Core()
    {
        await using (var context = Context("migrated.db")) await context.Database.MigrateAsync(TestContext.Current.CancellationToken);
        await AuthSchema.CreateAsync(Database("scripted.db"), TestContext.Current.CancellationToken);

        var scripted = await SchemaAsync("scripted.db");
        scripted.Count.ShouldBeGreaterThan(20);
        scripted.ShouldBe(await SchemaAsync("migrated.db"));
        (await AuthSchema.AppliedAsync(Database("scripted.db"), TestContext.Current.CancellationToken))
            .ShouldBe(AuthSchema.SqliteMigrations, ignoreOrder: true);
    }

    [Fact]
    public async Task A_database_with_some_of_the_migrations_is_upgraded_at_start_and_keeps_its_rows()
    {
        var data = Directory.CreateDirectory(Path.Combine(_folder.FullName, "older")).FullName;
        var first = AuthSchema.SqliteMigrations[0];
        await using (var older = new AuthDbContext(new DbContextOptionsBuilder<AuthDbContext>()
            .UseSqlite("Data Source=" + Path.Combine(data, "ignis.db")).UseOpenIddict().Options))
        {
            await older.GetService<IMigrator>().MigrateAsync(first, TestContext.Current.CancellationToken);
            await older.Database.ExecuteSqlRawAsync(
                "INSERT INTO \"AspNetRoles\" (\"Id\", \"Name\", \"NormalizedName\") VALUES ('r1', 'auditor', 'AUDITOR')", TestContext.Current.CancellationToken);
        }

        await using (var server = await IgnisServer.StartInAsync(data, ownsData: false, "--Ignis:Storage:Provider=sqlite"))
        {
            var database = server.Services.GetRequiredService<AuthDatabase>();
            (await AuthSchema.AppliedAsync(database, TestContext.Current.CancellationToken)).ShouldBe(AuthSchema.SqliteMigrations, ignoreOrder: true);
        }
        SqliteConnection.ClearAllPools();
        await using var check = new SqliteConnection("Data Source=" + Path.Combine(data, "ignis.db"));
        await check.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = check.CreateCommand();
        command.CommandText = "SELECT \"Name\" || ':' || \"ScimVersion\" FROM \"AspNetRoles\" WHERE \"Id\" = 'r1'"; // ScimVersion: a later migration's column
        (await command.ExecuteScalarAsync(TestContext.Current.CancellationToken)).ShouldBe("auditor:1");
    }

    /// <summary>Every table and index with its SQL, but EF Core's migration lock table (made by the migrator, not by migrations).</summary>
    private async Task<List<string>> SchemaAsync(string name)
    {
        await using var connection = new SqliteConnection("Data Source=" + Path.Combine(_folder.FullName, name));
        await connection.OpenAsync(TestContext.Current.CancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT type || ' ' || name || ' ' || tbl_name || ' ' || coalesce(sql, '') FROM sqlite_master " +
            "WHERE name <> '__EFMigrationsLock' ORDER BY type, name";
        var rows = new List<string>();
        await using var reader = await command.ExecuteReaderAsync(TestContext.Current.CancellationToken);
        while (await reader.ReadAsync(TestContext.Current.CancellationToken)) rows.Add(reader.GetString(0));
        return rows;
    }

    private static string Normalize(string script) => script.Replace("\r\n", "\n").Trim();
}
