using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Threading.Channels;
using Ignis.Bench.Generator;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Ignis.Fhir.Storage.Postgres;
using Npgsql;
using NpgsqlTypes;

// Bulk loader for the PostgreSQL FHIR schema: the generator's deterministic records (same seed, same ids as
// Ignis.Bench.Generator) go through the engine's own write path — FhirService executing a PUT of each resource,
// which parses the body as the server does, sets id and meta, extracts the index rows with ResourceIndexer and
// serializes the stored JSON — against a store that captures what the engine hands to IResourceStore.Write.
// The captured rows are written with binary COPY by parallel workers, the secondary indexes dropped during the
// load and re-created afterwards from the definitions the migrations made (so the schema is the migrated one).
//
//   load:   Ignis.Bench.PgLoad load CONNSTRING [--resources N] [--seed S] [--workers W] [--batch R]
//                                   [--time-limit SECONDS] [--lists DIR] [--resume]
//           --resume continues an interrupted load (secondary indexes still dropped, their definitions in
//           DIR/secondary-indexes.sql) after the resources already there, which must be keys 1..K.
//   engine: Ignis.Bench.PgLoad engine CONNSTRING [--resources N]   (the same records through the real
//           PostgresFhirStore, one PUT at a time: the reference the bulk load is compared with)
var mode = args.Length > 1 ? args[0] : "";
if (mode is not ("load" or "engine"))
{
    Console.Error.WriteLine("usage: Ignis.Bench.PgLoad load|engine CONNSTRING [--resources N] [--seed S] [--workers W] [--batch R] [--time-limit S] [--lists DIR]");
    return 2;
}
var cs = args[1];
long resources = 20_000;
ulong seed = 20_251;
var workers = 3;
var batchSize = 5_000;
var timeLimit = 86_400;
string? listsDir = null;
var resume = false;
for (var i = 2; i < args.Length; i++)
{
    string V() => args[++i];
    switch (args[i])
    {
        case "--resources": resources = long.Parse(V(), CultureInfo.InvariantCulture); break;
        case "--seed": seed = ulong.Parse(V(), CultureInfo.InvariantCulture); break;
        case "--workers": workers = int.Parse(V(), CultureInfo.InvariantCulture); break;
        case "--batch": batchSize = int.Parse(V(), CultureInfo.InvariantCulture); break;
        case "--time-limit": timeLimit = int.Parse(V(), CultureInfo.InvariantCulture); break;
        case "--lists": listsDir = V(); break;
        case "--resume": resume = true; break;
        default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
    }
}

var registry = SearchParameterRegistry.Default;
var indexer = new ResourceIndexer(registry);
var search = new FhirSearch(registry);
var total = Stopwatch.StartNew();

if (mode == "engine")
{
    // Reference load: the server's own store, one PUT per resource.
    using var pg = new PostgresFhirStore(cs);
    pg.Migrate();
    var service = new FhirService(pg, registry, indexer.Extract, search);
    long done = 0;
    foreach (var r in Records(seed, resources))
    {
        var response = await service.ExecuteAsync(Put(r), "http://127.0.0.1/fhir");
        if (response.Status is not (200 or 201)) throw new InvalidOperationException($"{r.Type}/{r.Id}: HTTP {response.Status}");
        done++;
    }
    Console.WriteLine($"engine: {done:N0} resources through PostgresFhirStore in {total.Elapsed.TotalSeconds:F1} s");
    return 0;
}

// ---- load ----
var store = new PostgresFhirStore(cs);
store.Migrate();
long present = 0;
using (var c = store.OpenConnection())
{
    using var check = new NpgsqlCommand("SELECT count(*), coalesce(max(res_key), 0), (SELECT count(*) FROM history), (SELECT coalesce(max(seq), 0) FROM history) FROM resources", c);
    using var reader = check.ExecuteReader();
    reader.Read();
    present = reader.GetInt64(0);
    if (present > 0 && !resume) { Console.Error.WriteLine("the database already holds resources; load into an empty one (or --resume)"); return 1; }
    if (present != reader.GetInt64(1) || present != reader.GetInt64(2) || present != reader.GetInt64(3))
    {
        Console.Error.WriteLine($"cannot resume: {present} resources but keys up to {reader.GetInt64(1)}, {reader.GetInt64(2)} history rows up to {reader.GetInt64(3)}");
        return 1;
    }
}

