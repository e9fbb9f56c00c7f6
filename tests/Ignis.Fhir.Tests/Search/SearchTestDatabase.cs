using Dapper;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Storage;
using Ignis.Fhir.Tests.Providers;
using Microsoft.Data.Sqlite;
using Shouldly;

namespace Ignis.Fhir.Tests.Search;

/// <summary>
/// A real database — a SQLite file in a temp folder, or emptied tables of a PostgreSQL test database — with helpers
/// that write resource rows and index rows directly.
/// </summary>
public sealed class SearchTestDatabase : IDisposable
{
    private readonly string? _dir;
    private static readonly SearchParameterRegistry Registry = SearchParameterRegistry.Default;
    private long _clock = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).Ticks;

    public SearchTestDatabase()
    {
        _dir = Path.Combine(Path.GetTempPath(), "ignis-search-" + Guid.NewGuid().ToString("N"));
        var database = new FhirDatabase(Path.Combine(_dir, "test.db"));
        database.Migrate();
        Connection = database.Open();
        Kind = StoreKind.Sqlite;
    }

    /// <summary>On the PostgreSQL database of <paramref name="fixture"/>, emptied (skips or fails the test without a server).</summary>
    public SearchTestDatabase(PostgresFixture fixture)
    {
        TestPostgres.RequireAdmin();
        Connection = fixture.Reset().OpenConnection();
        Kind = StoreKind.Postgres;
    }

    public StoreKind Kind { get; }
    public System.Data.Common.DbConnection Connection { get; }

    /// <summary>A text expression as a value of the body column (PostgreSQL's json takes no text without a cast).</summary>
    public string Body(string expression) => Kind == StoreKind.Postgres ? $"CAST({expression} AS json)" : expression;

    public static int Pid(string type, string code) =>
        (Registry.Find(type, code) ?? throw new ArgumentException($"{type}.{code} is not a search parameter")).Id;

    /// <summary>Creates or updates (same res_key, next version) a resource and replaces its index rows.</summary>
    public long Put(string type, string id, Action<IndexBuilder>? index = null, DateTime? lastUpdated = null)
    {
        var updated = lastUpdated?.Ticks ?? (_clock += TimeSpan.TicksPerSecond);
        var body = $$"""{"resourceType":"{{type}}","id":"{{id}}"}""";
        using var tx = Connection.BeginTransaction();
        var existing = Connection.QuerySingleOrDefault<long?>(
            "SELECT res_key FROM resources WHERE type = @type AND id = @id", new { type, id }, tx);
        long key;
        if (existing is { } k)
        {
            key = k;
            Connection.Execute($"UPDATE resources SET version = version + 1, last_updated = @updated, deleted = 0, body = {Body("@body")} WHERE res_key = @key",
                new { updated, body, key }, tx);
            foreach (var table in IndexTables)
                Connection.Execute($"DELETE FROM {table} WHERE res_key = @key", new { key }, tx);
        }
        else
        {
            key = Connection.ExecuteScalar<long>(
                $"INSERT INTO resources(type, id, version, last_updated, deleted, body) VALUES (@type, @id, 1, @updated, 0, {Body("@body")}) RETURNING res_key",
                new { type, id, updated, body }, tx);
        }
        var builder = new IndexBuilder(type);
        index?.Invoke(builder);
        Write(key, builder.Index, tx);
        tx.Commit();
        return key;
    }

    public void Delete(string type, string id)
    {
        using var tx = Connection.BeginTransaction();
        var key = Connection.QuerySingle<long>("SELECT res_key FROM resources WHERE type = @type AND id = @id", new { type, id }, tx);
        Connection.Execute("UPDATE resources SET deleted = 1, body = NULL, version = version + 1 WHERE res_key = @key", new { key }, tx);
        foreach (var table in IndexTables)
            Connection.Execute($"DELETE FROM {table} WHERE res_key = @key", new { key }, tx);
        tx.Commit();
    }

    private static readonly string[] IndexTables =
        ["idx_string", "idx_token", "idx_date", "idx_number", "idx_quantity", "idx_reference", "idx_uri", "idx_composite"];

    private void Write(long key, ResourceIndex ix, System.Data.Common.DbTransaction tx)
    {
        foreach (var e in ix.Strings)
            Connection.Execute("INSERT INTO idx_string VALUES (@key, @ParamId, @ValueNorm, @Value)", new { key, e.ParamId, e.ValueNorm, e.Value }, tx);
        foreach (var e in ix.Tokens)
            Connection.Execute("INSERT INTO idx_token VALUES (@key, @ParamId, @System, @Code, @Text, @TypeSystem, @TypeCode)",
                new { key, e.ParamId, e.System, e.Code, e.Text, e.TypeSystem, e.TypeCode }, tx);
        foreach (var e in ix.Dates)
            Connection.Execute("INSERT INTO idx_date VALUES (@key, @ParamId, @Lo, @Hi)", new { key, e.ParamId, e.Lo, e.Hi }, tx);
        foreach (var e in ix.Numbers)
            Connection.Execute("INSERT INTO idx_number VALUES (@key, @ParamId, @Lo, @Hi)", new { key, e.ParamId, e.Lo, e.Hi }, tx);
        foreach (var e in ix.Quantities)
            Connection.Execute("INSERT INTO idx_quantity VALUES (@key, @ParamId, @System, @Code, @Lo, @Hi)",
                new { key, e.ParamId, e.System, e.Code, e.Lo, e.Hi }, tx);
        foreach (var e in ix.References)
            Connection.Execute("INSERT INTO idx_reference VALUES (@key, @ParamId, @TargetType, @TargetId, @Url, @UrlVersion)",
                new { key, e.ParamId, e.TargetType, e.TargetId, e.Url, e.UrlVersion }, tx);
        foreach (var e in ix.Uris)
            Connection.Execute("INSERT INTO idx_uri VALUES (@key, @ParamId, @Uri)", new { key, e.ParamId, e.Uri }, tx);
        foreach (var e in ix.Composites)
            Connection.Execute(
                "INSERT INTO idx_composite VALUES (@key, @ParamId, @s1, @c1, @lo1, @hi1, @s2, @c2, @lo2, @hi2, @s3, @c3, @lo3, @hi3)",
                new
                {
                    key, e.ParamId,
                    s1 = e.C1.System, c1 = e.C1.Code, lo1 = e.C1.Lo, hi1 = e.C1.Hi,
                    s2 = e.C2.System, c2 = e.C2.Code, lo2 = e.C2.Lo, hi2 = e.C2.Hi,
                    s3 = e.C3?.System, c3 = e.C3?.Code, lo3 = e.C3?.Lo, hi3 = e.C3?.Hi,
                }, tx);
    }

    /// <summary>Runs a type-level (or, with a null type, system-level) search parsed strictly.</summary>
    public async Task<SearchResult> Search(string? type, string query, Action<SearchRequest>? configure = null)
    {
        var request = SearchParser.Parse(type, SearchEngine.ParseQueryString(query), SearchHandling.Strict);
        request.Issues.ShouldBeEmpty();
        configure?.Invoke(request);
        return await SearchEngine.ExecuteAsync(Connection, request, TestContext.Current.CancellationToken);
    }

    /// <summary>The ids matched, in order (first page).</summary>
    public async Task<List<string>> Ids(string type, string query, Action<SearchRequest>? configure = null) =>
        (await Search(type, query, configure)).Matches.Select(m => m.Id).ToList();

    public void Dispose()
    {
        Connection.Dispose();
        if (_dir is null) return;
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_dir, recursive: true); }
        catch (IOException) { }
    }
}

