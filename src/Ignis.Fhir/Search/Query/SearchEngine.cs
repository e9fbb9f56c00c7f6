using System.Data.Common;
using Dapper;
using Hl7.Fhir.Model;
using Ignis.Fhir.Storage;
using Microsoft.Data.Sqlite;

namespace Ignis.Fhir.Search.Query;

/// <summary>A page of search results.</summary>
/// <param name="Matches">The matching resources of this page, in order (none for _summary=count).</param>
/// <param name="Included">Resources added by _include/_revinclude, each once and never one of <paramref name="Matches"/>.</param>
/// <param name="Total">The number of matches, when asked for (_total=accurate, the default, or _summary=count).</param>
/// <param name="NextCursor">The value of <see cref="SearchParser.CursorParameter"/> for the next page, or null on the last page.</param>
/// <param name="PreviousCursor">The same for the previous page, or null on the first page.</param>
public sealed record SearchResult(
    IReadOnlyList<StoredResource> Matches,
    IReadOnlyList<StoredResource> Included,
    int? Total,
    string? NextCursor,
    string? PreviousCursor);

/// <summary>The search could not be parsed; <see cref="Issues"/> say why (the caller answers 400).</summary>
public sealed class SearchRequestException(IReadOnlyList<SearchIssue> issues)
    : Exception("The search is not valid: " + string.Join("; ", issues.Select(i => i.Message)))
{
    public IReadOnlyList<SearchIssue> Issues { get; } = issues;
}

/// <summary>
/// Runs a <see cref="SearchRequest"/> against the index tables (SQLite or PostgreSQL, see <see cref="SqlDialect"/>).
/// The query is driven by the most selective AND-term (<c>r.res_key IN (SELECT res_key FROM idx_… WHERE …)</c>, chosen
/// by a bounded row-count probe), the other terms are EXISTS probes through the index tables' res_key indexes.
/// Pages are keyset-based: the cursor holds the sort values and res_key of the row to continue from.
/// </summary>
public static class SearchEngine
{
    /// <summary>A term whose probe reaches this many rows counts as unselective.</summary>
    internal const int ProbeLimit = 1000;

    /// <summary>When every probed set reaches <see cref="ProbeLimit"/>, the sets are probed again up to this many rows.</summary>
    internal const int LargeProbeLimit = 20_000;

    /// <summary>Rounds of _include:iterate / _revinclude:iterate after the first.</summary>
    public const int MaxIncludeIterations = 3;

    /// <summary>At most this many resources are included per page; the rest are left out.</summary>
    public const int MaxIncluded = 1000;

    private const string Columns = "res_key, type, id, version, last_updated, deleted, body";

    public static Task<SearchResult> ExecuteAsync(DbConnection connection, SearchRequest request, CancellationToken ct) =>
        ExecuteAsync(connection, null, request, ct);

