using Ignis.Fhir.Engine;
using Microsoft.Data.Sqlite;

namespace Ignis.Fhir.Storage;

/// <summary>
/// The SQLite provider: one database file (<see cref="FhirDatabase"/>) and one writer at a time (<see cref="WriteGate"/>),
/// for a single node.
/// </summary>
/// <remarks>
/// Writes are committed in groups. A write queues its work and waits for the gate; whoever holds the gate takes every
/// write queued by then, and those queued while they run (up to <see cref="MaxGroup"/> in all), and runs them one after
/// another in ONE SQLite transaction. One
/// COMMIT (one WAL append and one fsync, synchronous=FULL) then makes the whole group durable, and only after it does
/// any write of the group complete, so nothing is acknowledged before it is on disk. The writes of a group run in queue
/// order on one connection, each seeing the ones before it, exactly as if they had been committed one by one; a group
/// only saves the commits (and the index pages that several writes dirty are written to the WAL once).
/// <para>
/// When a write fails (a transaction Bundle with a failing entry, an If-Match that does not match), the group's
/// transaction is rolled back and the writes before it run again, in the same order on the same state, without it;
/// the failed write is answered with its error and leaves nothing. (A SAVEPOINT per write would avoid the second run,
/// but SQLite then keeps every page the write changes in an in-memory sub-journal that each statement truncates by
/// walking it from the start: measured 2.5x the CPU of a plain transaction of 400 resources.) So on SQLite a write's
/// work may run more than once — again after a rollback, never on state from its own earlier run.
/// </para>
/// <para>
/// A write of <see cref="WriteWithoutSyncAsync{T}"/> (the security log's AuditEvents) is a group of its own, committed
/// with synchronous=NORMAL: no fsync, so the gate is held only for its statements, and the other writers (a FHIR write,
/// the token writer) that queue behind it wait for less. Groups of the other writes never take it in, and it never
/// takes them: their commit stays synchronous.
/// </para>
/// </remarks>
public sealed class SqliteFhirStore(FhirDatabase database, WriteGate gate) : IFhirStore
{
    /// <summary>The most writes one transaction takes (a transaction Bundle counts as one).</summary>
    internal const int MaxGroup = 32;

    private readonly Queue<PendingWrite> _queue = new();
    private long _commits;

    public FhirDatabase Database => database;

    public string Provider => "sqlite";

    public string Location => database.Path;

    public int LatestSchemaVersion => FhirDatabase.LatestVersion;

    public int Migrate() => database.Migrate();

    public IResourceSession OpenReader() => new ResourceStore(database.Open(), ownsConnection: true);

    public bool WritesMayRetry => false;

    /// <summary>Committed write transactions so far (tests: several writes committed as one group).</summary>
    internal long Commits => Interlocked.Read(ref _commits);

    /// <summary>Writes queued and not yet taken into a group (tests).</summary>
    internal int Queued
    {
        get { lock (_queue) return _queue.Count; }
    }

    public Task<T> WriteAsync<T>(Func<IResourceStore, T> work, CancellationToken ct) => WriteAsync(new PendingWrite<T>(work, synced: true), ct);

    public Task<T> WriteWithoutSyncAsync<T>(Func<IResourceStore, T> work, CancellationToken ct) => WriteAsync(new PendingWrite<T>(work, synced: false), ct);

