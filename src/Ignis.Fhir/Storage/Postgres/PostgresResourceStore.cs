using System.Data.Common;
using Ignis.Fhir.Search.Indexing;
using Npgsql;
using NpgsqlTypes;

namespace Ignis.Fhir.Storage.Postgres;

/// <summary>
/// The SQL of the resources, history and index tables for one PostgreSQL connection (the same tables as SQLite's,
/// see Sql/postgres). Inside a write transaction <see cref="ReadCurrent"/> locks the row it reads, so the version a
/// write builds on stays current until it commits. A write is one statement (one round trip): its resources row,
/// history row, index deletions and index rows, each index table's rows as one INSERT … SELECT FROM unnest(arrays).
/// </summary>
public sealed class PostgresResourceStore(NpgsqlConnection connection, bool inTransaction, bool ownsConnection) : IResourceSession
{
    private const string Columns = "res_key, type, id, version, last_updated, deleted, body";

    public DbConnection Connection => connection;

    /// <summary>
    /// Always null: <see cref="PostgresFhirStore.WriteAsync{T}"/> opens the transaction with a plain BEGIN, so every
    /// command stays a single statement that Npgsql runs fully synchronously (its transaction object would prepend
    /// BEGIN to the first command, which makes a two-command batch).
    /// </summary>
    public DbTransaction? Transaction => null;

    public StoredResource? ReadCurrent(string type, string id)
    {
        // FOR UPDATE: a concurrent writer of this resource (on this node or another) waits for our commit and then
        // reads the version we wrote, so no update is lost and If-Match compares against the real current version.
        using var cmd = Command($"SELECT {Columns} FROM resources WHERE type = @t AND id = @i" + (inTransaction ? " FOR UPDATE" : ""),
            ("t", type), ("i", id));
        return ReadOne(cmd);
    }

    public StoredResource? ReadVersion(string type, string id, int version)
    {
        using var cmd = Command(
            "SELECT h.res_key, h.type, h.id, h.version, h.last_updated, CASE WHEN h.body IS NULL THEN 1::smallint ELSE 0::smallint END, h.body " +
            "FROM resources r JOIN history h ON h.res_key = r.res_key AND h.version = @v WHERE r.type = @t AND r.id = @i",
            ("t", type), ("i", id), ("v", version));
        return ReadOne(cmd);
    }

    public StoredResource Write(StoredResource? existing, string type, string id, int version, long lastUpdated,
        string method, string? json, ResourceIndex? index)
    {
        // One statement, one round trip: data-modifying CTEs for the resources row, the history row, the old index rows'
        // deletion and each index table's new rows. (One statement also keeps Npgsql's synchronous path fully
        // synchronous; a multi-command batch would send the later commands asynchronously.)
        var deleted = json is null;
        using var cmd = new NpgsqlCommand { Connection = connection };
        var p = cmd.Parameters;
        var ctes = new List<string>();
        p.Add(new NpgsqlParameter<string>("t", type));
        p.Add(new NpgsqlParameter<string>("i", id));
        p.Add(new NpgsqlParameter<int>("v", version));
        p.Add(new NpgsqlParameter<long>("u", lastUpdated));
        p.Add(new NpgsqlParameter<short>("d", (short)(deleted ? 1 : 0)));
        p.Add(new NpgsqlParameter<string>("m", method));
        p.Add(new NpgsqlParameter("b", NpgsqlDbType.Json) { Value = (object?)json ?? DBNull.Value });
        if (existing is null)
        {
            ctes.Add("r AS (INSERT INTO resources (type, id, version, last_updated, deleted, body) VALUES (@t, @i, @v, @u, @d, @b) RETURNING res_key)");
        }
        else
        {
            p.Add(new NpgsqlParameter<long>("k", existing.ResKey));
            ctes.Add("r AS (SELECT CAST(@k AS bigint) AS res_key)");
            ctes.Add("w AS (UPDATE resources SET version = @v, last_updated = @u, deleted = @d, body = @b WHERE res_key = @k)");
            if (!existing.Deleted)
                foreach (var table in IndexTables)
                    ctes.Add($"x_{table} AS (DELETE FROM {table} WHERE res_key = @k)");
        }
        ctes.Add("h AS (INSERT INTO history (res_key, type, id, version, last_updated, method, body) SELECT res_key, @t, @i, @v, @u, @m, @b FROM r)");
        if (index is not null) AddIndex(ctes, p, index);
        cmd.CommandText = "WITH " + string.Join(",\n", ctes) + "\nSELECT res_key FROM r";
        var key = (long)cmd.ExecuteScalar()!;
        return new StoredResource(key, type, id, version, lastUpdated, deleted, json);
    }

    internal static readonly string[] IndexTables =
        ["idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri", "idx_composite"];

