using Ignis.Fhir.Search.Indexing;
using Microsoft.Data.Sqlite;

namespace Ignis.Fhir.Storage;

/// <summary>
/// The SQL of the resources, history and index tables for one SQLite connection. Writes run inside the
/// caller's transaction, so a transaction Bundle commits or rolls back as one.
/// </summary>
/// <param name="ownsConnection">Dispose gives the connection back (a reader from <see cref="SqliteFhirStore.OpenReader"/>).</param>
public sealed class ResourceStore(SqliteConnection connection, SqliteTransaction? transaction = null, bool ownsConnection = false) : IResourceSession
{
    private const string Columns = "res_key, type, id, version, last_updated, deleted, body";

    public SqliteConnection Connection => connection;

    /// <summary>Versions written through this store (the group commit's measure of how much the WAL grew).</summary>
    internal int Writes { get; private set; }
    public SqliteTransaction? Transaction => transaction;
    System.Data.Common.DbConnection IResourceStore.Connection => connection;
    System.Data.Common.DbTransaction? IResourceStore.Transaction => transaction;

    /// <summary>Nothing to do: the write gate lets one writer in at a time, so a search and the write after it are atomic.</summary>
    public void LockForConditionalWrite(string type)
    {
    }

    public void LockForWrite(IReadOnlyCollection<(string Type, string Id)> targets)
    {
    }

    public void Dispose()
    {
        if (ownsConnection) connection.Dispose();
    }

    public StoredResource? ReadCurrent(string type, string id)
    {
        var cmd = Command($"SELECT {Columns} FROM resources WHERE type = $t AND id = $i", ("$t", type), ("$i", id));
        return ReadOne(cmd);
    }

    public StoredResource? ReadVersion(string type, string id, int version)
    {
        var cmd = Command(
            "SELECT h.res_key, h.type, h.id, h.version, h.last_updated, CASE WHEN h.body IS NULL THEN 1 ELSE 0 END, h.body " +
            "FROM resources r JOIN history h ON h.res_key = r.res_key AND h.version = $v WHERE r.type = $t AND r.id = $i",
            ("$t", type), ("$i", id), ("$v", version));
        return ReadOne(cmd);
    }

    public IReadOnlyList<StoredResource> ReadByKeys(IReadOnlyCollection<long> keys)
    {
        if (keys.Count == 0) return [];
        var result = new List<StoredResource>(keys.Count);
        foreach (var chunk in keys.Chunk(500))
        {
            using var cmd = connection.CreateCommand();
            cmd.Transaction = transaction;
            var names = new string[chunk.Length];
            for (var i = 0; i < chunk.Length; i++)
            {
                names[i] = "$k" + i;
                cmd.Parameters.AddWithValue(names[i], chunk[i]);
            }
            cmd.CommandText = $"SELECT {Columns} FROM resources WHERE res_key IN ({string.Join(',', names)})";
            using var reader = cmd.ExecuteReader();
            while (reader.Read()) result.Add(Map(reader));
        }
        return result;
    }

    /// <summary>Writes a new current version (create, update or delete) with its history row and index rows.</summary>
    /// <param name="existing">The current row, or null when the resource never existed.</param>
    /// <param name="json">The version's JSON; null for a delete.</param>
    /// <param name="index">The index rows of the new version; null for a delete.</param>
    public StoredResource Write(StoredResource? existing, string type, string id, int version, long lastUpdated,
        string method, string? json, ResourceIndex? index)
    {
        Writes++;
        var deleted = json is null;
        long key;
        if (existing is null)
        {
            var insert = Command(
                "INSERT INTO resources (type, id, version, last_updated, deleted, body) VALUES ($t, $i, $v, $u, $d, $b) RETURNING res_key",
                ("$t", type), ("$i", id), ("$v", version), ("$u", lastUpdated), ("$d", deleted ? 1 : 0), ("$b", (object?)json ?? DBNull.Value));
            key = (long)insert.ExecuteScalar()!;
        }
        else
        {
            key = existing.ResKey;
            var update = Command(
                "UPDATE resources SET version = $v, last_updated = $u, deleted = $d, body = $b WHERE res_key = $k",
                ("$k", key), ("$v", version), ("$u", lastUpdated), ("$d", deleted ? 1 : 0), ("$b", (object?)json ?? DBNull.Value));
            update.ExecuteNonQuery();
            if (!existing.Deleted) DeleteIndex(key);
        }

        Command(
            "INSERT INTO history (res_key, type, id, version, last_updated, method, body) VALUES ($k, $t, $i, $v, $u, $m, $b)",
            ("$k", key), ("$t", type), ("$i", id), ("$v", version), ("$u", lastUpdated), ("$m", method), ("$b", (object?)json ?? DBNull.Value))
            .ExecuteNonQuery();

        if (index is not null) WriteIndex(key, index);
        return new StoredResource(key, type, id, version, lastUpdated, deleted, json);
    }

    private static readonly string[] IndexTables =
        ["idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri", "idx_composite"];

