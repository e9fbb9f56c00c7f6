using Ignis.Fhir.Engine;

namespace Ignis.Fhir.Storage;

/// <summary>
/// The SQLite provider: one database file (<see cref="FhirDatabase"/>) and one writer at a time (<see cref="WriteGate"/>),
/// for a single node.
/// </summary>
public sealed class SqliteFhirStore(FhirDatabase database, WriteGate gate) : IFhirStore
{
    public FhirDatabase Database => database;

    public string Provider => "sqlite";

    public string Location => database.Path;

    public int LatestSchemaVersion => FhirDatabase.LatestVersion;

    public int Migrate() => database.Migrate();

    public IResourceSession OpenReader() => new ResourceStore(database.Open(), ownsConnection: true);

    public bool WritesMayRetry => false;

    public async Task<T> WriteAsync<T>(Func<IResourceStore, T> work, CancellationToken ct)
    {
        using var _ = await gate.EnterAsync(ct).ConfigureAwait(false);
        using var connection = database.OpenWriter();
        using var tx = connection.BeginTransaction();
        var result = work(new ResourceStore(connection, tx));
        tx.Commit();
        return result;
    }

    public long NextTicks() => gate.NextTicks();

    /// <summary>A local file has no connection to lose; its errors are bugs or full disks, not outages.</summary>
    public bool IsUnavailable(Exception e) => false;
}
