using System.Data.Common;
using Ignis.Fhir.Engine;

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
    /// <summary>WAL frames past which a checkpoint also makes the log start over (64 MiB of 4 KiB pages).</summary>
    public const int RestartFrames = 16_384;

    /// <summary>The size a writer connection truncates the WAL file back to when the log starts over (journal_size_limit).</summary>
    public const long KeptWalBytes = 64L << 20;

    /// <summary>
    /// A checkpoint on <paramref name="connection"/> (a connection of its own, not a writer's): a passive one, and when
    /// the log holds more than <paramref name="restartFrames"/> frames a second one that makes it start over. The log
    /// starts over at the first commit after a checkpoint that copied all of it, but a passive checkpoint running beside
    /// writers never gets there: the frames committed while it copies are left for the next, and under a continuous write
    /// load the WAL grew without bound (3.5 GB after a minute of backend-services token requests, which also made every
    /// commit append to a new part of the file). The second checkpoint holds the write <paramref name="gate"/>, so no
    /// commit comes in between and it copies only the frames left, in RESTART mode, which also waits for readers still
    /// on older frames (briefly: a reader that takes longer leaves it for the next checkpoint). The writers wait on the
    /// gate meanwhile, not in SQLite's busy_timeout sleeps.
    /// </summary>
    public static void Checkpoint(DbConnection connection, WriteGate gate, int restartFrames = RestartFrames)
    {
        if (Run(connection, "PASSIVE") < restartFrames) return;
        // Asynchronously, though this thread then blocks: the gate hands itself to the first asynchronous waiter when it
        // is released, whereas a blocked waiter is only woken, and a writer that enters again at once took the gate back
        // before it ran (the checkpoint waited out hundreds of commits).
        using (gate.EnterAsync(CancellationToken.None).GetAwaiter().GetResult())
        {
            var busyTimeout = Scalar(connection, "PRAGMA busy_timeout;");
            Execute(connection, "PRAGMA busy_timeout=200;");
            try
            {
                Run(connection, "RESTART");
            }
            finally
            {
                Execute(connection, "PRAGMA busy_timeout=" + busyTimeout + ";");
            }
        }
    }

    /// <summary>A checkpoint in <paramref name="mode"/>: the frames in the log (SQLite's second result column).</summary>
    private static long Run(DbConnection connection, string mode)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA wal_checkpoint(" + mode + ");";
        using var reader = command.ExecuteReader();
        return reader.Read() ? reader.GetInt64(1) : 0;
    }

    private static long Scalar(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static void Execute(DbConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

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