    /// <param name="tx">The connection's open transaction, if any (searches inside a transaction Bundle see its writes).</param>
    public static async Task<SearchResult> ExecuteAsync(DbConnection connection, DbTransaction? tx, SearchRequest request, CancellationToken ct)
    {
        if (request.HasErrors)
            throw new InvalidOperationException("The search request has errors (SearchRequest.HasErrors); answer them instead of executing it.");

        var sql = new SqlCompiler(request, SqlDialect.For(connection));
        var plan = await BuildAsync(connection, tx, sql, request, request.Sort.Count == 0, ct);
        var (from, where) = (plan.From, plan.Where);
        if (request.CountOnly)
            return new SearchResult([], [], await CountAsync(connection, tx, sql, plan, ct), null, null);

        var cursor = request.Cursor;
        var backward = cursor?.Before ?? false;
        var page = await PageAsync(connection, tx, sql, request, from, where, cursor, backward, request.Count + 1, ct);
        var hasMore = page.Count > request.Count;
        if (hasMore) page.RemoveAt(page.Count - 1);
        if (backward) page.Reverse();

        string? next = null, previous = null;
        var signature = SearchCursor.SignatureOf(request.Sort);
        int? total = null;
        if (request.Total != SearchTotal.None)
        {
            total = cursor?.Total;
            if (total is null && cursor is null && !hasMore) total = page.Count;
            // The automatic total is left out (R4 allows it) when every probed set reached LargeProbeLimit: a count
            // bounded at AutoTotalLimit would then check each row of a driving set of 20,000 or more against the other
            // terms, costing many times the page (10M resources: 131,000 checks, 300 ms, for a code and a recent date).
            if (total is null && cursor is null && !(request.Total == SearchTotal.Auto && plan.EverySetLarge))
                total = await CountAsync(connection, tx, sql, plan, request.Total == SearchTotal.Auto ? AutoTotalLimit : null, ct);
        }

        if (page.Count > 0)
        {
            SearchCursor After(PageRow row) => new(false, row.SortValues, row.Key, signature, total);
            SearchCursor Before(PageRow row) => new(true, row.SortValues, row.Key, signature, total);
            if (!backward)
            {
                if (hasMore) next = After(page[^1]).Encode();
                if (cursor is not null && await ExistsAsync(connection, tx, request, Before(page[0]), ct))
                    previous = Before(page[0]).Encode();
            }
            else
            {
                if (hasMore) previous = Before(page[0]).Encode();
                if (await ExistsAsync(connection, tx, request, After(page[^1]), ct))
                    next = After(page[^1]).Encode();
            }
        }
        else if (cursor is not null)
        {
            // An empty page reached through a cursor still links back to where the client came from.
            var back = new SearchCursor(!cursor.Before, cursor.Values, cursor.Key, signature, total);
            if (await ExistsAsync(connection, tx, request, back, ct))
            {
                if (cursor.Before) next = back.Encode();
                else previous = back.Encode();
            }
        }

        var matches = await LoadAsync(connection, tx, page.Select(p => p.Key).ToList(), ct);
        var included = await IncludeAsync(connection, tx, request, matches, ct);
        return new SearchResult(matches, included, total, next, previous);
    }

    /// <summary>
    /// Finds at most <paramref name="limit"/> current resources of <paramref name="resourceType"/> matching
    /// <paramref name="query"/> (conditional create, update and delete need to tell 0, 1 and many apart).
    /// Parsed strictly: an unknown or malformed parameter throws <see cref="SearchRequestException"/>.
    /// </summary>
    public static async Task<IReadOnlyList<StoredResource>> FindAsync(
        DbConnection connection, DbTransaction? tx, string resourceType, IReadOnlyList<KeyValuePair<string, string>> query, int limit,
        CancellationToken ct = default)
    {
        var request = SearchParser.Parse(resourceType, query, SearchHandling.Strict);
        if (request.HasErrors) throw new SearchRequestException(request.Issues);
        return await FindAsync(connection, tx, request, limit, ct);
    }

    /// <summary>The first <paramref name="limit"/> matches of a parsed request (with its restrictions), in res_key order.</summary>
    public static async Task<IReadOnlyList<StoredResource>> FindAsync(
        DbConnection connection, DbTransaction? tx, SearchRequest request, int limit, CancellationToken ct = default)
    {
        if (request.HasErrors) throw new SearchRequestException(request.Issues);
        var sql = new SqlCompiler(request, SqlDialect.For(connection));
        var plan = await BuildAsync(connection, tx, sql, request, defaultOrder: true, ct);
        var keys = await QueryAsync<long>(connection, new CommandDefinition(
            $"SELECT r.res_key FROM {plan.From} WHERE {plan.Where} ORDER BY r.res_key LIMIT {Math.Max(0, limit)}",
            sql.Parameters, transaction: tx, cancellationToken: ct));
        return await LoadAsync(connection, tx, keys.ToList(), ct);
    }

    /// <summary>Parses a query string such as "identifier=http://x|1&amp;active=true" (If-None-Exist, conditional URLs).</summary>
    public static Task<IReadOnlyList<StoredResource>> FindAsync(
        DbConnection connection, DbTransaction? tx, string resourceType, string queryString, int limit, CancellationToken ct = default) =>
        FindAsync(connection, tx, resourceType, ParseQueryString(queryString), limit, ct);