    private static void AddIndex(List<string> ctes, NpgsqlParameterCollection p, ResourceIndex ix)
    {
        Unnest(ctes, p, "idx_string", ix.Strings, e => e.ParamId,
            ("value_norm", Text(ix.Strings, e => e.ValueNorm)), ("value", Text(ix.Strings, e => e.Value)));
        Unnest(ctes, p, "idx_token", ix.Tokens, e => e.ParamId,
            ("system", Text(ix.Tokens, e => e.System)), ("code", Text(ix.Tokens, e => e.Code)), ("text", Text(ix.Tokens, e => e.Text)),
            ("type_system", Text(ix.Tokens, e => e.TypeSystem)), ("type_code", Text(ix.Tokens, e => e.TypeCode)));
        Unnest(ctes, p, "idx_date", ix.Dates, e => e.ParamId,
            ("lo", ix.Dates.Select(e => e.Lo).ToArray()), ("hi", ix.Dates.Select(e => e.Hi).ToArray()));
        Unnest(ctes, p, "idx_number", ix.Numbers, e => e.ParamId,
            ("lo", ix.Numbers.Select(e => e.Lo).ToArray()), ("hi", ix.Numbers.Select(e => e.Hi).ToArray()));
        Unnest(ctes, p, "idx_quantity", ix.Quantities, e => e.ParamId,
            ("system", Text(ix.Quantities, e => e.System)), ("code", Text(ix.Quantities, e => e.Code)),
            ("lo", ix.Quantities.Select(e => e.Lo).ToArray()), ("hi", ix.Quantities.Select(e => e.Hi).ToArray()));
        Unnest(ctes, p, "idx_reference", ix.References, e => e.ParamId,
            ("target_type", Text(ix.References, e => e.TargetType)), ("target_id", Text(ix.References, e => e.TargetId)),
            ("url", Text(ix.References, e => e.Url)), ("url_version", Text(ix.References, e => e.UrlVersion)));
        Unnest(ctes, p, "idx_uri", ix.Uris, e => e.ParamId, ("uri", Text(ix.Uris, e => e.Uri)));
        var c = ix.Composites;
        Unnest(ctes, p, "idx_composite", c, e => e.ParamId,
            ("c1_system", Text(c, e => e.C1.System)), ("c1_code", Text(c, e => e.C1.Code)),
            ("c1_lo", c.Select(e => e.C1.Lo).ToArray()), ("c1_hi", c.Select(e => e.C1.Hi).ToArray()),
            ("c2_system", Text(c, e => e.C2.System)), ("c2_code", Text(c, e => e.C2.Code)),
            ("c2_lo", c.Select(e => e.C2.Lo).ToArray()), ("c2_hi", c.Select(e => e.C2.Hi).ToArray()),
            ("c3_system", Text(c, e => e.C3?.System)), ("c3_code", Text(c, e => e.C3?.Code)),
            ("c3_lo", c.Select(e => e.C3?.Lo).ToArray()), ("c3_hi", c.Select(e => e.C3?.Hi).ToArray()));
    }

    private static string?[] Text<T>(List<T> rows, Func<T, string?> value)
    {
        var a = new string?[rows.Count];
        for (var i = 0; i < a.Length; i++) a[i] = value(rows[i]);
        return a;
    }

