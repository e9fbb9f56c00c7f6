using System.Data.Common;
using System.Threading.Channels;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Storage;
using Ignis.Server.Data;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Auth.ClientAuthentication;

/// <summary>A write the database refused (a constraint: e.g. the token's client was deleted meanwhile).</summary>
public sealed class AuthWriteRefusedException(Exception inner) : Exception("The database refused the row: " + inner.Message, inner);

/// <summary>
/// A statement of a request's token writes (<see cref="AuthWriteBatcher.WriteStatementsAsync"/>); its parameters are
/// bound when it runs. <paramref name="MustChangeOneRow"/>: the request fails unless it changes exactly one row
/// (an update checked against the concurrency token read).
/// </summary>
public sealed record BatchedStatement(string Sql, Action<DbCommand> Bind, bool MustChangeOneRow);

/// <summary>An access-token row as OpenIddict's EF Core store keeps it (table OpenIddictTokens).</summary>
public sealed record TokenRow(string Id, string? ApplicationId, string? Subject, string Type, DateTime CreationDate, DateTime ExpirationDate);

/// <summary>
/// Group commit for the writes of a backend-services token request: the client assertion's jti and the access
/// token's row, in one transaction. SQLite has one write lock: request threads that each commit their own rows
/// queue for it (and, finding it taken, sleep in busy_timeout steps of 1-100 ms), and each commit pays its own
/// WAL append (with synchronous=FULL a disk flush, ~2 ms here). Concurrent requests instead hand their rows to
/// one writer thread, which commits whatever has queued up in one transaction and then answers each request,
/// only after its rows are committed. Rows are written with the same statements on every node and on both
/// providers; the primary keys arbitrate.
/// <para>
/// On SQLite the token rows of code exchanges and refreshes come here too (<see cref="WriteStatementsAsync"/>, from
/// <see cref="TokenStore"/>): each request's statements (the redemption of its code or refresh token, checked
/// against the row's concurrency token, and its new token rows) run in the group's transaction; a request whose
/// check fails or whose rows the database refuses leaves nothing and fails alone (docs/benchmarks.md, "Issue 3").
/// On SQLite the writer also takes the FHIR store's in-process <see cref="WriteGate"/> (the same file) around each
/// transaction: a writer that finds SQLite's write lock taken sleeps in busy_timeout steps of 1 to 100 ms, and the
/// FHIR store's commits (the security log's AuditEvents every ~100 ms, with an fsync) held up every token request
/// for that long; waiting on the gate, the writer starts the moment the other commit ends.
/// </para>
/// </summary>
public sealed partial class AuthWriteBatcher(AuthDatabase database, WriteGate gate, IOptions<AuthOptions> options, ILogger<AuthWriteBatcher> logger)
    : IHostedService, IDisposable
{
    private const int MaxBatch = 512;

    private readonly TimeSpan _delay = options.Value.GroupCommitDelay;

    /// <summary>Token requests under way that have not queued their writes yet (<see cref="Expect"/>).</summary>
    private int _expected;

    private static readonly AsyncLocal<Expectation?> CurrentExpectation = new();

    /// <summary>Commits so far (tests: which writes shared a transaction).</summary>
    internal long Groups => Interlocked.Read(ref _groups);
    private long _groups;
    private long _writes; // the writer thread's

    private const string UpsertJti =
        "INSERT INTO \"AuthClientAssertionJtis\" (\"Key\", \"ExpiresAt\") VALUES (@key, @expires) " +
        "ON CONFLICT (\"Key\") DO UPDATE SET \"ExpiresAt\" = excluded.\"ExpiresAt\" WHERE \"AuthClientAssertionJtis\".\"ExpiresAt\" <= @now " +
        "RETURNING 1";

    private const string InsertToken =
        "INSERT INTO \"OpenIddictTokens\" (\"Id\", \"ApplicationId\", \"ConcurrencyToken\", \"CreationDate\", \"ExpirationDate\", \"Status\", \"Subject\", \"Type\") " +
        "VALUES (@id, @application, @concurrency, @created, @expires, 'valid', @subject, @type)";

    /// <summary>
    /// The writer connection's commands for batched statements, by SQL text, kept prepared for the connection's life
    /// (preparing a statement, i.e. parsing and planning it, cost more than running it). Writer thread only.
    /// </summary>
    private readonly Dictionary<string, DbCommand> _prepared = new(StringComparer.Ordinal);

    private readonly Channel<Work> _queue = Channel.CreateUnbounded<Work>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>
    /// Wakes the writer thread when work is queued: a plain kernel wait. Waiting on the channel's task spun first
    /// (sched_yield), and on a busy two-core machine a yielded writer got its core back only milliseconds later while
    /// token requests queued behind it (perf trace: ~90 yields/s, 4 ms each).
    /// </summary>
    private readonly AutoResetEvent _wake = new(false);
    private Thread? _thread;

    private abstract record Work
    {
        public TaskCompletionSource<bool> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>When it was queued (<see cref="System.Diagnostics.Stopwatch"/> ticks).</summary>
        public long Queued { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
    }

    private sealed record UseJti(string Key, long ExpiresAt, long Now) : Work;

    private sealed record AddToken(TokenRow Row) : Work;

    private sealed record UseJtiAndAddToken(UseJti Jti, TokenRow Row) : Work;

    private sealed record Statements(IReadOnlyList<BatchedStatement> List) : Work;

    /// <summary>Records an assertion id; false when a live assertion already used it.</summary>
    public Task<bool> TryUseJtiAsync(string key, long expiresAt, long now) => Enqueue(new UseJti(key, expiresAt, now));

    /// <summary>Inserts an access-token row; completes once it is committed.</summary>
    public Task InsertTokenAsync(TokenRow row) => Enqueue(new AddToken(row));

    /// <summary>
    /// Records an assertion id and, only when it was not used yet, inserts the token row, in one transaction;
    /// false (and no row) when a live assertion already used the id.
    /// </summary>
    public Task<bool> TryUseJtiAndInsertTokenAsync(string key, long expiresAt, long now, TokenRow row) =>
        Enqueue(new UseJtiAndAddToken(new UseJti(key, expiresAt, now), row));

    /// <summary>
    /// SQLite only: runs the statements in order in the next group transaction; true once committed. False, with
    /// nothing of them written, when a statement marked <see cref="BatchedStatement.MustChangeOneRow"/> changed no row
    /// (a code or refresh token redeemed by another request since it was read); <see cref="AuthWriteRefusedException"/>,
    /// with nothing written, when the database refused one of them (a constraint). Either way the other requests of
    /// the group are committed as if this one had not been there.
    /// </summary>
    public Task<bool> WriteStatementsAsync(IReadOnlyList<BatchedStatement> statements)
    {
        if (database.IsPostgres) throw new InvalidOperationException("Batched token statements are written on SQLite only.");
        return Enqueue(new Statements(statements));
    }

    private Task<bool> Enqueue(Work work)
    {
        // Arrived before the writer can see the work: a writer that took it while its request still counted as under
        // way would hold the group for the delay waiting for that very request.
        CurrentExpectation.Value?.Arrive();
        if (!_queue.Writer.TryWrite(work)) throw new InvalidOperationException("The server is stopping.");
        _wake.Set();
        return work.Done.Task;
    }

    /// <summary>
    /// Announces a token request that is about to be processed and will probably queue writes. While any announced
    /// request has neither queued them nor ended (the returned handle disposed), a group that is ready to commit first
    /// waits <see cref="AuthOptions.GroupCommitDelay"/> for more (PostgreSQL's commit_delay with commit_siblings = 1).
    /// Each commit rewrites the last page of every table and index it appends to, and a writer that commits as soon as
    /// it has anything committed two or three requests per group under load, ~15 pages of WAL per token; waiting a
    /// millisecond or two for the requests under way shares those pages. A request alone is never held. Call on the
    /// request's own flow (an async local carries the handle to <see cref="Enqueue"/>).
    /// </summary>
    public IDisposable Expect()
    {
        if (_delay <= TimeSpan.Zero) return Expectation.None;
        var expectation = new Expectation(this);
        Interlocked.Increment(ref _expected);
        CurrentExpectation.Value = expectation;
        return expectation;
    }

    private sealed class Expectation(AuthWriteBatcher? writer) : IDisposable
    {
        public static readonly Expectation None = new(null);
        private int _arrived;

        public void Arrive()
        {
            if (writer is not null && Interlocked.Exchange(ref _arrived, 1) == 0) Interlocked.Decrement(ref writer._expected);
        }

        public void Dispose() => Arrive();
    }

    /// <summary>
    /// Before committing a group: when other token requests are under way, sleep until its oldest write has waited
    /// <see cref="AuthOptions.GroupCommitDelay"/>, and take whatever has been queued meanwhile. A sleep of its own rather
    /// than waking at each arrival: a writer woken whenever the requests it waited for had all arrived committed groups
    /// barely larger, and the wake-ups cost more CPU than the commits they saved (docs/benchmarks.md, issue 4, session 7).
    /// </summary>
    private void WaitForExpected(List<Work> batch, ChannelReader<Work> reader)
    {
        if (_delay <= TimeSpan.Zero || Volatile.Read(ref _expected) <= 0) return;
        // Counted from the oldest write's arrival: writes that queued while the last group was committing (or waiting for
        // the write lock) have waited already, and a full delay on top held every request of the group for it again
        // (under the backend-services load a cycle took ~5.5 ms for a 2 ms delay; docs/benchmarks.md, session 9).
        var rest = _delay - System.Diagnostics.Stopwatch.GetElapsedTime(batch[0].Queued);
        if (rest < TimeSpan.FromMilliseconds(1)) return; // Thread.Sleep's unit
        Thread.Sleep(rest);
        while (batch.Count < MaxBatch && reader.TryRead(out var work)) batch.Add(work);
    }

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Writes block (SQLite), so they get a thread of their own rather than a pool thread.
        _thread = new Thread(Run) { IsBackground = true, Name = "ignis-auth-writer" };
        _thread.Start();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _queue.Writer.TryComplete();
        _wake.Set();
        _thread?.Join(TimeSpan.FromSeconds(10));
        if (Groups > 0) LogGroups(logger, _writes, Groups);
        return Task.CompletedTask;
    }

    private void Run()
    {
        var batch = new List<Work>(MaxBatch);
        DbConnection? connection = null;
        var reader = _queue.Reader;
        while (true)
        {
            batch.Clear();
            while (batch.Count < MaxBatch && reader.TryRead(out var work)) batch.Add(work);
            if (batch.Count == 0)
            {
                if (reader.Completion.IsCompleted) break;
                _wake.WaitOne();
                continue;
            }
            WaitForExpected(batch, reader);
            try
            {
                connection ??= OpenWriter();
                var results = new bool[batch.Count];
                Exception?[] errors;
                if (database.IsPostgres) errors = Commit(connection, batch, results);
                else
                {
                    using (gate.EnterAsync(CancellationToken.None).GetAwaiter().GetResult())
                        errors = Commit(connection, batch, results);
                    _checkpoints.Wrote(batch.Count);
                }
                Interlocked.Increment(ref _groups);
                _writes += batch.Count;
                for (var i = 0; i < batch.Count; i++)
                {
                    if (errors[i] is { } error) batch[i].Done.TrySetException(new AuthWriteRefusedException(error));
                    else batch[i].Done.TrySetResult(results[i]);
                }
            }
            catch (Exception e)
            {
                LogBatchFailed(logger, batch.Count, e);
                foreach (var work in batch) work.Done.TrySetException(e);
                DisposePrepared();
                connection?.Dispose();
                connection = null;
            }
        }
        DisposePrepared();
        connection?.Dispose();
    }

    /// <summary>
    /// The writer connection. On SQLite it does not checkpoint inside COMMIT (wal_autocheckpoint=0): copying the WAL
    /// into the database file and its fsync (~8 ms here, every ~140 token requests) held up every request queued behind
    /// the writer; <see cref="_checkpoints"/> runs them on another thread, as the FHIR store does for its writes.
    /// </summary>
    private DbConnection OpenWriter()
    {
        var connection = database.Open();
        if (database.IsPostgres) return connection;
        using var pragma = connection.CreateCommand();
        pragma.CommandText = "PRAGMA wal_autocheckpoint=0; PRAGMA journal_size_limit=" + WalCheckpoints.KeptWalBytes + ";";
        pragma.ExecuteNonQuery();
        return connection;
    }

    /// <summary>
    /// A checkpoint on a connection of its own, on a pool thread, every 128 requests (passive; a large log is also made
    /// to start over, <see cref="WalCheckpoints.Checkpoint"/>).
    /// </summary>
    private readonly WalCheckpoints _checkpoints = new(128, () => Checkpoint(database, gate, logger));

    private static void Checkpoint(AuthDatabase database, WriteGate gate, ILogger logger)
    {
        try
        {
            using var connection = database.Open();
            WalCheckpoints.Checkpoint(connection, gate);
        }
        catch (DbException e)
        {
            // Left to the next checkpoint (a full disk shows up on the next write anyway).
            LogCheckpointFailed(logger, e);
        }
    }

    private void DisposePrepared()
    {
        foreach (var command in _prepared.Values) command.Dispose();
        _prepared.Clear();
    }

    /// <summary>
    /// One transaction for the batch. On SQLite a statement that fails (a constraint) fails only its own request:
    /// SQLite rolls back that statement and the transaction goes on. PostgreSQL aborts the whole transaction
    /// instead: the batch is then rolled back and committed again one request at a time.
    /// </summary>
    private Exception?[] Commit(DbConnection connection, List<Work> batch, bool[] results)
    {
        if (!database.IsPostgres) return CommitTogether(connection, batch, results, statementsFailAlone: true, _prepared);
        try
        {
            return CommitTogether(connection, batch, results, statementsFailAlone: false, _prepared);
        }
        catch (DbException e) when (AuthDatabase.IsConstraintViolation(e) && batch.Count > 1)
        {
        }
        var errors = new Exception?[batch.Count];
        var one = new bool[1];
        for (var i = 0; i < batch.Count; i++)
        {
            try
            {
                CommitTogether(connection, [batch[i]], one, statementsFailAlone: false, _prepared);
                results[i] = one[0];
            }
            catch (DbException e) when (AuthDatabase.IsConstraintViolation(e))
            {
                errors[i] = e;
            }
        }
        return errors;
    }

    /// <summary>
    /// The batch in one transaction. A request whose statements fail (a refused check or constraint) before any of
    /// them changed a row simply leaves nothing (SQLite undoes the failing statement alone); one that fails after
    /// some of its statements wrote rows makes the transaction roll back, and the batch runs again without it, in the
    /// same order (the requests before it see the same state again, so they get the same results). Such failures
    /// only happen when two requests race for one code or refresh token, so the common case runs once.
    /// </summary>
    private static Exception?[] CommitTogether(
        DbConnection connection, List<Work> batch, bool[] results, bool statementsFailAlone, Dictionary<string, DbCommand> commands)
    {
        var errors = new Exception?[batch.Count];
        var failed = new bool[batch.Count];
        while (true)
        {
            using var transaction = connection.BeginTransaction();
            // Kept with the connection's other prepared commands: compiling the two statements for every group cost the
            // writer more than running them for a small group (docs/benchmarks.md, issue 4, session 6).
            var jti = Prepared(commands, connection, transaction, UpsertJti, "@key", "@expires", "@now");
            var token = Prepared(commands, connection, transaction, InsertToken, "@id", "@application", "@concurrency", "@created", "@expires", "@subject", "@type");
            var again = false;
            for (var i = 0; i < batch.Count && !again; i++)
            {
                if (failed[i]) continue;
                if (batch[i] is Statements statements)
                {
                    var (ok, wrote, error) = Run(statements, connection, transaction, commands);
                    results[i] = ok;
                    errors[i] = error;
                    if (ok) continue;
                    failed[i] = true;
                    again = wrote;
                    continue;
                }
                errors[i] = null; // a run before a rollback may have set it
                try
                {
                    results[i] = Execute(batch[i], jti, token);
                }
                catch (DbException e) when (statementsFailAlone && AuthDatabase.IsConstraintViolation(e))
                {
                    errors[i] = e;
                }
            }
            if (again)
            {
                transaction.Rollback();
                continue;
            }
            transaction.Commit();
            return errors;
        }
    }

    /// <summary>One request's statements: whether all passed, whether any changed a row, and the constraint error if one was refused.</summary>
    private static (bool Ok, bool Wrote, Exception? Error) Run(
        Statements work, DbConnection connection, DbTransaction transaction, Dictionary<string, DbCommand> commands)
    {
        var wrote = false;
        foreach (var statement in work.List)
        {
            if (!commands.TryGetValue(statement.Sql, out var command))
            {
                command = connection.CreateCommand();
                command.CommandText = statement.Sql;
                commands.Add(statement.Sql, command);
            }
            command.Transaction = transaction;
            command.Parameters.Clear();
            statement.Bind(command);
            int changed;
            try
            {
                changed = command.ExecuteNonQuery();
            }
            catch (DbException e) when (AuthDatabase.IsConstraintViolation(e))
            {
                return (false, wrote, e);
            }
            if (statement.MustChangeOneRow && changed != 1) return (false, wrote, null);
            wrote |= changed > 0;
        }
        return (true, wrote, null);
    }

    private static bool Execute(Work work, DbCommand jti, DbCommand token)
    {
        switch (work)
        {
            case UseJti use:
                jti.Parameters[0].Value = use.Key;
                jti.Parameters[1].Value = use.ExpiresAt;
                jti.Parameters[2].Value = use.Now;
                return jti.ExecuteScalar() is not null;
            case UseJtiAndAddToken both:
                return Execute(both.Jti, jti, token) && Execute(new AddToken(both.Row), jti, token);
            case AddToken add:
                var row = add.Row;
                token.Parameters[0].Value = row.Id;
                token.Parameters[1].Value = (object?)row.ApplicationId ?? DBNull.Value;
                token.Parameters[2].Value = Guid.NewGuid().ToString();
                token.Parameters[3].Value = row.CreationDate;
                token.Parameters[4].Value = row.ExpirationDate;
                token.Parameters[5].Value = (object?)row.Subject ?? DBNull.Value;
                token.Parameters[6].Value = row.Type;
                token.ExecuteNonQuery();
                return true;
            default:
                throw new InvalidOperationException("Unknown write " + work.GetType().Name);
        }
    }

    /// <summary>The command for <paramref name="sql"/> with its parameters, created once per writer connection, in <paramref name="transaction"/>.</summary>
    private static DbCommand Prepared(Dictionary<string, DbCommand> commands, DbConnection connection, DbTransaction transaction, string sql, params string[] names)
    {
        // Keyed apart from the batched statements' commands, whose parameters are bound by name per statement.
        var key = "\0own:" + sql;
        if (!commands.TryGetValue(key, out var command))
        {
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var name in names)
            {
                var p = command.CreateParameter();
                p.ParameterName = name;
                command.Parameters.Add(p);
            }
            commands.Add(key, command);
        }
        command.Transaction = transaction;
        return command;
    }

    public void Dispose()
    {
        _queue.Writer.TryComplete();
        _wake.Set();
    }

    [LoggerMessage(EventId = 3322, Level = LogLevel.Information, Message = "Token writer: {Writes} token requests' writes committed in {Groups} transactions since start")]
    private static partial void LogGroups(ILogger logger, long writes, long groups);

    [LoggerMessage(EventId = 3321, Level = LogLevel.Warning, Message = "Checkpointing the auth writer's WAL failed")]
    private static partial void LogCheckpointFailed(ILogger logger, Exception exception);

    [LoggerMessage(EventId = 3320, Level = LogLevel.Error, Message = "Writing {Count} token and assertion rows failed")]
    private static partial void LogBatchFailed(ILogger logger, int count, Exception exception);
}