    private void DeleteIndex(long key)
    {
        foreach (var table in IndexTables)
        {
            var cmd = Command($"DELETE FROM {table} WHERE res_key = $k", ("$k", key));
            cmd.ExecuteNonQuery();
        }
    }

    private void WriteIndex(long key, ResourceIndex index)
    {
        InsertJson("idx_string", ["value_norm", "value"], index.Strings, (w, e) => { w.WriteStringValue(e.ValueNorm); w.WriteStringValue(e.Value); }, e => e.ParamId, key);
        InsertJson("idx_token", ["system", "code", "text", "type_system", "type_code"], index.Tokens,
            (w, e) => { Str(w, e.System); Str(w, e.Code); Str(w, e.Text); Str(w, e.TypeSystem); Str(w, e.TypeCode); }, e => e.ParamId, key);
        InsertJson("idx_date", ["lo", "hi"], index.Dates, (w, e) => { w.WriteNumberValue(e.Lo); w.WriteNumberValue(e.Hi); }, e => e.ParamId, key);
        Insert("idx_number", ["lo", "hi"], index.Numbers, e => [e.ParamId, e.Lo, e.Hi], key);
        Insert("idx_quantity", ["system", "code", "lo", "hi"], index.Quantities, e => [e.ParamId, e.System, e.Code, e.Lo, e.Hi], key);
        InsertJson("idx_reference", ["target_type", "target_id", "url", "url_version"], index.References,
            (w, e) => { Str(w, e.TargetType); Str(w, e.TargetId); Str(w, e.Url); Str(w, e.UrlVersion); }, e => e.ParamId, key);
        InsertJson("idx_uri", ["uri"], index.Uris, (w, e) => w.WriteStringValue(e.Uri), e => e.ParamId, key);
        Insert("idx_composite",
            ["c1_system", "c1_code", "c1_lo", "c1_hi", "c2_system", "c2_code", "c2_lo", "c2_hi", "c3_system", "c3_code", "c3_lo", "c3_hi"],
            index.Composites,
            e => [e.ParamId, e.C1.System, e.C1.Code, e.C1.Lo, e.C1.Hi, e.C2.System, e.C2.Code, e.C2.Lo, e.C2.Hi,
                  e.C3?.System, e.C3?.Code, e.C3?.Lo, e.C3?.Hi], key);
    }

    private static void Str(System.Text.Json.Utf8JsonWriter w, string? value)
    {
        if (value is null) w.WriteNullValue(); else w.WriteStringValue(value);
    }

    // Text and integer index rows travel as one JSON array per table and resource, expanded by SQLite's json_each:
    // two bound values per statement instead of one per column and row (binding was most of the driver's cost).
    // Columns holding doubles keep bound parameters, so no value goes through a decimal round trip.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> JsonInsertSql = new();
    private readonly System.Buffers.ArrayBufferWriter<byte> _json = new(4096);
    private System.Text.Json.Utf8JsonWriter? _jsonWriter;

    private void InsertJson<T>(string table, string[] columns, List<T> rows, Action<System.Text.Json.Utf8JsonWriter, T> write, Func<T, int> paramId, long key)
    {
        if (rows.Count == 0) return;
        _json.ResetWrittenCount();
        var w = _jsonWriter ??= new System.Text.Json.Utf8JsonWriter(_json, new System.Text.Json.JsonWriterOptions
        {
            Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true,
        });
        w.Reset(_json);
        w.WriteStartArray();
        foreach (var row in rows)
        {
            w.WriteStartArray();
            w.WriteNumberValue(paramId(row));
            write(w, row);
            w.WriteEndArray();
        }
        w.WriteEndArray();
        w.Flush();
        var sql = JsonInsertSql.GetOrAdd(table, t =>
            $"INSERT INTO {t} (res_key, param_id, {string.Join(", ", columns)}) SELECT $k, {string.Join(", ", Enumerable.Range(0, columns.Length + 1).Select(i => $"value->>{i}"))} FROM json_each($j)");
        Command(sql, ("$k", key), ("$j", System.Text.Encoding.UTF8.GetString(_json.WrittenSpan))).ExecuteNonQuery();
    }

    // Several rows per INSERT: the driver's per-statement cost (reset, bind by name, step) was most of the cost of a
    // write, more than SQLite's own B-tree work (measured with bench/Ignis.Bench.WritePath).
    private const int RowsPerInsert = 16;
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<(string Table, int Rows), (string Sql, string[][] Names)> InsertSql = new();

    private void Insert<T>(string table, string[] columns, List<T> rows, Func<T, object?[]> values, long key)
    {
        for (var start = 0; start < rows.Count; start += RowsPerInsert)
        {
            var n = Math.Min(RowsPerInsert, rows.Count - start);
            var (sql, names) = InsertSql.GetOrAdd((table, n), k => BuildInsert(k.Table, columns, k.Rows));
            var cmd = Command(sql, ("$k", key));
            for (var r = 0; r < n; r++)
            {
                var v = values(rows[start + r]);
                for (var i = 0; i < v.Length; i++) cmd.Parameters.AddWithValue(names[r][i], v[i] ?? DBNull.Value);
            }
            cmd.ExecuteNonQuery();
        }
    }