    /// <summary>All rows of one index table: one typed array per column, expanded by unnest.</summary>
    private static void Unnest<T>(List<string> ctes, NpgsqlParameterCollection p, string table, List<T> rows, Func<T, int> paramId,
        params (string Column, Array Values)[] columns)
    {
        if (rows.Count == 0) return;
        var pids = new int[rows.Count];
        for (var i = 0; i < pids.Length; i++) pids[i] = paramId(rows[i]);
        p.Add(new NpgsqlParameter<int[]>(table + "_p", pids));
        var names = new List<string> { "@" + table + "_p" };
        for (var i = 0; i < columns.Length; i++)
        {
            var values = columns[i].Values;
            var name = table + "_" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);
            names.Add("@" + name);
            // Arrays of null-only strings or nullable doubles still need their element type stated.
            p.Add(new NpgsqlParameter(name, values)
            {
                NpgsqlDbType = NpgsqlDbType.Array | (values switch
                {
                    string?[] => NpgsqlDbType.Text,
                    long[] => NpgsqlDbType.Bigint,
                    _ => NpgsqlDbType.Double,
                }),
            });
        }
        ctes.Add($"i_{table} AS (INSERT INTO {table} (res_key, param_id, {string.Join(", ", columns.Select(c => c.Column))}) " +
                 $"SELECT r.res_key, u.* FROM r, unnest({string.Join(", ", names)}) AS u)");
    }

    public IReadOnlyList<(long Seq, string Method, StoredResource Resource)> History(
        string? type, string? id, long? since, long? at, long? beforeSeq, int limit)
    {
        var where = new List<string>();
        var args = new List<(string, object?)>();
        if (type is not null) { where.Add("h.type = @t"); args.Add(("t", type)); }
        if (id is not null) { where.Add("h.id = @i"); args.Add(("i", id)); }
        if (since is not null) { where.Add("h.last_updated >= @s"); args.Add(("s", since)); }
        if (beforeSeq is not null) { where.Add("h.seq < @b"); args.Add(("b", beforeSeq)); }
        if (at is not null)
        {
            // _at: the version current at that instant — the newest version written at or before it.
            where.Add("h.last_updated <= @a AND NOT EXISTS (SELECT 1 FROM history n WHERE n.res_key = h.res_key AND n.version > h.version AND n.last_updated <= @a)");
            args.Add(("a", at));
        }
        args.Add(("l", limit));
        using var cmd = Command(
            "SELECT h.seq, h.method, h.res_key, h.type, h.id, h.version, h.last_updated, h.body IS NULL, h.body FROM history h" +
            (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : "") + " ORDER BY h.seq DESC LIMIT @l",
            [.. args]);
        var result = new List<(long, string, StoredResource)>();
        using var reader = cmd.ExecuteReader();
        while (reader.Read())
            result.Add((reader.GetInt64(0), reader.GetString(1), new StoredResource(
                reader.GetInt64(2), reader.GetString(3), reader.GetString(4), reader.GetInt32(5), reader.GetInt64(6),
                reader.GetBoolean(7), reader.IsDBNull(8) ? null : reader.GetString(8))));
        return result;
    }

    public long CountHistory(string? type, string? id, long? since)
    {
        var where = new List<string>();
        var args = new List<(string, object?)>();
        if (type is not null) { where.Add("type = @t"); args.Add(("t", type)); }
        if (id is not null) { where.Add("id = @i"); args.Add(("i", id)); }
        if (since is not null) { where.Add("last_updated >= @s"); args.Add(("s", since)); }
        using var cmd = Command("SELECT count(*) FROM history" + (where.Count > 0 ? " WHERE " + string.Join(" AND ", where) : ""), [.. args]);
        return (long)cmd.ExecuteScalar()!;
    }

    public bool References(long key, int[] paramIds, string type, string id)
    {
        using var cmd = Command(
            "SELECT EXISTS (SELECT 1 FROM idx_reference WHERE res_key = @k AND param_id = ANY(@p) AND target_type = @t AND target_id = @i)",
            ("k", key), ("p", paramIds), ("t", type), ("i", id));
        return (bool)cmd.ExecuteScalar()!;
    }

    public bool IsEmpty()
    {
        using var cmd = Command("SELECT NOT EXISTS (SELECT 1 FROM resources)");
        return (bool)cmd.ExecuteScalar()!;
    }

    /// <summary>
    /// A transaction-scoped advisory lock on the type: conditional writes of one type (on any node) take turns, so two
    /// conditional creates with the same criteria cannot both find nothing and both create. Released at commit.
    /// </summary>
    public void LockForConditionalWrite(string type)
    {
        if (!inTransaction) return;
        using var cmd = Command($"SELECT pg_advisory_xact_lock({PostgresFhirStore.LockNamespace}, hashtext(@t))", ("t", "conditional:" + type));
        cmd.ExecuteNonQuery();
    }

    public void LockForWrite(IReadOnlyCollection<(string Type, string Id)> targets)
    {
        if (!inTransaction || targets.Count < 2) return;
        // The lock rows node sits above the sort: rows are locked in (type, id) order.
        using var cmd = Command(
            "SELECT 1 FROM resources WHERE (type, id) IN (SELECT * FROM unnest(@types, @ids)) ORDER BY type, id FOR UPDATE",
            ("types", targets.Select(t => t.Type).ToArray()), ("ids", targets.Select(t => t.Id).ToArray()));
        cmd.ExecuteNonQuery();
    }

    private NpgsqlCommand Command(string sql, params (string Name, object? Value)[] args)
    {
        var cmd = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in args) cmd.Parameters.AddWithValue(name, value ?? DBNull.Value);
        return cmd;
    }

    private static StoredResource? ReadOne(NpgsqlCommand cmd)
    {
        using var reader = cmd.ExecuteReader();
        return reader.Read()
            ? new StoredResource(reader.GetInt64(0), reader.GetString(1), reader.GetString(2), reader.GetInt32(3), reader.GetInt64(4),
                reader.GetInt16(5) != 0, reader.IsDBNull(6) ? null : reader.GetString(6))
            : null;
    }

    public void Dispose()
    {
        if (ownsConnection) connection.Dispose();
    }
}