/// <summary>Index rows of one resource, in the shapes the extractor produces.</summary>
public sealed class IndexBuilder(string type)
{
    public ResourceIndex Index { get; } = new();

    private int P(string code) => SearchTestDatabase.Pid(type, code);

    public IndexBuilder String(string code, string value)
    {
        Index.Strings.Add(new StringEntry(P(code), SearchValues.NormalizeString(value), value));
        return this;
    }

    public IndexBuilder Token(string code, string? system, string? value, string? text = null, string? typeSystem = null, string? typeCode = null)
    {
        Index.Tokens.Add(new TokenEntry(P(code), system, value, text is null ? null : SearchValues.NormalizeString(text), typeSystem, typeCode));
        return this;
    }

    public IndexBuilder Date(string code, string value)
    {
        SearchValues.TryParseDateRange(value, out var lo, out var hi).ShouldBeTrue();
        Index.Dates.Add(new DateEntry(P(code), lo, hi));
        return this;
    }

    public IndexBuilder Period(string code, string start, string end)
    {
        SearchValues.TryParseDateRange(start, out var lo, out _).ShouldBeTrue();
        SearchValues.TryParseDateRange(end, out _, out var hi).ShouldBeTrue();
        Index.Dates.Add(new DateEntry(P(code), lo, hi));
        return this;
    }

    public IndexBuilder Number(string code, string value)
    {
        SearchValues.TryParseDecimal(value, out var d).ShouldBeTrue();
        var (lo, hi) = SearchValues.NumberRange(d);
        Index.Numbers.Add(new NumberEntry(P(code), lo, hi));
        return this;
    }

    public IndexBuilder Quantity(string code, string value, string? system, string? unit)
    {
        SearchValues.TryParseDecimal(value, out var d).ShouldBeTrue();
        var (lo, hi) = SearchValues.NumberRange(d);
        Index.Quantities.Add(new QuantityEntry(P(code), system, unit, lo, hi));
        return this;
    }

    public IndexBuilder Ref(string code, string reference)
    {
        if (reference.Contains("://", StringComparison.Ordinal))
        {
            var bar = reference.IndexOf('|');
            Index.References.Add(bar < 0
                ? new ReferenceEntry(P(code), null, null, reference)
                : new ReferenceEntry(P(code), null, null, reference[..bar], reference[(bar + 1)..]));
        }
        else
        {
            var parts = reference.Split('/');
            Index.References.Add(new ReferenceEntry(P(code), parts[0], parts[1], null));
        }
        return this;
    }

    public IndexBuilder Uri(string code, string uri)
    {
        Index.Uris.Add(new UriEntry(P(code), uri));
        return this;
    }

    public IndexBuilder Composite(string code, CompositePart c1, CompositePart c2)
    {
        Index.Composites.Add(new CompositeEntry(P(code), c1, c2, null));
        return this;
    }
}
