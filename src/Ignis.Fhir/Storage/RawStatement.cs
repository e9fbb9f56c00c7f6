using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Ignis.Fhir.Storage;

/// <summary>
/// A statement of the write path prepared once per connection on SQLite's own API (SQLitePCLRaw, under
/// Microsoft.Data.Sqlite): values bound by position, one step, one reset. A write makes one statement per table row
/// (resource, history, ~12 index rows), and an ADO.NET command's own work per execution (parameter objects, binding by
/// name, the data reader) cost as much as SQLite's B-tree insertion of the row. Runs inside whatever transaction the
/// connection has open. Not thread-safe (a connection is used by one thread at a time).
/// </summary>
internal sealed class RawStatement : IDisposable
{
    private readonly sqlite3 _db;
    private readonly sqlite3_stmt _stmt;

    public RawStatement(SqliteConnection connection, string sql)
    {
        _db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        var rc = raw.sqlite3_prepare_v3(_db, sql, raw.SQLITE_PREPARE_PERSISTENT, out _stmt);
        SqliteException.ThrowExceptionForRC(rc, _db);
    }

    public void Bind(int index, long value) => Check(raw.sqlite3_bind_int64(_stmt, index, value));

    public void Bind(int index, string? value) =>
        Check(value is null ? raw.sqlite3_bind_null(_stmt, index) : raw.sqlite3_bind_text(_stmt, index, value));

    public void Bind(int index, double? value) =>
        Check(value is { } v ? raw.sqlite3_bind_double(_stmt, index, v) : raw.sqlite3_bind_null(_stmt, index));

    /// <summary>Runs a statement that returns no rows.</summary>
    public void Execute()
    {
        var rc = raw.sqlite3_step(_stmt);
        raw.sqlite3_reset(_stmt);
        if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW) SqliteException.ThrowExceptionForRC(rc, _db);
    }

    /// <summary>The rowid of the row the last INSERT on this connection made.</summary>
    public long LastInsertRowId => raw.sqlite3_last_insert_rowid(_db);

    /// <summary>Steps to the first row; true when there is one. Read it with the column getters, then call <see cref="Reset"/>.</summary>
    public bool Step()
    {
        var rc = raw.sqlite3_step(_stmt);
        if (rc == raw.SQLITE_ROW) return true;
        raw.sqlite3_reset(_stmt);
        if (rc != raw.SQLITE_DONE) SqliteException.ThrowExceptionForRC(rc, _db);
        return false;
    }

    public void Reset() => raw.sqlite3_reset(_stmt);

    public long Int64(int column) => raw.sqlite3_column_int64(_stmt, column);

    public string? Text(int column) =>
        raw.sqlite3_column_type(_stmt, column) == raw.SQLITE_NULL ? null : raw.sqlite3_column_text(_stmt, column).utf8_to_string();

    public void Dispose() => _stmt.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK) SqliteException.ThrowExceptionForRC(rc, _db);
    }
}
