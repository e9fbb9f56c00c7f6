using Ignis.Fhir.Engine;
using Ignis.Fhir.Storage;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Ignis.Fhir.Tests.Storage;

/// <summary>
/// The WAL under a continuous write load (<see cref="WalCheckpoints.Checkpoint"/>): a writer that commits back to back
/// through the write gate, as the FHIR store's and the token writer do, with checkpoints on a pool thread every few
/// commits. Passive checkpoints alone never copy the whole log while commits keep coming, so it never starts over.
/// </summary>
public sealed class WalRestartTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("ignis-wal-").FullName;

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, true); } catch (IOException) { }
    }

    [Fact]
    public void A_large_log_starts_over_under_back_to_back_commits_and_the_file_is_cut_back()
    {
        var (sizes, final, rows) = Load(restartFrames: 256); // 1 MiB of 4 KiB pages
        // Most of the time the log is small: it starts over every few hundred frames and the file is cut back to
        // journal_size_limit. (Not its largest size: a checkpoint that waits for a disk busy with other tests lets the
        // log grow for a while, and it is cut back after.)
        sizes.Count(s => s <= 4L << 20).ShouldBeGreaterThan(sizes.Count / 2, string.Join(' ', sizes));
        final.ShouldBeLessThanOrEqualTo(2L << 20); // journal_size_limit
        rows.ShouldBe(Commits * RowsPerCommit);
    }

    [Fact]
    public void Without_restarts_the_same_load_grows_the_log_past_every_page_it_wrote()
    {
        // What the test above guards against: passive checkpoints only.
        var (sizes, _, _) = Load(restartFrames: int.MaxValue);
        sizes.Max().ShouldBeGreaterThan(24L << 20);
        sizes.Count(s => s <= 4L << 20).ShouldBeLessThan(sizes.Count / 4, string.Join(' ', sizes));
    }

    private const int Commits = 4_000, RowsPerCommit = 3;

    private (List<long> Sizes, long Final, long Rows) Load(int restartFrames)
    {
        var path = Path.Combine(_dir, restartFrames + ".db");
        var connectionString = "Data Source=" + path + ";Pooling=False";
        var gate = new WriteGate();
        using var writer = new SqliteConnection(connectionString);
        writer.Open();
        Execute(writer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA wal_autocheckpoint=0; " +
            $"PRAGMA journal_size_limit={2 << 20}; CREATE TABLE t (id INTEGER PRIMARY KEY, v BLOB NOT NULL); CREATE INDEX t_v ON t (v);");
        // Checkpoints on a thread of their own, back to back (the servers' come from the pool every few commits; a pool
        // kept busy by other tests ran them too late for this test to see anything).
        using var stop = new CancellationTokenSource();
        var checkpointer = new Thread(() =>
        {
            using var connection = new SqliteConnection(connectionString);
            connection.Open();
            Execute(connection, "PRAGMA busy_timeout=30000;");
            while (!stop.IsCancellationRequested)
            {
                WalCheckpoints.Checkpoint(connection, gate, restartFrames);
                Thread.Sleep(1);
            }
            // Done: the log starts over whatever its size (the writer's next commit cuts the file back).
            if (restartFrames < int.MaxValue) WalCheckpoints.Checkpoint(connection, gate, restartFrames: 0);
        }) { IsBackground = true };
        checkpointer.Start();
        var wal = path + "-wal";
        var sizes = new List<long>();
        long id = 0;
        using var insert = writer.CreateCommand();
        insert.CommandText = "INSERT INTO t (id, v) VALUES ($id, randomblob(1500))";
        var parameter = insert.Parameters.Add("$id", SqliteType.Integer);
        for (var c = 0; c < Commits; c++)
        {
            using (gate.EnterAsync(CancellationToken.None).GetAwaiter().GetResult()) // as the token writer does
            {
                using var transaction = writer.BeginTransaction();
                insert.Transaction = transaction;
                for (var r = 0; r < RowsPerCommit; r++)
                {
                    parameter.Value = ++id;
                    insert.ExecuteNonQuery();
                }
                transaction.Commit();
            }
            if (c % 50 == 49) sizes.Add(new FileInfo(wal).Length);
        }
        // Once the last checkpoint is done, one more commit (the first after a restart cuts the file back).
        stop.Cancel();
        checkpointer.Join();
        using (gate.EnterAsync(CancellationToken.None).GetAwaiter().GetResult()) Execute(writer, "INSERT INTO t (id, v) VALUES (-1, x'00'); DELETE FROM t WHERE id = -1;");
        using var count = writer.CreateCommand();
        count.CommandText = "SELECT count(*) FROM t";
        return (sizes, new FileInfo(wal).Length, (long)count.ExecuteScalar()!);
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
