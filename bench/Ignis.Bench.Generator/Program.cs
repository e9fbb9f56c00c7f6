using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Ignis.Bench.Generator;

// Deterministic synthetic clinical data for Ignis benchmarks: builds FHIR transaction Bundles of PUTs
// with fixed ids and posts them to a FHIR server on loopback with N parallel clients.
var options = Options.Parse(args);
if (options is null) return 2;

var sw = Stopwatch.StartNew();
var (bundles, counts, patients) = Build(options);
var genSeconds = sw.Elapsed.TotalSeconds;
var totalBytes = bundles.Sum(b => (long)b.Body.Length);
Console.WriteLine($"generated {counts.Values.Sum():N0} resources in {bundles.Count:N0} bundles ({totalBytes / 1048576.0:F1} MiB) " +
                  $"for {patients.Count:N0} patients in {genSeconds:F1} s (seed {options.Seed})");
Console.WriteLine("  " + string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value:N0}")));

if (options.ListsDir is { } listsDir) WriteLists(listsDir, patients, counts);
if (options.DryRun) return 0;

return await Load(options, bundles);

static (List<(byte[] Body, int Count)> Bundles, SortedDictionary<string, long> Counts, List<byte[]> Patients) Build(Options o)
{
    var bundles = new List<(byte[], int)>();
    var counts = new SortedDictionary<string, long>(StringComparer.Ordinal);
    var patients = new List<byte[]>();
    var pending = new List<GeneratedResource>(o.BundleSize);
    long made = 0;
    for (long n = 1; made < o.Resources; n++)
    {
        foreach (var r in ClinicalData.Record(o.Seed, n))
        {
            if (made == o.Resources) break;
            made++;
            counts[r.Type] = counts.GetValueOrDefault(r.Type) + 1;
            if (r.Type == "Patient") patients.Add(r.Json);
            pending.Add(r);
            if (pending.Count == o.BundleSize)
            {
                bundles.Add((Transaction(pending, o.FullUrlBase), pending.Count));
                pending.Clear();
            }
        }
    }
    if (pending.Count > 0) bundles.Add((Transaction(pending, o.FullUrlBase), pending.Count));
    return (bundles, counts, patients);
}