// The secondary indexes as the migrations made them (not those backing a primary key or unique constraint).
List<(string Name, string Def)> indexes = [];
if (resume)
{
    foreach (var line in File.ReadAllLines(Path.Combine(listsDir ?? ".", "secondary-indexes.sql")).Where(l => l.Length > 0))
    {
        var words = line.Split(' ');
        indexes.Add((words[words[1] == "UNIQUE" ? 3 : 2], line.TrimEnd(';')));
    }
    Console.WriteLine($"resuming after {present:N0} resources; {indexes.Count} secondary indexes to create at the end");
}
else
using (var c = store.OpenConnection())
{
    using (var cmd = new NpgsqlCommand(
        "SELECT i.indexname, i.indexdef FROM pg_indexes i WHERE i.schemaname = 'public' AND i.tablename <> 'ignis_fhir_schema' " +
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = (quote_ident(i.schemaname) || '.' || quote_ident(i.indexname))::regclass) " +
        "ORDER BY i.tablename, i.indexname", c))
    using (var reader = cmd.ExecuteReader())
        while (reader.Read()) indexes.Add((reader.GetString(0), reader.GetString(1)));
    Directory.CreateDirectory(listsDir ?? ".");
    File.WriteAllLines(Path.Combine(listsDir ?? ".", "secondary-indexes.sql"), indexes.Select(x => x.Def + ";"));
    foreach (var (name, _) in indexes)
        using (var drop = new NpgsqlCommand($"DROP INDEX {name}", c)) drop.ExecuteNonQuery();
}
if (!resume) Console.WriteLine($"dropped {indexes.Count} secondary indexes for the load (definitions in {Path.Combine(listsDir ?? ".", "secondary-indexes.sql")})");

var capture = new CaptureStore();
var engine = new FhirService(capture, registry, indexer.Extract, search);
var channel = Channel.CreateBounded<Batch>(new BoundedChannelOptions(workers * 2) { SingleWriter = true });
using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(timeLimit));
long loaded = 0, indexRows = 0, lastKeyCommitted = present;
var committed = new ConcurrentDictionary<long, long>(); // batch first key -> count, for the contiguous prefix
var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);

var producer = Task.Run(async () =>
{
    long key = 1, n = 1;
    // Resume: skip the records already loaded (and the part of one a --resources limit may have cut).
    while (key <= present)
    {
        var size = ClinicalData.Record(seed, n).Count;
        if (key + size > present + 1) break;
        key += size;
        n++;
    }
    var skip = present + 1 - key; // resources of record n already loaded
    key = present + 1;
    var pending = new List<GeneratedResource>(batchSize + 40);
    while (key + pending.Count <= resources && !deadline.IsCancellationRequested)
    {
        // Whole patient records per batch, so a batch boundary is a record boundary.
        foreach (var r in ClinicalData.Record(seed, n).Skip((int)skip))
        {
            if (key + pending.Count > resources) break;
            pending.Add(r);
        }
        skip = 0;
        n++;
        if (pending.Count >= batchSize || key + pending.Count > resources)
        {
            await channel.Writer.WriteAsync(new Batch(key, pending.ToArray()));
            key += pending.Count;
            pending.Clear();
        }
    }
    if (pending.Count > 0 && !deadline.IsCancellationRequested) await channel.Writer.WriteAsync(new Batch(key, pending.ToArray()));
    channel.Writer.Complete();
});

async Task Worker()
{
    await using var connection = store.OpenConnection();
    while (await channel.Reader.WaitToReadAsync())
    {
        if (!channel.Reader.TryRead(out var batch)) continue;
        if (deadline.IsCancellationRequested) continue; // drain: batches not started are not loaded
        var rows = new List<Row>(batch.Resources.Length);
        for (var i = 0; i < batch.Resources.Length; i++)
        {
            var r = batch.Resources[i];
            CaptureStore.Sink.Value = (batch.FirstKey + i, rows);
            var response = await engine.ExecuteAsync(Put(r), "http://127.0.0.1/fhir");
            if (response.Status != 201) throw new InvalidOperationException($"{r.Type}/{r.Id}: engine answered {response.Status}");
        }
        var ix = Copy(connection, rows);
        Interlocked.Add(ref loaded, rows.Count);
        Interlocked.Add(ref indexRows, ix);
        committed[batch.FirstKey] = rows.Count;
        lock (counts)
            foreach (var r in batch.Resources) counts[r.Type] = counts.GetValueOrDefault(r.Type) + 1;
    }
}

