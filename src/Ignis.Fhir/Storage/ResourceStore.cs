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
        if (_raw is not null)
            foreach (var statement in _raw.Values) statement.Dispose();
        _raw = null;
        if (ownsConnection) connection.Dispose();
    }

    public StoredResource? ReadCurrent(string type, string id)
    {
        // In a write transaction (every PUT reads its target first), on the write path's statements.
        if (transaction is not null)
        {
            var read = Raw($"SELECT {Columns} FROM resources WHERE type = ?1 AND id = ?2");
            read.Bind(1, type);
            read.Bind(2, id);
            if (!read.Step()) return null;
            try
            {
                return new StoredResource(read.Int64(0), read.Text(1)!, read.Text(2)!, (int)read.Int64(3), read.Int64(4), read.Int64(5) != 0, read.Text(6));
            }
            finally
            {
                read.Reset();
            }
        }
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
            var insert = Raw("INSERT INTO resources (type, id, version, last_updated, deleted, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
            insert.Bind(1, type);
            insert.Bind(2, id);
            insert.Bind(3, version);
            insert.Bind(4, lastUpdated);
            insert.Bind(5, deleted ? 1 : 0);
            insert.Bind(6, json);
            insert.Execute();
            key = insert.LastInsertRowId;
        }
        else
        {
            key = existing.ResKey;
            var update = Raw("UPDATE resources SET version = ?2, last_updated = ?3, deleted = ?4, body = ?5 WHERE res_key = ?1");
            update.Bind(1, key);
            update.Bind(2, version);
            update.Bind(3, lastUpdated);
            update.Bind(4, deleted ? 1 : 0);
            update.Bind(5, json);
            update.Execute();
            if (!existing.Deleted) DeleteIndex(key);
        }

        var history = Raw("INSERT INTO history (res_key, type, id, version, last_updated, method, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
        history.Bind(1, key);
        history.Bind(2, type);
        history.Bind(3, id);
        history.Bind(4, version);
        history.Bind(5, lastUpdated);
        history.Bind(6, method);
        history.Bind(7, json);
        history.Execute();

        if (index is not null) WriteIndex(key, index);
        return new StoredResource(key, type, id, version, lastUpdated, deleted, json);
    }

    private static readonly string[] DeleteIndexSql =
    [
        .. new[] { "idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri", "idx_composite" }
            .Select(table => $"DELETE FROM {table} WHERE res_key = ?1"),
    ];

    private void DeleteIndex(long key)
    {
        foreach (var sql in DeleteIndexSql)
        {
            var delete = Raw(sql);
            delete.Bind(1, key);
            delete.Execute();
        }
    }

    // One prepared single-row INSERT per table, run once per row: SQLite's B-tree insertions are the cost that remains.
    private void WriteIndex(long key, ResourceIndex index)
    {
        if (index.Strings.Count > 0)
        {
            var s = Raw("INSERT INTO idx_string (res_key, param_id, value_norm, value) VALUES (?1, ?2, ?3, ?4)");
            foreach (var e in index.Strings)
            {
                s.Bind(1, key); s.Bind(2, e.ParamId); s.Bind(3, e.ValueNorm); s.Bind(4, e.Value);
                s.Execute();
            }
        }
        if (index.Tokens.Count > 0)
        {
            var s = Raw("INSERT INTO idx_token (res_key, param_id, system, code, text, type_system, type_code) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
            foreach (var e in index.Tokens)
            {
                s.Bind(1, key); s.Bind(2, e.ParamId); s.Bind(3, e.System); s.Bind(4, e.Code); s.Bind(5, e.Text);
                s.Bind(6, e.TypeSystem); s.Bind(7, e.TypeCode);
                s.Execute();
            }
        }
        if (index.Dates.Count > 0)
        {
            var s = Raw("INSERT INTO idx_date (res_key, param_id, lo, hi) VALUES (?1, ?2, ?3, ?4)");
            foreach (var e in index.Dates)
            {
                s.Bind(1, key); s.Bind(2, e.ParamId); s.Bind(3, e.Lo); s.Bind(4, e.Hi);
                s.Execute();
            }
        }
        if (index.Numbers.Count > 0)
        {
            var s = Raw("INSERT INTO idx_number (res_key, param_id, lo, hi) VALUES (?1, ?2, ?3, ?4)");
            foreach (var e in index.Numbers)
            {
                s.Bind(1, key); s.Bind(2, e.ParamId); s.Bind(3, (double?)e.Lo); s.Bind(4, (double?)e.Hi);
                s.Execute();
            }
        }
        if (index.Quantities.Count > 0)
        {
            var s = Raw("INSERT INTO idx_quantity (res_key, param_id, system, code, lo, hi) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
            foreach (var e in index.Quantities)
            {
                s.Bind(1, key); s.Bind(2, e.ParamId); s.Bind(3, e.System); s.Bind(4, e.Code); s.Bind(5, (double?)e.Lo); s.Bind(6, (double?)e.Hi);
                s.Execute();
            }
        }
        if (index.References.Count > 0)
        {
            var s = Raw("INSERT INTO idx_reference (res_key, param_id, target_type, target_id, url, url_version) VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
            foreach (var e in index.References)
            {
                s.Bind(1, key); s.Bind(2, e.ParamId); s.Bind(3, e.TargetType); s.Bind(4, e.TargetId); s.Bind(5, e.Url); s.Bind(6, e.UrlVersion);
                s.Execute();
            }
        }
        if (index.Uris.Count > 0)
        {
            var s = Raw("INSERT INTO idx_uri (res_key, param_id, uri) VALUES (?1, ?2, ?3)");
            foreach (var e in index.Uris)
            {
                s.Bind(1, key); s.Bind(2, e.ParamId); s.Bind(3, e.Uri);
                s.Execute();
            }
        }
        if (index.Composites.Count > 0)
        {
            var s = Raw("INSERT INTO idx_composite (res_key, param_id, c1_system, c1_code, c1_lo, c1_hi, c2_system, c2_code, c2_lo, c2_hi, " +
                        "c3_system, c3_code, c3_lo, c3_hi) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
            foreach (var e in index.Composites)
            {
                s.Bind(1, key); s.Bind(2, e.ParamId);
                s.Bind(3, e.C1.System); s.Bind(4, e.C1.Code); s.Bind(5, e.C1.Lo); s.Bind(6, e.C1.Hi);
                s.Bind(7, e.C2.System); s.Bind(8, e.C2.Code); s.Bind(9, e.C2.Lo); s.Bind(10, e.C2.Hi);
                s.Bind(11, e.C3?.System); s.Bind(12, e.C3?.Code); s.Bind(13, e.C3?.Lo); s.Bind(14, e.C3?.Hi);
                s.Execute();
            }
        }
    }

    private Dictionary<string, RawStatement>? _raw; // statements of a connection that is not pooled, finalized on Dispose

    private RawStatement Raw(string sql)
    {
        if (connection is PooledSqliteConnection pooled) return pooled.Raw(sql);
        _raw ??= new Dictionary<string, RawStatement>(StringComparer.Ordinal);
        if (!_raw.TryGetValue(sql, out var statement)) _raw[sql] = statement = new RawStatement(connection, sql);
        return statement;
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