    public static List<KeyValuePair<string, string>> ParseQueryString(string queryString)
    {
        var list = new List<KeyValuePair<string, string>>();
        foreach (var pair in queryString.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = eq < 0 ? pair : pair[..eq];
            var value = eq < 0 ? "" : pair[(eq + 1)..];
            list.Add(new(Uri.UnescapeDataString(key.Replace('+', ' ')), Uri.UnescapeDataString(value.Replace('+', ' '))));
        }
        return list;
    }

    /// <summary>The WHERE clause on resources r for pages, and the count query.</summary>
    /// <param name="EverySetLarge">Several sets were probed and each reached <see cref="LargeProbeLimit"/> rows.</param>
    /// <param name="From">The row source of the page, aliased r: resources, or (PostgreSQL) the driving set's keys.</param>
    /// <param name="FirstRowsCountSql">PostgreSQL: the count over the driving set's first <see cref="FirstRowsCounted"/> rows only,
    /// which settles "more than <see cref="AutoTotalLimit"/>" without reading the whole set (see <see cref="CountAsync(DbConnection, DbTransaction?, SqlCompiler, QueryPlan, int?, CancellationToken)"/>).</param>
    private sealed record QueryPlan(
        string From, string Where, string CountSql, IReadOnlyList<string> Probes, bool EverySetLarge, string? FirstRowsCountSql = null);

    /// <summary>How many rows of a large driving set the first, cheap step of a bounded count reads (PostgreSQL).</summary>
    internal const int FirstRowsCounted = 4 * AutoTotalLimit;