static byte[] Transaction(List<GeneratedResource> entries, string fullUrlBase)
{
    var buffer = new ArrayBufferWriter<byte>(entries.Count * 1200);
    using (var w = new Utf8JsonWriter(buffer))
    {
        w.WriteStartObject();
        w.WriteString("resourceType", "Bundle");
        w.WriteString("type", "transaction");
        w.WriteStartArray("entry");
        foreach (var e in entries)
        {
            w.WriteStartObject();
            w.WriteString("fullUrl", $"{fullUrlBase}/{e.Type}/{e.Id}");
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

// patients.txt: every Patient id; name-prefixes.txt: the 3-letter prefixes of the family and given
// names in use, with how many patients each matches (Patient?name= matches family or given names).
static void WriteLists(string dir, List<byte[]> patients, SortedDictionary<string, long> counts)
{
    Directory.CreateDirectory(dir);
    var ids = new List<string>(patients.Count);
    var perPrefix = new Dictionary<string, int>(StringComparer.Ordinal);
    foreach (var json in patients)
    {
        using var doc = JsonDocument.Parse(json);
        var root = doc.RootElement;
        ids.Add(root.GetProperty("id").GetString()!);
        var name = root.GetProperty("name")[0];
        var parts = new List<string> { name.GetProperty("family").GetString()! };
        parts.AddRange(name.GetProperty("given").EnumerateArray().Select(g => g.GetString()!));
        foreach (var prefix in parts.Where(p => p.Length >= 3).Select(p => p[..3].ToLowerInvariant()).Distinct())
            perPrefix[prefix] = perPrefix.GetValueOrDefault(prefix) + 1;
    }
    File.WriteAllLines(Path.Combine(dir, "patients.txt"), ids);
    File.WriteAllLines(Path.Combine(dir, "name-prefixes.txt"),
        perPrefix.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => kv.Key));
    File.WriteAllLines(Path.Combine(dir, "name-prefix-counts.tsv"),
        perPrefix.OrderByDescending(kv => kv.Value).ThenBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key}\t{kv.Value}"));
    File.WriteAllLines(Path.Combine(dir, "resource-counts.tsv"), counts.Select(kv => $"{kv.Key}\t{kv.Value}"));
    Console.WriteLine($"lists written to {dir}: {ids.Count:N0} patient ids, {perPrefix.Count} name prefixes");
}

static async Task<int> Load(Options o, List<(byte[] Body, int Count)> bundles)
{
    using var http = new HttpClient(new SocketsHttpHandler
    {
        MaxConnectionsPerServer = o.Concurrency,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        AutomaticDecompression = DecompressionMethods.None,
    })
    {
        BaseAddress = new Uri(o.BaseUrl.TrimEnd('/') + "/"),
        Timeout = TimeSpan.FromSeconds(o.RequestTimeoutSeconds),
    };
    var latencies = new double[bundles.Count];
    var done = 0L;
    var errors = 0;
    var next = o.FromBundle - 1;
    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(o.TimeLimitSeconds));
    var sw = Stopwatch.StartNew();

    async Task Worker()
    {
        while (!deadline.IsCancellationRequested)
        {
            var i = Interlocked.Increment(ref next);
            if (i >= bundles.Count) return;
            var (body, count) = bundles[i];
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/fhir+json");
            using var request = new HttpRequestMessage(HttpMethod.Post, "") { Content = content };
            request.Headers.Accept.ParseAdd("application/fhir+json");
            request.Headers.Add("Prefer", "return=" + o.Prefer);
            var t0 = Stopwatch.GetTimestamp();
            try
            {
                using var response = await http.SendAsync(request, deadline.Token);
                var text = await response.Content.ReadAsStringAsync(deadline.Token);
                latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (response.IsSuccessStatusCode) Interlocked.Add(ref done, count);
                else if (Interlocked.Increment(ref errors) <= 5)
                    Console.Error.WriteLine($"bundle {i}: HTTP {(int)response.StatusCode}: {Truncate(text, 600)}");
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                latencies[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
                if (Interlocked.Increment(ref errors) <= 5) Console.Error.WriteLine($"bundle {i}: {e.GetType().Name}: {e.Message}");
            }
        }
    }

    var toPost = bundles.Skip(o.FromBundle).Sum(b => (long)b.Count);
    Console.WriteLine($"posting {bundles.Count - o.FromBundle:N0} transaction bundles ({toPost:N0} resources) to {o.BaseUrl} " +
                      $"with {o.Concurrency} clients, Prefer: return={o.Prefer}");
    var workers = Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(Worker)).ToList();
    var all = Task.WhenAll(workers);
    long lastDone = 0;
    var lastT = 0.0;
    while (await Task.WhenAny(all, Task.Delay(TimeSpan.FromSeconds(o.ProgressSeconds))) != all)
    {
        var d = Interlocked.Read(ref done);
        var t = sw.Elapsed.TotalSeconds;
        Console.WriteLine($"  {t,7:F1} s  {d,10:N0} resources  {(d - lastDone) / (t - lastT),8:N0}/s now  {d / t,8:N0}/s overall  errors {errors}");
        (lastDone, lastT) = (d, t);
    }
    await all;
    var seconds = sw.Elapsed.TotalSeconds;
    var posted = latencies.Skip(o.FromBundle).Where(l => l > 0).Order().ToArray();
    double Pct(double p) => posted.Length == 0 ? 0 : posted[Math.Min(posted.Length - 1, (int)Math.Ceiling(p * posted.Length) - 1)];
    var timedOut = deadline.IsCancellationRequested && next < bundles.Count;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"RESULT resources={done} seconds={seconds:F2} resources_per_s={done / seconds:F0} bundles={posted.Length} bundle_size={o.BundleSize} " +
        $"concurrency={o.Concurrency} errors={errors} bundle_p50_ms={Pct(0.50):F1} bundle_p99_ms={Pct(0.99):F1} bundle_max_ms={(posted.Length > 0 ? posted[^1] : 0):F1} " +
        $"time_limit_hit={(timedOut ? 1 : 0)}"));
    return errors == 0 && !timedOut ? 0 : 1;
}

