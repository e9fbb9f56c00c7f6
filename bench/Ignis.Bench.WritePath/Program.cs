using System.Diagnostics;
using System.Globalization;
using Dapper;
using Hl7.Fhir.Model;
using Ignis.Bench.Generator;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Microsoft.Data.Sqlite;

// Where the time of a transaction write and of a read goes, one thread, in process, on the same
// generated records the HTTP benchmarks load (so no HTTP, no write gate, no contention):
//   dotnet run -c Release --project bench/Ignis.Bench.WritePath [RESOURCES] [READS]
// env: ONLY_GROUP=N runs only the store with N Bundles of 100 per transaction (N < 0: without a savepoint per Bundle),
//      three times; DROP_INDEXES=ix_a,ix_b drops those indexes after the migration (what an index costs a write);
//      TEMP_STORE=FILE|MEMORY overrides the writer's temp_store; SHOW_OPTIONS=1 prints SQLite's build options;
//      ENGINE=N parses and executes transaction Bundles of 100 through FhirService with N callers (EngineRun.cs).
var count = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 5_000;
var reads = args.Length > 1 ? int.Parse(args[1], CultureInfo.InvariantCulture) : 50_000;

var generated = new List<GeneratedResource>();
for (long n = 1; generated.Count < count; n++) generated.AddRange(ClinicalData.Record(20_251, n));
generated.RemoveRange(count, generated.Count - count);
Console.WriteLine($"{count:N0} generated resources, {generated.Sum(g => g.Json.Length) / count} bytes of JSON on average");
if (Environment.GetEnvironmentVariable("ENGINE") is { Length: > 0 } engine)
{
    EngineRun.Run(generated, int.Parse(engine, CultureInfo.InvariantCulture));
    return;
}

var registry = new SearchParameterRegistry();
var indexer = new ResourceIndexer(registry);

Resource[] parsed = [];
ResourceIndex[] indexes = [];
string[] json = [];
Measure("parse JSON (FhirSerializer.Parse)", () => parsed = [.. generated.Select(g => FhirSerializer.Parse(g.Json, FhirFormat.Json))]);
Measure("index extraction (ResourceIndexer.Extract)", () => indexes = [.. parsed.Select(indexer.Extract)]);
Measure("serialize (FhirSerializer.ToJson)", () => json = [.. parsed.Select(p => FhirSerializer.ToJson(p))]);

var rowsPerType = generated.Select((g, i) => (g.Type, Rows: Rows(indexes[i]))).GroupBy(x => x.Type)
    .Select(g => $"{g.Key} {g.Average(x => x.Rows):F1}");
Console.WriteLine($"  index rows per resource: {string.Join(", ", rowsPerType)}");