    /// <summary>
    /// Compiles every criterion and restriction. The page query is driven by the most selective set (estimated by a
    /// bounded probe); when even that set is large and the order is res_key, walking the type in order finds a page
    /// sooner than materialising the set. The count is always driven by the most selective set, and skips the
    /// resources table when every term reads only the index tables.
    /// </summary>
    private static async Task<QueryPlan> BuildAsync(
        DbConnection connection, DbTransaction? tx, SqlCompiler sql, SearchRequest request, bool defaultOrder, CancellationToken ct)
    {
        var typeLevel = request.ResourceType is not null;
        var fragments = request.Criteria.Select(c => sql.Compile(c, request.Types)).ToList();
        if (typeLevel) fragments.AddRange(sql.RestrictionFragments(request.ResourceType!));

        Fragment? best = null;
        var bestEstimate = int.MaxValue;
        var candidates = typeLevel ? fragments.Where(f => f.Set is not null).ToList() : [];
        var probes = new List<string>();
        foreach (var f in candidates)
        {
            var probe = $"SELECT count(*) FROM ({f.Set} LIMIT {ProbeLimit}) p";
            var run = f.Probe && candidates.Count + (defaultOrder ? 1 : 0) > 1;
            if (run) probes.Add(probe);
            // Without a probe a set counts as unselective; the static rank then decides.
            var estimate = run
                ? await ScalarAsync(connection, new CommandDefinition(probe, sql.Parameters, transaction: tx, cancellationToken: ct))
                : ProbeLimit;
            if (estimate < bestEstimate || (estimate == bestEstimate && f.Rank < best!.Rank))
            {
                best = f;
                bestEstimate = estimate;
            }
        }
        var pageDriver = best is not null && (bestEstimate < ProbeLimit || !defaultOrder) ? best : null;
        var everySetLarge = false;
        var severalProbed = probes.Count > 1;
        // PostgreSQL, one probed set of index terms only: a set under LargeProbeLimit drives the page from its keys alone
        // (no resources row, see below), which beats both walking the type and the planner's semi join, which fetches
        // every candidate's resources row (10M resources: Patient?name=wri, 2,454 heap reads, up to 160 ms warm).
        var singleFromKeys = probes.Count == 1 && sql.Dialect.PageFromKeys && fragments.All(f => f.KeyOnly);
        if (pageDriver is null && (severalProbed || singleFromKeys))
        {
            // Every probed set is large. A set that is still small next to the others is worth materialising: when the
            // terms together match rarely (a code and a recent date), walking the type in order would read far more.
            var smallest = LargeProbeLimit;
            foreach (var f in candidates.Where(f => f.Probe))
            {
                var probe = $"SELECT count(*) FROM ({f.Set} LIMIT {LargeProbeLimit}) p";
                probes.Add(probe);
                var estimate = await ScalarAsync(connection, new CommandDefinition(probe, sql.Parameters, transaction: tx, cancellationToken: ct));
                if (estimate < smallest)
                {
                    smallest = estimate;
                    pageDriver = best = f;
                }
            }
            everySetLarge = pageDriver is null && severalProbed;
        }
        if (everySetLarge && sql.Dialect.PageFromKeys && fragments.All(f => f.KeyOnly) && candidates.FirstOrDefault(f => f.Ordered) is { } ordered)
        {
            // PostgreSQL: every set is large, but one comes out of its index in res_key order (a token with system and
            // code). Walking that set's keys in order, checking the others per key, finds the page like the walk of the
            // type but over the set's members only (10M resources, code=8480-6 and date=ge2025-12-01: 3,091 keys and
            // date checks, 9 ms, instead of 17,485 Observations with two checks each, 42-380 ms). The count keeps `best`.
            pageDriver = ordered;
        }

        string Where(Fragment? driver)
        {
            var parts = new List<string>();
            if (driver is not null)
            {
                parts.Add($"r.res_key IN ({driver.Set})");
                // Unary + keeps SQLite from driving the query by the type index instead of the selective set.
                parts.Add($"{sql.Dialect.NoIndex("r.type")} = {sql.Add(request.ResourceType)}");
                parts.Add($"{sql.Dialect.NoIndex("r.deleted")} = 0");
            }
            else
            {
                if (typeLevel) parts.Add($"r.type = {sql.Add(request.ResourceType)}");
                else if (request.Types.Count < request.Registry.ResourceTypes.Count())
                    parts.Add(sql.InList("r.type", request.Types));
                parts.Add("r.deleted = 0");
            }
            parts.AddRange(fragments.Where(f => f != driver).Select(f => f.Row("r")));

            if (!typeLevel)
            {
                if (request.AllowedTypes is { } allowed && request.Types.Any(t => !allowed.Contains(t)))
                    parts.Add(sql.InList("r.type", request.Types.Where(allowed.Contains)));
                foreach (var type in request.Restrictions.Select(r => r.ResourceType).Distinct().Where(request.Types.Contains))
                    parts.Add($"(r.type <> {sql.Add(type)} OR {sql.RestrictionRow(type, "r")})");
            }
            return string.Join(" AND ", parts);
        }

        // Every set is large, so the page walks the type in order checking each term per row, which finds a page after
        // reading about (page size / share of matching rows) rows whatever the database size. With several terms
        // PostgreSQL would rather join their sets in the order its estimates suggest, and those are far off on the index
        // tables (8M resources: a code and a recent date joined 200,000 date rows, 4.5 s); the checks stay per row there.
        // One term alone is left to the planner (its semi join reads that one set) unless the second probe found it at
        // LargeProbeLimit rows or more (PostgreSQL, singleFromKeys): then the walk meets a match every few rows
        // (10M resources, Patient?name=mar: 2 ms walking, 55 ms reading and sorting the 45,854 rows of the set).
        // The bounded count then checks the other terms per row of its driving set too (a hash join would read the
        // whole other set first).
        sql.FenceRowChecks = pageDriver is null && (fragments.Count > 1 || singleFromKeys);
        var where = Where(pageDriver);
        string count;
        string? firstRowsCount = null;
        if (best is not null && fragments.All(f => f.KeyOnly))
        {
            // A resource can match a set through several index rows; DISTINCT counts it once.
            var rows = string.Concat(fragments.Where(f => f != best).Select(f => " AND " + f.Row("d")));
            count = $"SELECT count(*) FROM (SELECT DISTINCT res_key FROM ({best.Set}) s) d WHERE {sql.Dialect.True}{rows}";
            // PostgreSQL makes a set read by range (a string prefix, a date) distinct by hashing or sorting all of it before
            // the first row, so even a count bounded at 1,001 reads the whole set (Patient?name=mar: 45,854 rows, 37 ms).
            // For a set the probe found large, its first rows usually settle it: more than the bound among them.
            if (sql.Dialect.PageFromKeys && bestEstimate >= ProbeLimit)
                firstRowsCount = $"SELECT count(*) FROM (SELECT DISTINCT res_key FROM ({best.Set} LIMIT {FirstRowsCounted}) s) d WHERE {sql.Dialect.True}{rows}";
        }
        else
        {
            count = $"SELECT count(*) FROM resources r WHERE {(best == pageDriver ? where : Where(best))}";
        }
        sql.FenceRowChecks = false;

        var from = "resources r";
        if (sql.Dialect.PageFromKeys && typeLevel && defaultOrder && pageDriver is not null && fragments.All(f => f.KeyOnly))
        {
            // Every term reads only the index tables and its set holds current resources of the type only (as for the
            // count above), so the page needs no resources row: the driving set's keys, the other terms checked on them.
            // PostgreSQL would otherwise fetch each candidate's resources row from the heap to check type and deleted
            // (10M resources: Patient?name=wri, 2,454 random heap reads).
            // The other terms stay per-key checks (fenced): joined, PostgreSQL may hash a far larger set first.
            sql.FenceRowChecks = true;
            from = $"(SELECT DISTINCT res_key FROM ({pageDriver.Set}) s) r";
            where = sql.Dialect.True + string.Concat(fragments.Where(f => f != pageDriver).Select(f => " AND " + f.Row("r")));
            sql.FenceRowChecks = false;
        }
        return new QueryPlan(from, where, count, probes, everySetLarge, firstRowsCount);
    }

