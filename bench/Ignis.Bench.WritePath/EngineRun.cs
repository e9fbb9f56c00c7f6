using System.Buffers;
using System.Diagnostics;
using System.Text.Json;
using Ignis.Bench.Generator;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Microsoft.Data.Sqlite;

/// <summary>
/// ENGINE=N: the server's work for an ingest without HTTP. Transaction Bundles of 100 PUTs built exactly as
/// bench/Ignis.Bench.Generator builds them, each parsed with FhirSerializer.Parse and executed by FhirService on a
/// fresh SQLite database (SqliteFhirStore, group commit, synchronous=FULL) by N concurrent callers; prints the process
/// CPU per resource for the parse alone and for parse + execute.
/// </summary>
internal static class EngineRun
{
    public static void Run(List<GeneratedResource> generated, int concurrency)
    {
        var bundles = generated.Chunk(100).Select(Transaction).ToList();
        Console.WriteLine($"{bundles.Count} Bundles of 100, {bundles.Count(b => b.AsSpan().IndexOf("\\u"u8) >= 0)} holding a JSON \\u escape, " +
                          $"{bundles.Count(b => b.AsSpan().IndexOf("div"u8) >= 0)} holding \"div\"");
        var registry = SearchParameterRegistry.Default;
        var indexer = new ResourceIndexer(registry);

        for (var pass = 0; pass < 3; pass++)
        {
            var cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            Parallel.ForEach(bundles, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, b => FhirSerializer.Parse(b, FhirFormat.Json));
            var parseCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / generated.Count;

            var dir = Path.Combine(Path.GetTempPath(), $"ignis-engine-{Environment.ProcessId}");
            if (Directory.Exists(dir)) Directory.Delete(dir, true);
            var db = new FhirDatabase(Path.Combine(dir, "ignis.db"));
            db.Migrate();
            // DROP_INDEXES=ix_a,ix_b: what those indexes cost a write (e.g. the ix_*_key indexes: the most a table clustered on res_key could save).
            if (Environment.GetEnvironmentVariable("DROP_INDEXES") is { Length: > 0 } drop)
                using (var w = db.OpenWriter())
                    foreach (var ix in drop.Split(','))
                        using (var c = w.CreateCommand())
                        {
                            c.CommandText = $"DROP INDEX {ix}";
                            c.ExecuteNonQuery();
                        }
            if (Environment.GetEnvironmentVariable("WAL_CHECKPOINT") is { Length: > 0 } pages)
                using (var w = db.OpenWriter())
                using (var c = w.CreateCommand())
                {
                    c.CommandText = $"PRAGMA wal_autocheckpoint={int.Parse(pages)}";
                    c.ExecuteNonQuery();
                }
            var io0 = WrittenBytes();
            var gate = new WriteGate();
            var service = new FhirService(new SqliteFhirStore(db, gate), registry, indexer.Extract, new FhirSearch(registry));
            var sw = Stopwatch.StartNew();
            cpu0 = Process.GetCurrentProcess().TotalProcessorTime;
            var next = -1;
            var workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < bundles.Count)
                {
                    var request = new FhirRequest
                    {
                        Interaction = Interaction.Bundle, Method = "POST",
                        Body = FhirSerializer.Parse(bundles[i], FhirFormat.Json), Prefer = PreferReturn.Minimal,
                    };
                    var response = await service.ExecuteAsync(request, "http://localhost/fhir");
                    if (response.Status != 200) throw new InvalidOperationException($"Bundle {i}: {response.Status}");
                }
            })).ToArray();
            Task.WaitAll(workers);
            var totalCpu = (Process.GetCurrentProcess().TotalProcessorTime - cpu0).TotalMicroseconds / generated.Count;
            var written = (WrittenBytes() - io0) / generated.Count;
            var wall = sw.Elapsed.TotalMicroseconds / generated.Count;
            var held = gate.HeldTime.TotalMicroseconds / generated.Count;
            Console.WriteLine($"engine pass {pass}: parse {parseCpu,6:F1} µs CPU/resource; parse + execute {totalCpu,6:F1} µs CPU/resource, " +
                              $"{generated.Count / sw.Elapsed.TotalSeconds,8:N0} resources/s ({concurrency} callers), {written:N0} bytes written/resource, " +
                              $"write gate held {held,6:F1} µs/resource of {wall,6:F1} wall ({held * 100 / wall:F0} %)");
            SqliteConnection.ClearAllPools();
            db.ClearPool();
            // KEEP_DB=path: the last pass's database is moved there (to count its rows and look at its plans).
            if (pass == 2 && Environment.GetEnvironmentVariable("KEEP_DB") is { Length: > 0 } keep)
            {
                if (Directory.Exists(keep)) Directory.Delete(keep, true);
                Directory.Move(dir, keep);
            }
            else Directory.Delete(dir, true);
        }
    }

    // The bytes this process has caused to be written (write(2) calls; /proc/self/io wchar).
    private static long WrittenBytes() =>
        long.Parse(File.ReadLines("/proc/self/io").First(l => l.StartsWith("wchar:", StringComparison.Ordinal))[6..].Trim());

    // As bench/Ignis.Bench.Generator/Program.cs: entries of PUTs with their fullUrl.
    private static byte[] Transaction(GeneratedResource[] entries)
    {
        var buffer = new ArrayBufferWriter<byte>(entries.Length * 1200);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteString("resourceType", "Bundle");
            w.WriteString("type", "transaction");
            w.WriteStartArray("entry");
            foreach (var e in entries)
            {
                w.WriteStartObject();
                w.WriteString("fullUrl", $"http://localhost/fhir/{e.Type}/{e.Id}");
                w.WritePropertyName("resource");
                w.WriteRawValue(e.Json, skipInputValidation: true);
                w.WriteStartObject("request");
                w.WriteString("method", "PUT");
                w.WriteString("url", $"{e.Type}/{e.Id}");
                w.WriteEndObject();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }
}