    private async Task<T> WriteAsync<T>(PendingWrite<T> write, CancellationToken ct)
    {
        lock (_queue) _queue.Enqueue(write);
        try
        {
            // Each holder of the gate runs one group and lets the next waiter in; a write is usually run by an
            // earlier waiter's group, and this loop only ends once it has been (its group completes it before the
            // gate is released, so a write is either done or still queued whenever the gate is free).
            while (!write.Completion.Task.IsCompleted)
            {
                using var _ = await gate.EnterAsync(ct).ConfigureAwait(false);
                if (!write.Completion.Task.IsCompleted) RunGroup();
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Cancelled while waiting for the gate: withdraw the write unless a group has taken it; once taken, it runs
            // (and may commit), so its outcome is the answer.
            if (TryWithdraw(write)) throw;
        }
        return await write.Completion.Task.ConfigureAwait(false);
    }

    private bool TryWithdraw(PendingWrite write)
    {
        lock (_queue)
        {
            if (!_queue.Contains(write)) return false;
            var rest = _queue.Where(w => w != write).ToList();
            _queue.Clear();
            foreach (var w in rest) _queue.Enqueue(w);
            return true;
        }
    }

    /// <summary>Takes the queued writes (up to <see cref="MaxGroup"/>) and commits them as one group (the caller holds the gate).</summary>
    private void RunGroup()
    {
        var group = new List<PendingWrite>();
        if (TakeQueued(group)) RunGroup(group);
    }

    /// <summary>
    /// Moves queued writes into <paramref name="group"/> until it holds <see cref="MaxGroup"/>, in queue order; whether any
    /// came. A write without sync is a group alone: it is taken only into an empty group, and ends it.
    /// </summary>
    private bool TakeQueued(List<PendingWrite> group)
    {
        var taken = false;
        lock (_queue)
            while (group.Count < MaxGroup && _queue.TryPeek(out var w))
            {
                if (group.Count > 0 && (!w.Synced || !group[0].Synced)) break;
                group.Add(_queue.Dequeue());
                taken = true;
            }
        return taken;
    }

    private void RunGroup(List<PendingWrite> group)
    {
        Exception? groupFailure = null;
        var run = group;
        try
        {
            while (run.Count > 0)
            {
                using var connection = database.OpenWriter();
                // The level is set outside a transaction (SQLite refuses to change it inside one), and set back before the
                // connection goes back to the pool.
                using var level = group[0].Synced ? null : new Synchronous(connection, "NORMAL", "FULL");
                // Disposed in every case, so the pooled connection never goes back with a transaction open (a failed
                // COMMIT leaves it open); Dispose rolls back what was not committed, and copes with a transaction
                // SQLite itself already ended (e.g. on an I/O error).
                using var tx = connection.BeginTransaction();
                var store = new ResourceStore(connection, tx);
                PendingWrite? failed = null;
                for (var i = 0; ; i++)
                {
                    // Writes queued while the group ran join it before its COMMIT (first run only, up to MaxGroup): they
                    // would otherwise wait for this commit and then make their own.
                    if (i == run.Count && !(ReferenceEquals(run, group) && TakeQueued(group))) break;
                    var write = run[i];
                    try
                    {
                        write.Run(store);
                    }
                    catch (Exception e)
                    {
                        write.Failed = e;
                        failed = write;
                        break;
                    }
                }
                if (failed is null)
                {
                    tx.Commit();
                    _checkpoints.Wrote(store.Writes);
                    Interlocked.Increment(ref _commits);
                    break;
                }
                // Leaving this iteration disposes tx, which rolls the group's work back. The writes before the failed
                // one then run again, in the same order on the same state; the failed one is answered with its error
                // and nothing of it remains.
                run = [.. run.Where(w => w != failed && w.Failed is null)];
            }
        }
        catch (Exception e)
        {
            groupFailure = e;
        }
        // Completed only now: every write that reports success is committed (synchronous=FULL: on disk).
        foreach (var write in group) write.Complete(groupFailure);
    }

    /// <summary>
    /// The writer connection does not checkpoint (wal_autocheckpoint=0, <see cref="FhirDatabase.OpenWriter"/>): every
    /// 256 written versions (a few pages each) a checkpoint runs on another thread, so the next group need not wait for
    /// the copy and its fsync. (The WAL starts over from its beginning at the first commit after a checkpoint that
    /// copied all of it; a large log is made to, <see cref="WalCheckpoints.Checkpoint"/>.) Counted under the gate.
    /// </summary>
    private readonly WalCheckpoints _checkpoints = new(256, () => database.Checkpoint(gate));

    public long NextTicks() => gate.NextTicks();

    /// <summary>A local file has no connection to lose; its errors are bugs or full disks, not outages.</summary>
    public bool IsUnavailable(Exception e) => false;

    /// <summary>PRAGMA synchronous set for a while: <paramref name="level"/> now, <paramref name="restore"/> on Dispose.</summary>
    private sealed class Synchronous : IDisposable
    {
        private readonly SqliteConnection _connection;
        private readonly string _restore;

        public Synchronous(SqliteConnection connection, string level, string restore)
        {
            (_connection, _restore) = (connection, restore);
            Set(level);
        }

        // After the transaction (declared later, so disposed first). A connection whose level could not be set back is
        // closed, so the pool drops it rather than keeping it for the synchronous writes.
        public void Dispose()
        {
            try
            {
                Set(_restore);
            }
            catch
            {
                _connection.Close();
                throw;
            }
        }

        private void Set(string level)
        {
            using var command = _connection.CreateCommand();
            command.CommandText = "PRAGMA synchronous=" + level + ";";
            command.ExecuteNonQuery();
        }
    }

    private abstract class PendingWrite(bool synced)
    {
        /// <summary>Committed with synchronous=FULL (every write but <see cref="WriteWithoutSyncAsync{T}"/>'s).</summary>
        public bool Synced => synced;

        /// <summary>The exception of this write alone (its savepoint was rolled back).</summary>
        public Exception? Failed { get; set; }

        public abstract void Run(IResourceStore store);

        public abstract void Complete(Exception? groupFailure);
    }

    private sealed class PendingWrite<T>(Func<IResourceStore, T> work, bool synced) : PendingWrite(synced)
    {
        private T? _result;

        // Asynchronous continuations: the caller's request must not run on (and hold up) the thread committing groups.
        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override void Run(IResourceStore store) => _result = work(store);

        public override void Complete(Exception? groupFailure)
        {
            var e = Failed ?? groupFailure;
            if (e is not null) Completion.TrySetException(e);
            else Completion.TrySetResult(_result!);
        }
    }
}