    /// <summary>
    /// EXPLAIN QUERY PLAN (SQLite) or EXPLAIN (PostgreSQL, estimated plan, not run) of the probes, the first-page query
    /// and the count query (for tests and benchmarks).
    /// </summary>
    internal static async Task<string> ExplainAsync(DbConnection connection, DbTransaction? tx, SearchRequest request, CancellationToken ct)
    {
        var sql = new SqlCompiler(request, SqlDialect.For(connection));
        var plan = await BuildAsync(connection, tx, sql, request, request.Sort.Count == 0, ct);
        var (page, parameters) = PageSql(sql, request, plan.From, plan.Where, request.Cursor, request.Cursor?.Before ?? false, request.Count + 1);
        var sb = new System.Text.StringBuilder();
        foreach (var (name, text) in plan.Probes.Select(p => ("probe", p)).Append(("page", page)).Append(("count", plan.CountSql)))
        {
            sb.Append("-- ").Append(name).Append(": ").AppendLine(text);
            if (connection is SqliteConnection)
            {
                var rows = await connection.QueryAsync<(long Id, long Parent, long NotUsed, string Detail)>(
                    new CommandDefinition("EXPLAIN QUERY PLAN " + text, parameters, transaction: tx, cancellationToken: ct));
                foreach (var row in rows) sb.Append("   ").AppendLine(row.Detail);
            }
            else
            {
                foreach (var line in connection.Query<string>(new CommandDefinition("EXPLAIN " + text, parameters, transaction: tx, cancellationToken: ct)))
                    sb.Append("   ").AppendLine(line);
            }
        }
        return sb.ToString();
    }

    // The engine runs interactions synchronously (FhirSearch waits on these tasks). Microsoft.Data.Sqlite completes its
    // async calls synchronously anyway; Npgsql's would complete on another thread-pool thread, which a thread blocked
    // waiting for it may starve (seen under concurrent writes). So on PostgreSQL the calls are made synchronously.
    private static bool Blocking(DbConnection connection) => connection is not SqliteConnection;

    private static async Task<int> ScalarAsync(DbConnection connection, CommandDefinition command) =>
        Blocking(connection) ? connection.ExecuteScalar<int>(command) : await connection.ExecuteScalarAsync<int>(command);

    private static async Task<IEnumerable<T>> QueryAsync<T>(DbConnection connection, CommandDefinition command) =>
        Blocking(connection) ? connection.Query<T>(command) : await connection.QueryAsync<T>(command);

    private static async Task<DbDataReader> ReaderAsync(DbConnection connection, CommandDefinition command) =>
        Blocking(connection) ? (DbDataReader)connection.ExecuteReader(command) : await connection.ExecuteReaderAsync(command);