var tasks = Enumerable.Range(0, workers).Select(_ => Task.Run(Worker)).ToList();
var all = Task.WhenAll(tasks.Append(producer));
long lastLoaded = 0;
var lastT = 0.0;
while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(30))) != all)
{
    var d = Interlocked.Read(ref loaded);
    var t = total.Elapsed.TotalSeconds;
    Console.WriteLine($"  {t,7:F0} s  {d,11:N0} resources  {(d - lastLoaded) / (t - lastT),7:N0}/s now  {d / t,7:N0}/s overall  {Interlocked.Read(ref indexRows),12:N0} index rows");
    (lastLoaded, lastT) = (d, t);
}
await all;
var loadSeconds = total.Elapsed.TotalSeconds;
// Every committed batch is a contiguous key range; with a time limit the last ones may have been skipped, but
// batches are handed out in order and each either commits whole or not at all.
foreach (var (first, count) in committed.OrderBy(kv => kv.Key))
    if (first == lastKeyCommitted + 1) lastKeyCommitted = first + count - 1;
Console.WriteLine($"loaded {loaded:N0} resources ({indexRows:N0} index rows) in {loadSeconds:F0} s: {loaded / loadSeconds:N0}/s; " +
                  $"keys 1..{lastKeyCommitted:N0} contiguous{(present + loaded != lastKeyCommitted ? " (NOT all keys contiguous!)" : "")}");
Console.WriteLine("  " + string.Join(", ", counts.Select(kv => $"{kv.Key} {kv.Value:N0}")));

using (var c = store.OpenConnection())
{
    void Run(string sql, string what)
    {
        var sw = Stopwatch.StartNew();
        using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 0 };
        cmd.ExecuteNonQuery();
        Console.WriteLine($"  {what}: {sw.Elapsed.TotalSeconds:F0} s");
    }
    Run("SELECT setval(pg_get_serial_sequence('resources', 'res_key'), (SELECT max(res_key) FROM resources))", "resources identity");
    Run("SELECT setval(pg_get_serial_sequence('history', 'seq'), (SELECT max(seq) FROM history))", "history identity");
    foreach (var (name, def) in indexes) Run(def, name);
    Run("ANALYZE", "ANALYZE");
}
Console.WriteLine($"RESULT resources={loaded} load_seconds={loadSeconds:F0} total_seconds={total.Elapsed.TotalSeconds:F0} workers={workers} batch={batchSize}");

if (listsDir is not null)
{
    // The generator's lists (Ignis.Bench.Generator WriteLists), read back from the database: every Patient id; the
    // 3-letter prefixes of family and given names (ASCII names, so lower() = ToLowerInvariant) with how many
    // patients each matches; resources per type.
    Directory.CreateDirectory(listsDir);
    using var c = store.OpenConnection();
    List<string> Query(string sql)
    {
        using var cmd = new NpgsqlCommand(sql, c) { CommandTimeout = 0 };
        using var reader = cmd.ExecuteReader();
        var lines = new List<string>();
        while (reader.Read()) lines.Add(reader.GetString(0));
        return lines;
    }
    File.WriteAllLines(Path.Combine(listsDir, "patients.txt"), Query("SELECT id FROM resources WHERE type = 'Patient' ORDER BY id"));
    const string prefixes = "SELECT p, count(*) AS n FROM (SELECT DISTINCT r.res_key, lower(left(x.part, 3)) AS p FROM resources r, " +
        "LATERAL (SELECT r.body->'name'->0->>'family' AS part UNION ALL SELECT json_array_elements_text(r.body->'name'->0->'given')) x " +
        "WHERE r.type = 'Patient' AND length(x.part) >= 3) d GROUP BY p";
    File.WriteAllLines(Path.Combine(listsDir, "name-prefixes.txt"), Query($"SELECT p FROM ({prefixes}) q ORDER BY p"));
    File.WriteAllLines(Path.Combine(listsDir, "name-prefix-counts.tsv"), Query($"SELECT p || E'\\t' || n FROM ({prefixes}) q ORDER BY n DESC, p"));
    File.WriteAllLines(Path.Combine(listsDir, "resource-counts.tsv"), Query("SELECT type || E'\\t' || count(*) FROM resources GROUP BY type ORDER BY type"));
}
return 0;

