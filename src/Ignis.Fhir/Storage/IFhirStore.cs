using System.Data.Common;
using Ignis.Fhir.Search.Indexing;

namespace Ignis.Fhir.Storage;

/// <summary>
/// A FHIR storage provider: the database behind <see cref="Engine.FhirService"/> (SQLite: <see cref="SqliteFhirStore"/>,
/// PostgreSQL: <see cref="Postgres.PostgresFhirStore"/>). It owns the schema, the connections and how a write
/// transaction is made safe: SQLite lets one writer in at a time (the write gate); PostgreSQL lets every node write
/// at once, locks the rows it changes and runs a transaction again when it lost a race.
/// </summary>
public interface IFhirStore
{
    /// <summary>"sqlite" or "postgres" (the values of Ignis:Storage:Provider).</summary>
    string Provider { get; }

    /// <summary>Where the data lives, for logs and messages: the file, or host/database (never a password).</summary>
    string Location { get; }

    /// <summary>The schema version this build knows.</summary>
    int LatestSchemaVersion { get; }

    /// <summary>Creates the schema or upgrades it in place to <see cref="LatestSchemaVersion"/>; returns the version it found.</summary>
    int Migrate();

    /// <summary>A store for reads (no transaction); dispose it to give the connection back.</summary>
    IResourceSession OpenReader();

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction and commits it; an exception rolls everything back.
    /// When <see cref="WritesMayRetry"/>, <paramref name="work"/> may run more than once (each time in a fresh
    /// transaction, after the earlier one rolled back), so it must not keep state from an earlier run.
    /// Otherwise (SQLite) it may still run again, after a group commit was rolled back because another write of the
    /// group failed, but then on the same state as its first run: it must give the same writes when run again on
    /// what its earlier run left in its own objects (ids it assigned, references it rewrote).
    /// </summary>
    Task<T> WriteAsync<T>(Func<IResourceStore, T> work, CancellationToken ct);

    /// <summary>
    /// As <see cref="WriteAsync{T}"/>, for records the server keeps for itself whose loss in an operating-system crash or
    /// power cut is acceptable (the security log, which holds its events in memory before writing them anyway): the
    /// commit may complete before the disk has them. The process dying loses nothing committed; the database is never
    /// left inconsistent. SQLite commits such a write in a transaction of its own with synchronous=NORMAL, without the
    /// fsync a write of <see cref="WriteAsync{T}"/> waits for; other providers write it as any other.
    /// </summary>
    Task<T> WriteWithoutSyncAsync<T>(Func<IResourceStore, T> work, CancellationToken ct) => WriteAsync(work, ct);

    /// <summary>Whether <see cref="WriteAsync{T}"/> may run its work again after a lost race (PostgreSQL).</summary>
    bool WritesMayRetry { get; }

    /// <summary>The time of the next write (UTC ticks, whole microseconds, increasing within this process).</summary>
    long NextTicks();

    /// <summary>Whether <paramref name="e"/> says the database cannot be reached (answered 503, not 500).</summary>
    bool IsUnavailable(Exception e);
}

/// <summary>The rows of one connection: reads, and inside a write transaction the writes (see <see cref="ResourceStore"/>).</summary>
public interface IResourceStore
{
    DbConnection Connection { get; }
    DbTransaction? Transaction { get; }

    /// <summary>The current row of type/id. Inside a write transaction on PostgreSQL the row stays locked until commit.</summary>
    StoredResource? ReadCurrent(string type, string id);

    StoredResource? ReadVersion(string type, string id, int version);

    /// <summary>Writes a new current version (create, update or delete) with its history row and index rows.</summary>
    /// <param name="existing">The current row, or null when the resource never existed.</param>
    /// <param name="json">The version's JSON; null for a delete.</param>
    /// <param name="index">The index rows of the new version; null for a delete.</param>
    StoredResource Write(StoredResource? existing, string type, string id, int version, long lastUpdated,
        string method, string? json, ResourceIndex? index);

    /// <summary>History rows newest first, filtered by type/id and time; keyset-paged on seq.</summary>
    IReadOnlyList<(long Seq, string Method, StoredResource Resource)> History(
        string? type, string? id, long? since, long? at, long? beforeSeq, int limit);

    long CountHistory(string? type, string? id, long? since);

    /// <summary>Whether the current version of <paramref name="key"/> references <paramref name="type"/>/<paramref name="id"/> through one of the parameters.</summary>
    bool References(long key, int[] paramIds, string type, string id);

    bool IsEmpty();

    /// <summary>
    /// Called before a conditional interaction searches for its match (conditional create, update, patch, delete):
    /// makes "search, then write" atomic against other writers of <paramref name="type"/>. SQLite's single writer
    /// already is; PostgreSQL takes a transaction-scoped advisory lock on the type.
    /// </summary>
    void LockForConditionalWrite(string type);

    /// <summary>
    /// Called by a transaction Bundle before its entries run: locks the existing resources it will change, in one
    /// fixed order, so two transactions over the same resources queue instead of deadlocking (PostgreSQL; SQLite's
    /// single writer needs nothing).
    /// </summary>
    void LockForWrite(IReadOnlyCollection<(string Type, string Id)> targets);
}

/// <summary>A read store that owns its connection.</summary>
public interface IResourceSession : IResourceStore, IDisposable;