    private static async Task<bool> ReadAsync(DbDataReader reader, CancellationToken ct) =>
        reader is SqliteDataReader ? await reader.ReadAsync(ct) : reader.Read();

    /// <summary>
    /// Without an explicit _total=accurate, counting stops here and a larger result has no total (R4 lets a
    /// server leave it out): an exact count of a very large result costs more than the page itself.
    /// </summary>
    public const int AutoTotalLimit = 1_000;

    private static async Task<int> CountAsync(DbConnection connection, DbTransaction? tx, SqlCompiler sql, QueryPlan plan, CancellationToken ct) =>
        await ScalarAsync(connection, new CommandDefinition(plan.CountSql, sql.Parameters, transaction: tx, cancellationToken: ct));

    /// <summary>The count, or null when <paramref name="limit"/> is given and more resources match.</summary>
    private static async Task<int?> CountAsync(DbConnection connection, DbTransaction? tx, SqlCompiler sql, QueryPlan plan, int? limit, CancellationToken ct)
    {
        if (limit is null) return await CountAsync(connection, tx, sql, plan, ct);
        const string prefix = "SELECT count(*) FROM ";
        string Bounded(string countSql) => "SELECT count(*) FROM (SELECT 1 FROM " + countSql[prefix.Length..] + $" LIMIT {limit.Value + 1}) b";
        if (plan.FirstRowsCountSql is { } first &&
            await ScalarAsync(connection, new CommandDefinition(Bounded(first), sql.Parameters, transaction: tx, cancellationToken: ct)) > limit)
            return null;
        var bounded = Bounded(plan.CountSql);
        var count = await ScalarAsync(connection, new CommandDefinition(bounded, sql.Parameters, transaction: tx, cancellationToken: ct));
        return count > limit ? null : count;
    }

    private sealed record PageRow(long Key, object?[] SortValues);

    private static async Task<List<PageRow>> PageAsync(
        DbConnection connection, DbTransaction? tx, SqlCompiler sql, SearchRequest request, string from, string where, SearchCursor? cursor,
        bool backward, int limit, CancellationToken ct)
    {
        var (text, parameters) = PageSql(sql, request, from, where, cursor, backward, limit);
        var rows = new List<PageRow>();
        await using var reader = await ReaderAsync(connection, new CommandDefinition(text, parameters, transaction: tx, cancellationToken: ct));
        while (await ReadAsync(reader, ct))
        {
            var values = new object?[request.Sort.Count];
            for (var i = 0; i < values.Length; i++)
                values[i] = reader.IsDBNull(i + 1) ? null : SortSql.ValueKind(request.Sort[i]) switch
                {
                    SortValueKind.Integer => reader.GetInt64(i + 1),
                    SortValueKind.Real => reader.GetDouble(i + 1),
                    _ => reader.GetString(i + 1),
                };
            rows.Add(new PageRow(reader.GetInt64(0), values));
        }
        return rows;
    }

    /// <summary>The page query: rows after (or, <paramref name="backward"/>, before) the cursor in the result order.</summary>
    private static (string Sql, DynamicParameters Parameters) PageSql(
        SqlCompiler sql, SearchRequest request, string from, string where, SearchCursor? cursor, bool backward, int limit)
    {
        if (request.Sort.Count == 0)
        {
            var keyset = cursor is null ? "" : $" AND r.res_key {(backward ? "<" : ">")} {sql.Add(cursor.Key)}";
            return ($"SELECT r.res_key FROM {from} WHERE {where}{keyset} ORDER BY r.res_key {(backward ? "DESC" : "ASC")} LIMIT {limit}",
                sql.Parameters);
        }

        var select = string.Join(", ", request.Sort.Select((k, i) => $"{sql.SortExpression(k, "r")} AS s{i}"));
        var order = string.Join(", ", request.Sort.Select((k, i) =>
            (k.Descending != backward ? $"s{i} DESC" : $"s{i} ASC") + (backward ? " NULLS FIRST" : " NULLS LAST")));
        var keysetSql = cursor is null ? "" : " WHERE " + Keyset(sql, request.Sort, cursor, backward);
        var text = $"SELECT k{string.Concat(request.Sort.Select((_, i) => $", s{i}"))} FROM " +
                   $"(SELECT r.res_key AS k, {select} FROM {from} WHERE {where}) q{keysetSql} " +
                   $"ORDER BY {order}, k {(backward ? "DESC" : "ASC")} LIMIT {limit}";
        return (text, sql.Parameters);
    }