static IEnumerable<GeneratedResource> Records(ulong seed, long count)
{
    long made = 0;
    for (long n = 1; made < count; n++)
        foreach (var r in ClinicalData.Record(seed, n))
        {
            if (made == count) yield break;
            made++;
            yield return r;
        }
}

// The request the server builds for PUT [type]/[id] with a JSON body (FhirEndpoints: FhirSerializer.Parse).
static FhirRequest Put(GeneratedResource r) => new()
{
    Interaction = Interaction.Update,
    Method = "PUT",
    Type = r.Type,
    Id = r.Id,
    Body = FhirSerializer.Parse(r.Json, FhirFormat.Json),
    Prefer = PreferReturn.Minimal,
};

// One COPY per table, all in one transaction: the columns PostgresResourceStore.Write fills.
static long Copy(NpgsqlConnection c, List<Row> rows)
{
    using var tx = c.BeginTransaction();
    using (var w = c.BeginBinaryImport("COPY resources (res_key, type, id, version, last_updated, deleted, body) FROM STDIN (FORMAT BINARY)"))
    {
        foreach (var r in rows)
        {
            w.StartRow();
            w.Write(r.Key, NpgsqlDbType.Bigint); w.Write(r.Type, NpgsqlDbType.Text); w.Write(r.Id, NpgsqlDbType.Text);
            w.Write(r.Version, NpgsqlDbType.Integer); w.Write(r.LastUpdated, NpgsqlDbType.Bigint); w.Write((short)0, NpgsqlDbType.Smallint);
            w.Write(r.Json, NpgsqlDbType.Json);
        }
        w.Complete();
    }
    using (var w = c.BeginBinaryImport("COPY history (seq, res_key, type, id, version, last_updated, method, body) FROM STDIN (FORMAT BINARY)"))
    {
        foreach (var r in rows)
        {
            w.StartRow();
            w.Write(r.Key, NpgsqlDbType.Bigint); w.Write(r.Key, NpgsqlDbType.Bigint); w.Write(r.Type, NpgsqlDbType.Text); w.Write(r.Id, NpgsqlDbType.Text);
            w.Write(r.Version, NpgsqlDbType.Integer); w.Write(r.LastUpdated, NpgsqlDbType.Bigint); w.Write(r.Method, NpgsqlDbType.Text);
            w.Write(r.Json, NpgsqlDbType.Json);
        }
        w.Complete();
    }
    long n = 0;
    n += Table(c, rows, "idx_string (res_key, param_id, value_norm, value)", x => x.Strings, (w, e) =>
    {
        w.Write(e.ParamId, NpgsqlDbType.Integer); Text(w, e.ValueNorm); Text(w, e.Value);
    });
    n += Table(c, rows, "idx_token (res_key, param_id, system, code, text, type_system, type_code)", x => x.Tokens, (w, e) =>
    {
        w.Write(e.ParamId, NpgsqlDbType.Integer); Text(w, e.System); Text(w, e.Code); Text(w, e.Text); Text(w, e.TypeSystem); Text(w, e.TypeCode);
    });
    n += Table(c, rows, "idx_date (res_key, param_id, lo, hi)", x => x.Dates, (w, e) =>
    {
        w.Write(e.ParamId, NpgsqlDbType.Integer); w.Write(e.Lo, NpgsqlDbType.Bigint); w.Write(e.Hi, NpgsqlDbType.Bigint);
    });
    n += Table(c, rows, "idx_number (res_key, param_id, lo, hi)", x => x.Numbers, (w, e) =>
    {
        w.Write(e.ParamId, NpgsqlDbType.Integer); w.Write(e.Lo, NpgsqlDbType.Double); w.Write(e.Hi, NpgsqlDbType.Double);
    });
    n += Table(c, rows, "idx_quantity (res_key, param_id, system, code, lo, hi)", x => x.Quantities, (w, e) =>
    {
        w.Write(e.ParamId, NpgsqlDbType.Integer); Text(w, e.System); Text(w, e.Code); w.Write(e.Lo, NpgsqlDbType.Double); w.Write(e.Hi, NpgsqlDbType.Double);
    });
    n += Table(c, rows, "idx_reference (res_key, param_id, target_type, target_id, url, url_version)", x => x.References, (w, e) =>
    {
        w.Write(e.ParamId, NpgsqlDbType.Integer); Text(w, e.TargetType); Text(w, e.TargetId); Text(w, e.Url); Text(w, e.UrlVersion);
    });
    n += Table(c, rows, "idx_uri (res_key, param_id, uri)", x => x.Uris, (w, e) =>
    {
        w.Write(e.ParamId, NpgsqlDbType.Integer); Text(w, e.Uri);
    });
    n += Table(c, rows, "idx_composite (res_key, param_id, c1_system, c1_code, c1_lo, c1_hi, c2_system, c2_code, c2_lo, c2_hi, c3_system, c3_code, c3_lo, c3_hi)",
        x => x.Composites, (w, e) =>
        {
            w.Write(e.ParamId, NpgsqlDbType.Integer);
            Part(w, e.C1); Part(w, e.C2);
            if (e.C3 is { } c3) Part(w, c3);
            else { w.WriteNull(); w.WriteNull(); w.WriteNull(); w.WriteNull(); }
        });
    tx.Commit();
    return n;

    static void Text(NpgsqlBinaryImporter w, string? s)
    {
        if (s is null) w.WriteNull(); else w.Write(s, NpgsqlDbType.Text);
    }

    static void Part(NpgsqlBinaryImporter w, CompositePart p)
    {
        Text(w, p.System); Text(w, p.Code);
        if (p.Lo is { } lo) w.Write(lo, NpgsqlDbType.Double); else w.WriteNull();
        if (p.Hi is { } hi) w.Write(hi, NpgsqlDbType.Double); else w.WriteNull();
    }
}