static string Truncate(string s, int n) => s.Length <= n ? s : s[..n] + "...";

internal sealed record Options
{
    public string BaseUrl { get; init; } = "http://127.0.0.1:8080/fhir";
    public long Resources { get; init; } = 20_000;
    public int BundleSize { get; init; } = 100;
    public int Concurrency { get; init; } = 4;
    public ulong Seed { get; init; } = 20_251;
    public string? ListsDir { get; init; }
    public string Prefer { get; init; } = "minimal";
    public bool DryRun { get; init; }
    public int FromBundle { get; init; }
    public int TimeLimitSeconds { get; init; } = 3600;
    public int RequestTimeoutSeconds { get; init; } = 120;
    public int ProgressSeconds { get; init; } = 10;

    /// <summary>fullUrl of each entry: the server's base, so ids resolve as they would for a real client.</summary>
    public string FullUrlBase => BaseUrl.TrimEnd('/');

    private const string Usage = """
        usage: Ignis.Bench.Generator [options]
          --base URL            FHIR base on loopback (default http://127.0.0.1:8080/fhir)
          --resources N         total resources to generate (default 20000; ~25 per patient)
          --bundle-size N       entries per transaction Bundle (default 100)
          --concurrency N       parallel HTTP clients (default 4)
          --seed N              generator seed (default 20251); same seed, same data, same ids
          --lists DIR           write patients.txt, name-prefixes.txt and counts for the query benchmarks
          --prefer P            Prefer: return=P on each transaction (minimal|representation|OperationOutcome; default minimal)
          --from-bundle K       skip the first K bundles (resume an interrupted load)
          --time-limit S        stop posting after S seconds (default 3600)
          --progress S          progress line every S seconds (default 10)
          --dry-run             generate (and write lists) only
        """;

    public static Options? Parse(string[] args)
    {
        var o = new Options();
        try
        {
            for (var i = 0; i < args.Length; i++)
            {
                string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
                o = args[i] switch
                {
                    "--base" => o with { BaseUrl = Value() },
                    "--resources" => o with { Resources = long.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--bundle-size" => o with { BundleSize = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--concurrency" => o with { Concurrency = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--seed" => o with { Seed = ulong.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--lists" => o with { ListsDir = Value() },
                    "--prefer" => o with { Prefer = Value() },
                    "--from-bundle" => o with { FromBundle = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--time-limit" => o with { TimeLimitSeconds = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--progress" => o with { ProgressSeconds = int.Parse(Value(), CultureInfo.InvariantCulture) },
                    "--dry-run" => o with { DryRun = true },
                    "-h" or "--help" => throw new ArgumentException(""),
                    _ => throw new ArgumentException($"unknown option {args[i]}"),
                };
            }
            var uri = new Uri(o.BaseUrl);
            if (!uri.IsLoopback) throw new ArgumentException($"refusing non-loopback base URL {o.BaseUrl}");
            if (o.Resources < 1 || o.BundleSize < 1 || o.Concurrency < 1) throw new ArgumentException("counts must be positive");
        }
        catch (Exception e) when (e is ArgumentException or FormatException or OverflowException or UriFormatException)
        {
            if (e.Message.Length > 0) Console.Error.WriteLine(e.Message);
            Console.Error.WriteLine(Usage);
            return null;
        }
        return o;
    }
}