    /// <summary>
    /// Rows strictly after (or before) the cursor in the order "sort keys with NULLs last, then res_key ascending":
    /// OR over i of (keys before i equal AND key i beyond), or all keys equal and res_key beyond.
    /// </summary>
    private static string Keyset(SqlCompiler sql, IReadOnlyList<SortKey> sort, SearchCursor c, bool backward)
    {
        var alternatives = new List<string>();
        var equal = new List<string>();
        for (var i = 0; i < sort.Count; i++)
        {
            var s = $"s{i}";
            var v = c.Values[i];
            string beyond;
            if (!backward)
                beyond = v is null ? sql.Dialect.False : $"({s} {(sort[i].Descending ? "<" : ">")} {sql.Add(v)} OR {s} IS NULL)";
            else
                beyond = v is null ? $"{s} IS NOT NULL" : $"{s} {(sort[i].Descending ? ">" : "<")} {sql.Add(v)}";
            alternatives.Add("(" + string.Join(" AND ", equal.Append(beyond)) + ")");
            equal.Add(v is null ? $"{s} IS NULL" : $"{s} = {sql.Add(v)}");
        }
        alternatives.Add("(" + string.Join(" AND ", equal.Append($"k {(backward ? "<" : ">")} {sql.Add(c.Key)}")) + ")");
        return "(" + string.Join(" OR ", alternatives) + ")";
    }

    private static async Task<bool> ExistsAsync(DbConnection connection, DbTransaction? tx, SearchRequest request, SearchCursor from, CancellationToken ct)
    {
        // The WHERE text refers to parameters of the compiler that built it; rebuild it in a fresh compiler.
        var sql = new SqlCompiler(request, SqlDialect.For(connection));
        var rebuilt = await BuildAsync(connection, tx, sql, request, request.Sort.Count == 0, ct);
        var (text, parameters) = PageSql(sql, request, rebuilt.From, rebuilt.Where, from, from.Before, 1);
        var found = await QueryAsync<long>(connection, new CommandDefinition(text, parameters, transaction: tx, cancellationToken: ct));
        return found.Any();
    }

    private static async Task<List<StoredResource>> LoadAsync(DbConnection connection, DbTransaction? tx, IReadOnlyList<long> keys, CancellationToken ct)
    {
        if (keys.Count == 0) return [];
        await using var cmd = connection.CreateCommand();
        cmd.Transaction = tx;
        var dialect = SqlDialect.For(connection);
        cmd.CommandText = $"SELECT {Columns} FROM resources WHERE {dialect.InList("res_key", "@keys")}";
        var p = cmd.CreateParameter();
        p.ParameterName = "@keys";
        p.Value = dialect.ListValue(keys);
        cmd.Parameters.Add(p);
        var byKey = new Dictionary<long, StoredResource>(keys.Count);
        await using var reader = Blocking(connection) ? cmd.ExecuteReader() : await cmd.ExecuteReaderAsync(ct);
        while (await ReadAsync(reader, ct)) byKey[reader.GetInt64(0)] = Read(reader);
        return keys.Where(byKey.ContainsKey).Select(k => byKey[k]).ToList();
    }

    private static StoredResource Read(DbDataReader r) => new(
        r.GetInt64(0), r.GetString(1), r.GetString(2), (int)r.GetInt64(3), r.GetInt64(4), r.GetInt64(5) != 0,
        r.IsDBNull(6) ? null : r.GetString(6));

