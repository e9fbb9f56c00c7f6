using System.Diagnostics;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Tests.Indexing;

// Index extraction cost per resource on the test samples: dotnet run -c Release --project bench/Ignis.Fhir.Bench
var iterations = args.Length > 0 ? int.Parse(args[0], System.Globalization.CultureInfo.InvariantCulture) : 100_000;
var clock = Stopwatch.StartNew();
var registry = new SearchParameterRegistry();
Console.WriteLine($"registry built in {clock.ElapsedMilliseconds} ms");
var indexer = new ResourceIndexer(registry);

foreach (var (name, json) in Samples.All())
{
    var resource = Samples.Parse(json);
    clock.Restart();
    var index = indexer.Extract(resource);
    var firstCall = clock.Elapsed.TotalMilliseconds;
    for (var i = 0; i < iterations / 5; i++) indexer.Extract(resource);

    var allocatedBefore = GC.GetAllocatedBytesForCurrentThread();
    clock.Restart();
    for (var i = 0; i < iterations; i++) indexer.Extract(resource);
    var micros = clock.Elapsed.TotalMicroseconds / iterations;
    var bytes = (GC.GetAllocatedBytesForCurrentThread() - allocatedBefore) / iterations;

    var rows = index.Strings.Count + index.Tokens.Count + index.Dates.Count + index.Numbers.Count + index.Quantities.Count
        + index.References.Count + index.Uris.Count + index.Composites.Count;
    Console.WriteLine($"{name,-20} {micros,7:F2} µs  {bytes,7} B  {rows,3} rows  first call {firstCall:F1} ms");
}