static long Table<T>(NpgsqlConnection c, List<Row> rows, string target, Func<ResourceIndex, List<T>> entries, Action<NpgsqlBinaryImporter, T> write)
{
    if (!rows.Any(r => entries(r.Index).Count > 0)) return 0;
    long n = 0;
    using var w = c.BeginBinaryImport($"COPY {target} FROM STDIN (FORMAT BINARY)");
    foreach (var r in rows)
        foreach (var e in entries(r.Index))
        {
            w.StartRow();
            w.Write(r.Key, NpgsqlDbType.Bigint);
            write(w, e);
            n++;
        }
    w.Complete();
    return n;
}

internal sealed record Batch(long FirstKey, GeneratedResource[] Resources);

internal sealed record Row(long Key, string Type, string Id, int Version, long LastUpdated, string Method, string Json, ResourceIndex Index);

/// <summary>
/// An IFhirStore whose write transaction records what the engine writes instead of sending it: the engine's
/// FhirService decides the stored JSON, version, time and index rows exactly as on the server's store.
/// </summary>
internal sealed class CaptureStore : IFhirStore, IResourceStore
{
    public static readonly AsyncLocal<(long Key, List<Row> Rows)> Sink = new();
    private readonly WriteGate _clock = new();

    public string Provider => "postgres";
    public string Location => "bulk load";
    public int LatestSchemaVersion => PostgresFhirStore.LatestVersion;
    public int Migrate() => LatestSchemaVersion;
    public IResourceSession OpenReader() => throw new NotSupportedException();
    public bool WritesMayRetry => false;
    public Task<T> WriteAsync<T>(Func<IResourceStore, T> work, CancellationToken ct) => Task.FromResult(work(this));
    public long NextTicks() => _clock.NextTicks();
    public bool IsUnavailable(Exception e) => false;

    public System.Data.Common.DbConnection Connection => throw new NotSupportedException();
    public System.Data.Common.DbTransaction? Transaction => null;
    public StoredResource? ReadCurrent(string type, string id) => null; // an empty database: every PUT creates
    public StoredResource? ReadVersion(string type, string id, int version) => null;

    public StoredResource Write(StoredResource? existing, string type, string id, int version, long lastUpdated, string method, string? json, ResourceIndex? index)
    {
        if (existing is not null || json is null || index is null) throw new InvalidOperationException("the bulk load only creates");
        var (key, rows) = Sink.Value;
        rows.Add(new Row(key, type, id, version, lastUpdated, method, json, index));
        return new StoredResource(key, type, id, version, lastUpdated, false, json);
    }

    public IReadOnlyList<(long Seq, string Method, StoredResource Resource)> History(string? type, string? id, long? since, long? at, long? beforeSeq, int limit) =>
        throw new NotSupportedException();
    public long CountHistory(string? type, string? id, long? since) => throw new NotSupportedException();
    public bool References(long key, int[] paramIds, string type, string id) => throw new NotSupportedException();
    public bool IsEmpty() => true;
    public void LockForConditionalWrite(string type) { }
    public void LockForWrite(IReadOnlyCollection<(string Type, string Id)> targets) { }
}
