using Ignis.Fhir.Search.Indexing;
using Microsoft.Data.Sqlite;

/// <summary>
/// The same rows ResourceStore.Write inserts for a new resource (resources, history, index tables),
/// but through one prepared command per statement reused for a whole transaction. It exists only to
/// measure how much of the store's write cost is statement preparation rather than SQLite's B-tree
/// work; it is not a proposal for the store's code.
/// </summary>
internal sealed class CachedWriter(SqliteConnection connection, SqliteTransaction tx) : IDisposable
{
    private readonly Dictionary<string, SqliteCommand> _commands = [];

    private SqliteCommand Get(string sql, int parameters)
    {
        if (_commands.TryGetValue(sql, out var cmd)) return cmd;
        cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        cmd.CommandText = sql;
        for (var i = 0; i < parameters; i++) cmd.Parameters.Add(new SqliteParameter("$p" + i, null));
        cmd.Prepare();
        return _commands[sql] = cmd;
    }

    private object? Run(string sql, bool scalar, params object?[] values)
    {
        var cmd = Get(sql, values.Length);
        for (var i = 0; i < values.Length; i++) cmd.Parameters[i].Value = values[i] ?? DBNull.Value;
        return scalar ? cmd.ExecuteScalar() : cmd.ExecuteNonQuery();
    }

    public void Insert(string type, string id, long ticks, string json, ResourceIndex x)
    {
        Run("SELECT res_key FROM resources WHERE type = $p0 AND id = $p1", true, type, id);
        var key = (long)Run("INSERT INTO resources (type, id, version, last_updated, deleted, body) VALUES ($p0, $p1, 1, $p2, 0, $p3) RETURNING res_key", true, type, id, ticks, json)!;
        Run("INSERT INTO history (res_key, type, id, version, last_updated, method, body) VALUES ($p0, $p1, $p2, 1, $p3, 'PUT', $p4)", false, key, type, id, ticks, json);
        foreach (var e in x.Strings) Run("INSERT INTO idx_string VALUES ($p0, $p1, $p2, $p3)", false, key, e.ParamId, e.ValueNorm, e.Value);
        foreach (var e in x.Tokens) Run("INSERT INTO idx_token VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6)", false, key, e.ParamId, e.System, e.Code, e.Text, e.TypeSystem, e.TypeCode);
        foreach (var e in x.Dates) Run("INSERT INTO idx_date VALUES ($p0, $p1, $p2, $p3)", false, key, e.ParamId, e.Lo, e.Hi);
        foreach (var e in x.Numbers) Run("INSERT INTO idx_number VALUES ($p0, $p1, $p2, $p3)", false, key, e.ParamId, e.Lo, e.Hi);
        foreach (var e in x.Quantities) Run("INSERT INTO idx_quantity VALUES ($p0, $p1, $p2, $p3, $p4, $p5)", false, key, e.ParamId, e.System, e.Code, e.Lo, e.Hi);
        foreach (var e in x.References) Run("INSERT INTO idx_reference VALUES ($p0, $p1, $p2, $p3, $p4, $p5)", false, key, e.ParamId, e.TargetType, e.TargetId, e.Url, e.UrlVersion);
        foreach (var e in x.Uris) Run("INSERT INTO idx_uri VALUES ($p0, $p1, $p2)", false, key, e.ParamId, e.Uri);
        foreach (var e in x.Composites)
            Run("INSERT INTO idx_composite VALUES ($p0, $p1, $p2, $p3, $p4, $p5, $p6, $p7, $p8, $p9, $p10, $p11, $p12, $p13)", false,
                key, e.ParamId, e.C1.System, e.C1.Code, e.C1.Lo, e.C1.Hi, e.C2.System, e.C2.Code, e.C2.Lo, e.C2.Hi,
                e.C3?.System, e.C3?.Code, e.C3?.Lo, e.C3?.Hi);
    }

    public void Dispose()
    {
        foreach (var c in _commands.Values) c.Dispose();
    }
}
