using System.Collections.Concurrent;
using System.Data.Common;
using Ignis.Server.Data;

namespace Ignis.Server.Auth;

/// <summary>
/// The reads every code exchange and refresh makes on SQLite (its code or refresh token by reference id, its grant, its
/// user), on kept connections whose statements stay prepared (docs/benchmarks.md, "Issue 3"). Microsoft.Data.Sqlite
/// keeps a statement prepared only for the life of its command, so each of those reads on the request's own
/// connection parsed and planned its statement again, which cost more than running it; and the request's connection
/// was taken from the pool with its pragmas run every time.
/// <para>
/// A read here is what a read on a fresh connection would be: each statement runs outside any transaction, so SQLite
/// starts a read transaction for it on the latest commit (WAL) and ends it when the statement is reset, before the
/// connection goes back to the pool. A revocation, a redeemed code or a disabled user committed by any connection
/// before the read started is seen. Nothing is cached but the compiled statements.
/// </para>
/// <para>
/// A read that must see a request's own uncommitted writes (its DbContext has a transaction open) stays on that
/// context's connection; so do all reads on PostgreSQL, whose connections come from Npgsql's pool.
/// </para>
/// </summary>
public sealed class PreparedReads(AuthDatabase database) : IDisposable
{
    /// <summary>Connections kept at most (about the number of requests reading at once; more are opened and closed).</summary>
    private const int MaxKept = 16;

    private readonly ConcurrentBag<Reader> _kept = [];
    private bool _disposed;

    /// <summary>Whether reads go through kept connections (SQLite).</summary>
    public bool Enabled => !database.IsPostgres;

    /// <summary>The first row of <paramref name="sql"/> (one parameter, <paramref name="name"/>), mapped; null when there is none.</summary>
    public T? ReadOne<T>(string sql, string name, object value, Func<DbDataReader, T> map) where T : class
    {
        if (!_kept.TryTake(out var reader)) reader = new Reader(database.Open());
        var healthy = false;
        try
        {
            var result = reader.ReadOne(sql, name, value, map);
            healthy = true;
            return result;
        }
        finally
        {
            if (healthy && !_disposed && _kept.Count < MaxKept) _kept.Add(reader);
            else reader.Dispose();
        }
    }

    /// <summary>The statements prepared on this server's kept connections (tests).</summary>
    internal int PreparedStatements => _kept.Sum(r => r.Prepared);

    public void Dispose()
    {
        _disposed = true;
        while (_kept.TryTake(out var reader)) reader.Dispose();
    }

    /// <summary>One connection and the commands prepared on it, used by one request at a time.</summary>
    private sealed class Reader(DbConnection connection) : IDisposable
    {
        private readonly Dictionary<string, (DbCommand Command, DbParameter Key)> _commands = new(StringComparer.Ordinal);

        public int Prepared => _commands.Count;

        public T? ReadOne<T>(string sql, string name, object value, Func<DbDataReader, T> map) where T : class
        {
            if (!_commands.TryGetValue(sql, out var entry))
            {
                var command = connection.CreateCommand();
                command.CommandText = sql;
                var key = command.CreateParameter();
                key.ParameterName = name;
                command.Parameters.Add(key);
                entry = (command, key);
                _commands.Add(sql, entry);
            }
            entry.Key.Value = value;
            // Disposing the reader resets the statement: its read transaction ends here, not when the connection is next used.
            using var rows = entry.Command.ExecuteReader();
            return rows.Read() ? map(rows) : null;
        }

        public void Dispose()
        {
            foreach (var (command, _) in _commands.Values) command.Dispose();
            _commands.Clear();
            connection.Dispose();
        }
    }
}
