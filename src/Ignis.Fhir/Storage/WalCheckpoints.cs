namespace Ignis.Fhir.Storage;

/// <summary>
/// Passive WAL checkpoints on a pool thread, for a SQLite writer whose connection does not checkpoint inside COMMIT
/// (wal_autocheckpoint=0): copying the WAL into the database file and its fsync are then not serial time of the
/// writer. One checkpoint per <c>every</c> units written (about as often as SQLite's own 1,000 pages would be: a
/// checkpoint per commit would copy the pages that consecutive commits both dirty once per commit); requests made
/// while one runs are merged into one more after it. The checkpoint neither blocks the writer nor readers.
/// </summary>
public sealed class WalCheckpoints(int every, Action checkpoint)
{
    private int _since; // the writer's only
    private int _requested;
    private int _running;

    /// <summary>Called by the writer after a commit that wrote <paramref name="count"/> units.</summary>
    public void Wrote(int count)
    {
        _since += count;
        if (_since < every) return;
        _since = 0;
        Volatile.Write(ref _requested, 1);
        if (Interlocked.CompareExchange(ref _running, 1, 0) == 0)
            ThreadPool.UnsafeQueueUserWorkItem(_ => Run(), null);
    }

    private void Run()
    {
        while (true)
        {
            while (Interlocked.Exchange(ref _requested, 0) == 1) checkpoint();
            Volatile.Write(ref _running, 0);
            // A request that came after the last look and before the flag was cleared found the checkpointer running.
            if (Volatile.Read(ref _requested) == 0 || Interlocked.CompareExchange(ref _running, 1, 0) != 0) return;
        }
    }
}