var dir = Path.Combine(Path.GetTempPath(), "ignis-writepath-" + Environment.ProcessId);
double LastCpu = 0;
try
{
    // Each measured load goes into a fresh database (inserts, as in the HTTP ingest benchmark).
    // group > 1: that many Bundles of 100 in one transaction, a savepoint each (SqliteFhirStore's group commit).
    double StoreRun(string synchronous, bool withIndex, bool cached = false, int group = 1, bool savepoints = true)
    {
        SqliteConnection.ClearAllPools(); // pooled connections would keep a deleted file open
        if (Directory.Exists(dir)) Directory.Delete(dir, true);
        var db = new FhirDatabase(Path.Combine(dir, "ignis.db"));
        db.Migrate();
        if (Environment.GetEnvironmentVariable("DROP_INDEXES") is { Length: > 0 } drop)
            using (var c = db.OpenWriter())
                foreach (var ix in drop.Split(',')) c.Execute($"DROP INDEX {ix}");
        if (Environment.GetEnvironmentVariable("SHOW_OPTIONS") == "1")
            using (var c = db.OpenWriter())
                Console.WriteLine("compile options: " + string.Join(" ", c.Query<string>("PRAGMA compile_options")) + "; temp_store=" + c.ExecuteScalar<long>("PRAGMA temp_store") + " version " + c.ServerVersion);
        var ticks = DateTime.UtcNow.Ticks;
        var sw = Stopwatch.StartNew();
        var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
        for (var start = 0; start < count; start += 100 * group)
        {
            using var connection = db.OpenWriter();
            if (synchronous != "FULL") connection.Execute($"PRAGMA synchronous={synchronous}");
            if (Environment.GetEnvironmentVariable("TEMP_STORE") is { } ts) connection.Execute($"PRAGMA temp_store={ts}");
            using var tx = connection.BeginTransaction();
            var store = new ResourceStore(connection, tx);
            using var writer = new CachedWriter(connection, tx);
            for (var b = start; b < Math.Min(count, start + 100 * group); b += 100)
            {
                if (group > 1 && savepoints) tx.Save("w");
                for (var i = b; i < Math.Min(count, b + 100); i++)
                {
                    if (cached) { writer.Insert(generated[i].Type, generated[i].Id, ticks++, json[i], indexes[i]); continue; }
                    var existing = store.ReadCurrent(generated[i].Type, generated[i].Id);
                    store.Write(existing, generated[i].Type, generated[i].Id, (existing?.Version ?? 0) + 1, ticks++, "PUT", json[i], withIndex ? indexes[i] : null);
                }
                if (group > 1 && savepoints) tx.Release("w");
            }
            tx.Commit();
        }
        LastCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / count;
        return sw.Elapsed.TotalMicroseconds / count;
    }
    StoreRun("FULL", true);
    if (Environment.GetEnvironmentVariable("ONLY_GROUP") is { } only)
    {
        var g = int.Parse(only, CultureInfo.InvariantCulture);
        for (var r = 0; r < 3; r++)
            Console.WriteLine($"group {g}: {StoreRun("FULL", true, group: Math.Abs(g), savepoints: g > 0):F1} µs/resource, CPU {LastCpu:F1} µs");
        return;
    }
    foreach (var (synchronous, withIndex, group) in new[] { ("FULL", true, 1), ("FULL", true, 4), ("FULL", true, -4), ("FULL", true, 1), ("FULL", true, 4), ("FULL", true, -4), ("NORMAL", true, 1), ("FULL", false, 1) })
    {
        var us = StoreRun(synchronous, withIndex, group: Math.Abs(group), savepoints: group > 0);
        Console.WriteLine($"{$"store: ReadCurrent + Write, commit per {100 * Math.Abs(group)}{(group < -1 ? " no savepoints" : "")}, sync={synchronous}{(withIndex ? "" : ", NO index rows")}",-58} {us,8:F1} µs/resource, CPU {LastCpu,6:F1} µs  (~{1_000_000 / us,9:N0} resources/s on one core)");
    }
    var cachedUs = StoreRun("FULL", true, cached: true);
    Console.WriteLine($"{"same rows, prepared commands reused per transaction (probe)",-58} {cachedUs,8:F1} µs/resource  (~{1_000_000 / cachedUs,9:N0} resources/s on one core)");
    StoreRun("FULL", true); // leave a full database for the read measurements

    var db2 = new FhirDatabase(Path.Combine(dir, "ignis.db"));
    var patients = generated.Where(g => g.Type == "Patient").Select(g => g.Id).ToArray();
    var plain = new SqliteConnectionStringBuilder { DataSource = db2.Path, Pooling = true }.ToString();
    MeasureReads("read: FhirDatabase.Open() (6 PRAGMAs) + ReadCurrent", () => db2.Open(), patients, reads);
    MeasureReads("read: pooled connection without PRAGMAs + ReadCurrent", () => { var c = new SqliteConnection(plain); c.Open(); return c; }, patients, reads);
    using (var shared = db2.Open())
        MeasureReads("read: one open connection + ReadCurrent", () => shared, patients, reads, dispose: false);
}
finally
{
    SqliteConnection.ClearAllPools();
    if (Directory.Exists(dir)) Directory.Delete(dir, true);
}

void Measure(string what, Action action, int repeat = 3)
{
    action(); // warm-up (JIT, caches)
    var best = double.MaxValue;
    for (var r = 0; r < repeat; r++)
    {
        var sw = Stopwatch.StartNew();
        action();
        best = Math.Min(best, sw.Elapsed.TotalMicroseconds / count);
    }
    Console.WriteLine($"{what,-58} {best,8:F1} µs/resource  (~{1_000_000 / best,9:N0} resources/s on one core)");
}

static void MeasureReads(string what, Func<SqliteConnection> open, string[] ids, int n, bool dispose = true)
{
    for (var pass = 0; pass < 2; pass++)
    {
        var sw = Stopwatch.StartNew();
        for (var i = 0; i < n; i++)
        {
            var c = open();
            try { _ = new ResourceStore(c).ReadCurrent("Patient", ids[i % ids.Length]) ?? throw new InvalidOperationException("missing"); }
            finally { if (dispose) c.Dispose(); }
        }
        if (pass == 1) Console.WriteLine($"{what,-58} {sw.Elapsed.TotalMicroseconds / n,8:F1} µs/read");
    }
}

static int Rows(ResourceIndex x) => x.Strings.Count + x.Tokens.Count + x.Dates.Count + x.Numbers.Count + x.Quantities.Count
    + x.References.Count + x.Uris.Count + x.Composites.Count;
