using System.Data.Common;
using System.Diagnostics;
using System.Globalization;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Storage;
using Microsoft.Data.Sqlite;
using Npgsql;

// Latency of SearchParser.Parse + SearchEngine.ExecuteAsync on a database, one query at a time, for
// the request paths the wrk benchmarks rotate over (files of "/fhir/Type?query" lines). It separates
// the engine's share of a search from HTTP and Bundle serialization.
//   dotnet Ignis.Bench.SearchPath.dll DB_FILE|NPGSQL_CONNECTION_STRING [QUERIES_PER_FILE] PATHS_FILE...
// PER_QUERY=1 prints each query's time and total as well, EXPLAIN=1 the probes, page and count SQL with their plans
// (SQLite). On PostgreSQL (the first argument is a connection string, "Host=...") EXPLAIN_MIN_MS=X has auto_explain
// write EXPLAIN (ANALYZE, BUFFERS) of every statement slower than X ms to the server log. WARMUP=N (default 50).
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Ignis.Bench.SearchPath DB_FILE [QUERIES_PER_FILE] PATHS_FILE...");
    return 2;
}
var postgres = args[0].Contains('=', StringComparison.Ordinal);
var perFile = int.TryParse(args[1], NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 500;
var files = args.Skip(int.TryParse(args[1], out _) ? 2 : 1).ToList();
var warmup = int.TryParse(Environment.GetEnvironmentVariable("WARMUP"), CultureInfo.InvariantCulture, out var w) ? w : 50;
using DbConnection connection = postgres ? new NpgsqlConnection(args[0]) : new FhirDatabase(args[0]).Open();
if (postgres)
{
    connection.Open();
    if (Environment.GetEnvironmentVariable("EXPLAIN_MIN_MS") is { Length: > 0 } min)
    {
        using var cmd = connection.CreateCommand();
        cmd.CommandText = "LOAD 'auto_explain'; SET auto_explain.log_analyze = on; SET auto_explain.log_buffers = on; " +
                          $"SET auto_explain.log_min_duration = {int.Parse(min, CultureInfo.InvariantCulture)}";
        cmd.ExecuteNonQuery();
    }
}

Console.WriteLine($"{"paths",-22} {"queries",7} {"p50 ms",8} {"p90 ms",8} {"p99 ms",8} {"max ms",8} {"mean total",11} {"mean page",10}");
foreach (var file in files)
{
    var paths = File.ReadAllLines(file).Where(l => l.Length > 0).ToArray();
    var ms = new List<double>();
    double totals = 0, pages = 0;
    for (var i = -Math.Min(warmup, perFile); i < perFile; i++) // the first WARMUP (50) warm up and are not recorded
    {
        var (type, query) = Split(paths[(i + paths.Length * 1000) % paths.Length]);
        var sw = Stopwatch.StartNew();
        var request = SearchParser.Parse(type, query);
        if (request.HasErrors) throw new InvalidOperationException($"{paths[i % paths.Length]}: {string.Join("; ", request.Issues.Select(x => x.Message))}");
        var result = await SearchEngine.ExecuteAsync(connection, request, CancellationToken.None);
        if (i < 0) continue;
        ms.Add(sw.Elapsed.TotalMilliseconds);
        if (Environment.GetEnvironmentVariable("EXPLAIN") == "1" && connection is SqliteConnection sqlite)
            Console.WriteLine(await SearchEngine.ExplainAsync(sqlite, null, request, CancellationToken.None));
        if (Environment.GetEnvironmentVariable("PER_QUERY") == "1")
            Console.WriteLine($"  {sw.Elapsed.TotalMilliseconds,8:F2} ms  total {result.Total?.ToString(CultureInfo.InvariantCulture) ?? "-",6}  {paths[(i + paths.Length * 1000) % paths.Length]}");
        totals += result.Total ?? 0;
        pages += result.Matches.Count;
    }
    ms.Sort();
    double P(double p) => ms[Math.Min(ms.Count - 1, (int)Math.Ceiling(p * ms.Count) - 1)];
    Console.WriteLine($"{Path.GetFileNameWithoutExtension(file),-22} {ms.Count,7} {P(0.5),8:F2} {P(0.9),8:F2} {P(0.99),8:F2} {ms[^1],8:F2} {totals / ms.Count,11:F0} {pages / ms.Count,10:F1}");
}
return 0;

static (string Type, List<KeyValuePair<string, string>> Query) Split(string path)
{
    var q = path.IndexOf('?');
    var type = path[..q].Split('/', StringSplitOptions.RemoveEmptyEntries)[^1];
    var query = path[(q + 1)..].Split('&').Select(p => p.Split('=', 2))
        .Select(kv => new KeyValuePair<string, string>(Uri.UnescapeDataString(kv[0]), Uri.UnescapeDataString(kv.Length > 1 ? kv[1] : ""))).ToList();
    return (type, query);
}