    /// <summary>
    /// _include and _revinclude for the page: first from the matches, then :iterate rounds from what was just added.
    /// Every candidate passes the request's type limit and restrictions before it is loaded.
    /// </summary>
    private static async Task<List<StoredResource>> IncludeAsync(
        DbConnection connection, DbTransaction? tx, SearchRequest request, IReadOnlyList<StoredResource> matches, CancellationToken ct)
    {
        if (matches.Count == 0 || (request.Includes.Count == 0 && request.RevIncludes.Count == 0)) return [];
        var seen = new HashSet<long>(matches.Select(m => m.ResKey));
        var included = new List<StoredResource>();
        IReadOnlyList<StoredResource> sources = matches;
        for (var round = 0; round <= MaxIncludeIterations && sources.Count > 0 && included.Count < MaxIncluded; round++)
        {
            var specs = request.Includes.Concat(request.RevIncludes).Where(s => round == 0 || s.Iterate).ToList();
            if (specs.Count == 0) break;
            var candidates = new List<(long Key, string Type)>();
            foreach (var spec in specs)
            {
                var keys = spec.Reverse
                    ? sources.Select(s => s.ResKey).ToList()
                    : sources.Where(s => s.Type == spec.SourceType).Select(s => s.ResKey).ToList();
                if (keys.Count == 0) continue;
                candidates.AddRange(await IncludeCandidatesAsync(connection, tx, spec, keys, ct));
            }
            var fresh = candidates.Where(c => seen.Add(c.Key)).ToList();
            var allowed = await FilterRestrictedAsync(connection, tx, request, fresh, ct);
            var loaded = await LoadAsync(connection, tx, allowed.Take(MaxIncluded - included.Count).ToList(), ct);
            included.AddRange(loaded);
            sources = loaded;
        }
        return included;
    }

    private static async Task<IEnumerable<(long Key, string Type)>> IncludeCandidatesAsync(
        DbConnection connection, DbTransaction? tx, IncludeSpec spec, IReadOnlyList<long> keys, CancellationToken ct)
    {
        var dialect = SqlDialect.For(connection);
        var p = new DynamicParameters();
        p.Add("@keys", dialect.ListValue(keys));
        p.Add("@pids", dialect.ListValue(spec.Params.Select(x => x.Id)));
        p.Add("@target", spec.TargetType, System.Data.DbType.String);
        p.Add("@limit", MaxIncluded);
        var text = spec.Reverse
            ? "SELECT DISTINCT x.res_key, s.type FROM resources m " +
              $"JOIN idx_reference x ON {dialect.InList("x.param_id", "@pids")} AND x.target_id = m.id AND x.target_type = m.type " +
              "JOIN resources s ON s.res_key = x.res_key " +
              $"WHERE {dialect.InList("m.res_key", "@keys")} AND s.deleted = 0 AND (@target IS NULL OR m.type = @target) " +
              "ORDER BY x.res_key LIMIT @limit"
            : "SELECT DISTINCT t.res_key, t.type FROM idx_reference x " +
              "JOIN resources t ON t.type = x.target_type AND t.id = x.target_id " +
              $"WHERE {dialect.InList("x.res_key", "@keys")} AND {dialect.InList("x.param_id", "@pids")} " +
              "AND t.deleted = 0 AND (@target IS NULL OR x.target_type = @target) ORDER BY t.res_key LIMIT @limit";
        var rows = await QueryAsync<(long, string)>(connection, new CommandDefinition(text, p, transaction: tx, cancellationToken: ct));
        return rows;
    }

    private static async Task<List<long>> FilterRestrictedAsync(
        DbConnection connection, DbTransaction? tx, SearchRequest request, List<(long Key, string Type)> candidates, CancellationToken ct)
    {
        var result = new HashSet<long>();
        foreach (var group in candidates.GroupBy(c => c.Type))
        {
            var sql = new SqlCompiler(request, SqlDialect.For(connection));
            var restriction = sql.RestrictionRow(group.Key, "r");
            if (restriction is null)
            {
                result.UnionWith(group.Select(c => c.Key));
                continue;
            }
            if (restriction == sql.Dialect.False) continue;
            var keys = sql.InList("r.res_key", group.Select(c => c.Key));
            var passed = await QueryAsync<long>(connection, new CommandDefinition(
                $"SELECT r.res_key FROM resources r WHERE {keys} AND {restriction}",
                sql.Parameters, transaction: tx, cancellationToken: ct));
            result.UnionWith(passed);
        }
        return candidates.Where(c => result.Contains(c.Key)).Select(c => c.Key).ToList();
    }
}