    private static (string Sql, string[][] Names) BuildInsert(string table, string[] columns, int rows)
    {
        var names = new string[rows][];
        var tuples = new List<string>(rows);
        for (var r = 0; r < rows; r++)
        {
            names[r] = ["$p" + r, .. columns.Select((_, i) => $"$c{r}_{i}")];
            tuples.Add("($k, " + string.Join(", ", names[r]) + ")");
        }
        return ($"INSERT INTO {table} (res_key, param_id, {string.Join(", ", columns)}) VALUES {string.Join(", ", tuples)}", names);
    }

    /// <summary>History rows newest first, filtered by type/id and time; keyset-paged on seq.</summary>
    public IReadOnlyList<(long Seq, string Method, StoredResource Resource)> History(
        string? type, string? id, long? since, long? at, long? beforeSeq, int limit)
    {
        var where = new List<string>();
        var args = new List<(string, object?)>();
        AddTypeAndId(where, args, type, id, "h.");
        if (since is not null) { where.Add("h.last_updated >= $s"); args.Add(("$s", since)); }
        if (beforeSeq is not null) { where.Add("h.seq < $b"); args.Add(("$b", beforeSeq)); }
        if (at is not null)
        {
            // _at: the version current at that instant — the newest version written at or before it.
            where.Add("h.last_updated <= $a AND NOT EXISTS (SELECT 1 FROM history n WHERE n.res_key = h.res_key AND n.version > h.version AND n.last_updated <= $a)");
            args.Add(("$a", at));
        }
        args.Add(("$l", limit));
        var cmd = Command(
            "SELECT h.seq, h.method, h.res_key, h.type, h.id, h.version, h.last_updated, CASE WHEN h.body IS NULL THEN 1 ELSE 0 END, h.body FROM history h" +
            (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY h.seq DESC LIMIT $l",
            [.. args]);
        var result = new List<(long, string, StoredResource)>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            result.Add((reader.GetInt64(0), reader.GetString(1), new StoredResource(
                reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5), reader.GetInt64(6),
                reader.GetInt64(7) != 0, reader.IsDBNull(8) ? null : reader.GetString(8))));
        return result;
    }

    public long CountHistory(string? type, string? id, long? since)
    {
        var where = new List<string>();
        var args = new List<(string, object?)>();
        AddTypeAndId(where, args, type, id, "");
        if (since is not null) { where.Add("last_updated >= $s"); args.Add(("$s", since)); }
        var cmd = Command("SELECT COUNT(*) FROM history" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : ""), [.. args]);
        return (long)cmd.ExecuteScalar()!;
    }

    // One resource's history (type and id): its res_key through ux_resources_type_id, then its versions through
    // ux_history_key_version (a resource's versions are in seq order; no (type, id) index on history, schema 4).
    private static void AddTypeAndId(List<string> where, List<(string, object?)> args, string? type, string? id, string alias)
    {
        if (type is not null && id is not null)
        {
            where.Add($"{alias}res_key = (SELECT res_key FROM resources WHERE type = $t AND id = $i)");
            args.Add(("$t", type));
            args.Add(("$i", id));
            return;
        }
        if (type is not null) { where.Add($"{alias}type = $t"); args.Add(("$t", type)); }
        if (id is not null) { where.Add($"{alias}id = $i"); args.Add(("$i", id)); }
    }

    /// <summary>Whether the current version of <paramref name="key"/> references <paramref name="type"/>/<paramref name="id"/> through one of the parameters.</summary>
    public bool References(long key, int[] paramIds, string type, string id)
    {
        var cmd = Command(
            "SELECT EXISTS (SELECT 1 FROM idx_reference WHERE res_key = $k AND param_id IN (SELECT value FROM json_each($p)) AND target_type = $t AND target_id = $i)",
            ("$k", key), ("$p", System.Text.Json.JsonSerializer.Serialize(paramIds)), ("$t", type), ("$i", id));
        return (long)cmd.ExecuteScalar()! == 1;
    }

    public bool IsEmpty()
    {
        var cmd = Command("SELECT NOT EXISTS (SELECT 1 FROM resources)");
        return (long)cmd.ExecuteScalar()! == 1;
    }

    /// <summary>A command for the SQL, prepared once per pooled connection; never dispose it.</summary>
    private SqliteCommand Command(string sql, params (string Name, object? Value)[] args)
    {
        SqliteCommand cmd;
        if (connection is PooledSqliteConnection pooled)
        {
            cmd = pooled.Prepared(sql);
            cmd.Parameters.Clear();
        }
        else
        {
            cmd = connection.CreateCommand();
            cmd.CommandText = sql;
        }
        cmd.Transaction = transaction;
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private static StoredResource? ReadOne(SqliteCommand cmd)
    {
        using var reader = cmd.ExecuteReader();
        return reader.Read() ? Map(reader) : null;
    }

    internal static StoredResource Map(SqliteDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), r.GetInt32(3), r.GetInt64(4), r.GetInt64(5) != 0,
        r.IsDBNull(6) ? null : r.GetString(6));
}
