using Microsoft.Data.Sqlite;

namespace Ignis.Fhir.Storage;

/// <summary>
/// A connection owned by <see cref="FhirDatabase"/>'s pool: Dispose hands it back open, with its pragmas and
/// prepared statements, instead of closing it. Statement preparation and the pragmas cost more than a
/// point read, so the hot paths reuse both.
/// </summary>
public sealed class PooledSqliteConnection : SqliteConnection
{
    private readonly FhirDatabase _owner;
    private readonly Dictionary<string, SqliteCommand> _prepared = new(StringComparer.Ordinal);
    private readonly Dictionary<string, RawStatement> _raw = new(StringComparer.Ordinal);
    private bool _closing;

    /// <summary>A connection of the writers' pool (larger page cache).</summary>
    internal bool IsWriter { get; set; }

    internal PooledSqliteConnection(string connectionString, FhirDatabase owner) : base(connectionString) => _owner = owner;

    /// <summary>
    /// A command for <paramref name="sql"/> prepared once per connection. The caller sets the transaction and the
    /// parameter values on every use and must not dispose it.
    /// </summary>
    public SqliteCommand Prepared(string sql)
    {
        if (!_prepared.TryGetValue(sql, out var cmd))
        {
            cmd = CreateCommand();
            cmd.CommandText = sql;
            _prepared[sql] = cmd;
        }
        return cmd;
    }

    /// <summary>A <see cref="RawStatement"/> for <paramref name="sql"/>, prepared once per connection (the write path).</summary>
    internal RawStatement Raw(string sql)
    {
        if (!_raw.TryGetValue(sql, out var statement))
        {
            statement = new RawStatement(this, sql);
            _raw[sql] = statement;
        }
        return statement;
    }

    internal void Close(bool dispose)
    {
        _closing = true;
        foreach (var cmd in _prepared.Values) cmd.Dispose();
        _prepared.Clear();
        foreach (var statement in _raw.Values) statement.Dispose();
        _raw.Clear();
        if (dispose) Dispose();
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing && !_closing)
        {
            _owner.Return(this);
            return;
        }
        base.Dispose(disposing);
    }
}
