using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Storage;
using Microsoft.Data.Sqlite;

namespace Ignis.Fhir.Tests.Providers;

/// <summary>An empty, migrated FHIR store of one provider and a <see cref="FhirService"/> on it.</summary>
public sealed class EngineTestStore : IDisposable
{
    private readonly string? _dir;

    /// <summary>A SQLite file in a fresh temp folder.</summary>
    public EngineTestStore()
    {
        _dir = Path.Combine(Path.GetTempPath(), "ignis-engine-" + Guid.NewGuid().ToString("N"));
        var db = new FhirDatabase(Path.Combine(_dir, "ignis.db"));
        db.Migrate();
        Store = new SqliteFhirStore(db, new WriteGate());
        Service = NewService(Store);
    }

    /// <summary>The emptied PostgreSQL database of <paramref name="fixture"/> (skips or fails the test without a server).</summary>
    public EngineTestStore(PostgresFixture fixture)
    {
        TestPostgres.RequireAdmin();
        Store = fixture.Reset();
        Service = NewService(Store);
    }

    public static EngineTestStore For(StoreKind kind, PostgresFixture? fixture) =>
        kind == StoreKind.Sqlite ? new EngineTestStore() : new EngineTestStore(fixture!);

    public IFhirStore Store { get; }
    public FhirService Service { get; }

    /// <summary>Another service on the same database: on PostgreSQL, what a second node is.</summary>
    public static FhirService NewService(IFhirStore store)
    {
        var registry = SearchParameterRegistry.Default;
        return new FhirService(store, registry, new ResourceIndexer(registry).Extract, new FhirSearch(registry));
    }

    public void Dispose()
    {
        if (_dir is null) return;
        SqliteConnection.ClearAllPools();
        ((SqliteFhirStore)Store).Database.ClearPool();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }
}
