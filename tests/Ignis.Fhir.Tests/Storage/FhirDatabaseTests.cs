using Dapper;
using Ignis.Fhir.Storage;
using Microsoft.Data.Sqlite;
using Shouldly;
using Xunit;

namespace Ignis.Fhir.Tests.Storage;

public sealed class FhirDatabaseTests : IDisposable
{
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "ignis-db-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void A_new_database_is_created_at_the_latest_schema_version_with_durable_settings()
    {
        var db = new FhirDatabase(Path.Combine(_dir, "new.db"));
        db.Migrate().ShouldBe(0);
        using var c = db.Open();
        c.ExecuteScalar<long>("PRAGMA user_version").ShouldBe(FhirDatabase.LatestVersion);
        c.ExecuteScalar<string>("PRAGMA journal_mode").ShouldBe("wal");
        c.ExecuteScalar<long>("PRAGMA synchronous").ShouldBe(2); // FULL
    }

    [Fact]
    public void Opening_a_current_database_again_keeps_its_data()
    {
        var path = Path.Combine(_dir, "keep.db");
        var db = new FhirDatabase(path);
        db.Migrate();
        using (var c = db.Open())
            c.Execute("INSERT INTO resources (type, id, version, last_updated, body) VALUES ('Patient', 'p1', 1, 1, '{}')");
        new FhirDatabase(path).Migrate().ShouldBe(FhirDatabase.LatestVersion);
        using var again = db.Open();
        again.ExecuteScalar<long>("SELECT COUNT(*) FROM resources").ShouldBe(1);
    }

    [Fact]
    public void An_older_database_is_upgraded_in_place_keeping_its_data()
    {
        var path = Path.Combine(_dir, "old.db");
        var db = new FhirDatabase(path);
        db.Migrate(1); // the schema as Ignis with schema version 1 left it
        using (var c = db.Open())
            c.Execute("INSERT INTO resources (type, id, version, last_updated, body) VALUES ('Patient', 'p1', 1, 1, '{}')");

        new FhirDatabase(path).Migrate().ShouldBe(1);

        using var after = db.Open();
        after.ExecuteScalar<long>("PRAGMA user_version").ShouldBe(FhirDatabase.LatestVersion);
        after.ExecuteScalar<long>("SELECT COUNT(*) FROM resources").ShouldBe(1);
        after.ExecuteScalar<long>("SELECT COUNT(*) FROM sqlite_master WHERE name = 'ix_history_type_id_seq'").ShouldBe(0);
    }

    [Fact]
    public void A_database_upgraded_from_every_older_version_has_the_schema_of_a_new_one()
    {
        var fresh = new FhirDatabase(Path.Combine(_dir, "fresh.db"));
        fresh.Migrate();
        var expected = Schema(fresh);
        expected.ShouldContain(s => s.Contains("WHERE url IS NOT NULL", StringComparison.Ordinal));
        for (var from = 1; from < FhirDatabase.LatestVersion; from++)
        {
            var old = new FhirDatabase(Path.Combine(_dir, $"from-{from}.db"));
            old.Migrate(from);
            old.Migrate().ShouldBe(from);
            Schema(old).ShouldBe(expected, $"upgraded from version {from}");
        }
    }

    private static List<string> Schema(FhirDatabase db)
    {
        using var c = db.Open();
        return [.. c.Query<string>("SELECT type || ' ' || name || ': ' || coalesce(sql, '') FROM sqlite_master ORDER BY type, name")];
    }

    [Fact]
    public void A_database_from_a_newer_ignis_is_refused()
    {
        var path = Path.Combine(_dir, "newer.db");
        var db = new FhirDatabase(path);
        db.Migrate();
        using (var c = db.Open()) c.Execute($"PRAGMA user_version = {FhirDatabase.LatestVersion + 5}");
        var e = Should.Throw<InvalidOperationException>(() => new FhirDatabase(path).Migrate());
        e.Message.ShouldContain("newer");
    }
}
