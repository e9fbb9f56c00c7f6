using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

// Token endpoint load: mints authorization codes through the real authorize flow (a signed-in browser session,
// the consent page), then exchanges them concurrently (authorization_code grant), then refreshes every refresh
// token obtained once, concurrently (refresh_token grant of the public client). Reports tokens/s, latency
// percentiles and, with --server-pid, the server's CPU time per token (robust on a busy machine).
//
// The server must let codes live through the minting: start it with --Ignis:Auth:AuthorizationCodeLifetime=00:30:00.

var options = Options.Parse(args);
var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(options.TimeLimitSeconds);
var origin = new Uri(options.Base);

using var browser = new HttpClient(new SocketsHttpHandler
{
    AllowAutoRedirect = false,
    CookieContainer = new CookieContainer(),
    MaxConnectionsPerServer = 8,
}) { BaseAddress = origin, Timeout = TimeSpan.FromSeconds(30) };
using var api = new HttpClient(new SocketsHttpHandler
{
    AllowAutoRedirect = false,
    UseCookies = false,
    MaxConnectionsPerServer = options.Concurrency,
    PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
}) { BaseAddress = origin, Timeout = TimeSpan.FromSeconds(60) };

Console.WriteLine($"# {DateTime.UtcNow:O} base={options.Base} codes={options.Codes} concurrency={options.Concurrency} scope=\"{options.Scope}\" user={options.User}");
await Setup.SignInAsync(browser, options.User, options.Password);
var minted = Stopwatch.StartNew();
var codes = await Setup.MintCodesAsync(browser, options, deadline);
Console.WriteLine($"# minted {codes.Count} codes in {minted.Elapsed.TotalSeconds:F1} s ({codes.Count / minted.Elapsed.TotalSeconds:F0}/s)");

var refreshTokens = new System.Collections.Concurrent.ConcurrentBag<string>();
Console.WriteLine("phase\trequests\tok\terrors\tseconds\ttokens_per_s\tp50_ms\tp90_ms\tp99_ms\tmax_ms\tserver_cpu_ms_per_token\tloader_cpu_ms_per_token\tmachine_busy_pct");
if (options.Phases.Contains("code"))
{
    var result = await Load.RunAsync("code", codes, options, deadline, api, async (client, item) =>
    {
        var body = await Load.PostTokenAsync(client, new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code",
            ["code"] = item.Code,
            ["redirect_uri"] = options.RedirectUri,
            ["client_id"] = options.ClientId,
            ["code_verifier"] = item.Verifier,
        });
        if (body?.TryGetProperty("refresh_token", out var refresh) == true) refreshTokens.Add(refresh.GetString()!);
        if (options.AccessTokenOut is { } file && body?.TryGetProperty("access_token", out var access) == true)
            lock (options) if (!File.Exists(file)) File.WriteAllText(file, access.GetString());
        return body is not null;
    });
    Console.WriteLine(result);
}
if (options.Phases.Contains("refresh"))
{
    var tokens = refreshTokens.ToList();
    if (tokens.Count == 0) Console.Error.WriteLine("No refresh tokens: ask for offline_access and run the code phase first.");
    var result = await Load.RunAsync("refresh", tokens, options, deadline, api, async (client, token) =>
        await Load.PostTokenAsync(client, new Dictionary<string, string>
        {
            ["grant_type"] = "refresh_token",
            ["refresh_token"] = token,
            ["client_id"] = options.ClientId,
        }) is not null);
    Console.WriteLine(result);
}

sealed record PendingCode(string Code, string Verifier);

sealed class Options
{
    public string Base { get; private set; } = "http://127.0.0.1:5701";
    public int Codes { get; private set; } = 2000;
    public int Concurrency { get; private set; } = 16;
    public int MintConcurrency { get; private set; } = 4;
    public int? ServerPid { get; private set; }
    public string Scope { get; private set; } = "openid fhirUser launch/patient patient/*.rs offline_access";
    public string User { get; private set; } = "alice";
    public string Password { get; private set; } = "alice-demo-pass";
    public string ClientId { get; private set; } = "demo-app";
    public string RedirectUri { get; private set; } = "http://127.0.0.1:51234/callback";
    public string[] Phases { get; private set; } = ["code", "refresh"];
    public int TimeLimitSeconds { get; private set; } = 600;
    public int WarmupRequests { get; private set; } = 200;
    /// <summary>Where to write one access token of the code phase (for the authorized read benchmark).</summary>
    public string? AccessTokenOut { get; private set; }

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--base": o.Base = Next().TrimEnd('/'); break;
                case "--codes": o.Codes = int.Parse(Next()); break;
                case "--concurrency": o.Concurrency = int.Parse(Next()); break;
                case "--mint-concurrency": o.MintConcurrency = int.Parse(Next()); break;
                case "--server-pid": o.ServerPid = int.Parse(Next()); break;
                case "--scope": o.Scope = Next(); break;
                case "--user": o.User = Next(); break;
                case "--password": o.Password = Next(); break;
                case "--client-id": o.ClientId = Next(); break;
                case "--redirect-uri": o.RedirectUri = Next(); break;
                case "--phases": o.Phases = Next().Split(','); break;
                case "--time-limit": o.TimeLimitSeconds = int.Parse(Next()); break;
                case "--warmup": o.WarmupRequests = int.Parse(Next()); break;
                case "--access-token-out": o.AccessTokenOut = Next(); break;
                default: throw new ArgumentException($"Unknown option {args[i]}");
            }
        }
        return o;
    }
}

static partial class Setup
{
    /// <summary>Signs in on /account/login as a person would (the form, its antiforgery token).</summary>
    public static async Task SignInAsync(HttpClient browser, string user, string password)
    {
        var page = await browser.GetStringAsync("/account/login");
        var form = new Dictionary<string, string>
        {
            ["username"] = user,
            ["password"] = password,
            ["returnUrl"] = "/",
            ["__RequestVerificationToken"] = Antiforgery(page),
        };
        var response = await browser.PostAsync("/account/login", new FormUrlEncodedContent(form));
        if (response.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"Sign-in failed: {(int)response.StatusCode}");
    }

    /// <summary>Authorize request, consent page (allow everything), back to /oauth/authorize, the code; N times.</summary>
    public static async Task<List<PendingCode>> MintCodesAsync(HttpClient browser, Options o, DateTime deadline)
    {
        var codes = new System.Collections.Concurrent.ConcurrentBag<PendingCode>();
        string? antiforgery = null;
        var gate = new SemaphoreSlim(1);
        await Parallel.ForEachAsync(Enumerable.Range(0, o.Codes + o.WarmupRequests), new ParallelOptions { MaxDegreeOfParallelism = o.MintConcurrency },
            async (_, ct) =>
            {
                if (DateTime.UtcNow > deadline) return;
                var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
                var challenge = Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier)));
                var query = new Dictionary<string, string>
                {
                    ["response_type"] = "code",
                    ["client_id"] = o.ClientId,
                    ["redirect_uri"] = o.RedirectUri,
                    ["scope"] = o.Scope,
                    ["state"] = Base64Url(RandomNumberGenerator.GetBytes(8)),
                    ["aud"] = o.Base + "/fhir",
                    ["code_challenge"] = challenge,
                    ["code_challenge_method"] = "S256",
                };
                var location = await RedirectAsync(browser, new HttpRequestMessage(HttpMethod.Get, "/oauth/authorize?" + Encode(query)), ct);
                if (location.AbsolutePath == "/authorize/consent")
                {
                    if (antiforgery is null)
                    {
                        await gate.WaitAsync(ct);
                        try { antiforgery ??= Antiforgery(await browser.GetStringAsync(location, ct)); }
                        finally { gate.Release(); }
                    }
                    var ticket = System.Web.HttpUtility.ParseQueryString(location.Query)["request"]!;
                    var form = new List<KeyValuePair<string, string>>
                    {
                        new("request", ticket), new("decision", "allow"), new("__RequestVerificationToken", antiforgery),
                    };
                    form.AddRange(o.Scope.Split(' ').Select(s => KeyValuePair.Create("scope", s)));
                    location = await RedirectAsync(browser, new HttpRequestMessage(HttpMethod.Post, location) { Content = new FormUrlEncodedContent(form) }, ct);
                    location = await RedirectAsync(browser, new HttpRequestMessage(HttpMethod.Get, location), ct);
                }
                var code = System.Web.HttpUtility.ParseQueryString(location.Query)["code"]
                    ?? throw new InvalidOperationException($"No code in {location}");
                codes.Add(new PendingCode(code, verifier));
            });
        return [.. codes];
    }

    private static async Task<Uri> RedirectAsync(HttpClient browser, HttpRequestMessage request, CancellationToken ct)
    {
        using var response = await browser.SendAsync(request, ct);
        if (response.StatusCode != HttpStatusCode.Redirect || response.Headers.Location is not { } location)
            throw new InvalidOperationException($"{request.Method} {request.RequestUri}: expected a redirect, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        return location.IsAbsoluteUri ? location : new Uri(browser.BaseAddress!, location);
    }

    private static string Antiforgery(string html) =>
        AntiforgeryPattern().Match(html) is { Success: true } m ? WebUtility.HtmlDecode(m.Groups[1].Value)
            : throw new InvalidOperationException("No antiforgery token on the page.");

    private static string Encode(Dictionary<string, string> query) =>
        string.Join('&', query.Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value)));

    public static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("name=\"__RequestVerificationToken\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryPattern();
}

static class Load
{
    public static async Task<JsonElement?> PostTokenAsync(HttpClient client, Dictionary<string, string> form)
    {
        using var response = await client.PostAsync("/oauth/token", new FormUrlEncodedContent(form));
        var text = await response.Content.ReadAsStringAsync();
        if (!response.IsSuccessStatusCode)
        {
            Errors.Add($"{(int)response.StatusCode} {text}");
            return null;
        }
        return JsonDocument.Parse(text).RootElement.Clone();
    }

    public static readonly System.Collections.Concurrent.ConcurrentBag<string> Errors = [];

    /// <summary>
    /// The first <see cref="Options.WarmupRequests"/> items (codes are minted for them on top of <see cref="Options.Codes"/>;
    /// at most half the items) warm the server (JIT tier-up, pools) and are not counted; then the rest at the given
    /// concurrency, timed, with the server's CPU time around the measured part.
    /// </summary>
    public static async Task<string> RunAsync<T>(string phase, List<T> items, Options o, DateTime deadline, HttpClient client, Func<HttpClient, T, Task<bool>> send)
    {
        var warm = Math.Min(o.WarmupRequests, items.Count / 2);
        await Parallel.ForEachAsync(items.Take(warm), new ParallelOptions { MaxDegreeOfParallelism = o.Concurrency }, async (item, _) => await send(client, item));
        Errors.Clear();
        var measured = items.Skip(warm).ToList();
        var latencies = new double[measured.Count];
        var ok = 0;
        var next = -1;
        var serverBefore = ServerCpu(o.ServerPid);
        var loaderBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var machineBefore = MachineTicks();
        var clock = Stopwatch.StartNew();
        var workers = Enumerable.Range(0, o.Concurrency).Select(_ => Task.Run(async () =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) < measured.Count && DateTime.UtcNow < deadline)
            {
                var started = Stopwatch.GetTimestamp();
                if (await send(client, measured[i])) Interlocked.Increment(ref ok);
                latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }
        })).ToArray();
        await Task.WhenAll(workers);
        var seconds = clock.Elapsed.TotalSeconds;
        var serverMs = (ServerCpu(o.ServerPid) - serverBefore) * 1000.0;
        var loaderMs = (Process.GetCurrentProcess().TotalProcessorTime - loaderBefore).TotalMilliseconds;
        var (busy, total) = MachineTicks();
        var busyPct = 100.0 * (busy - machineBefore.Busy) / Math.Max(1, total - machineBefore.Total);
        var done = Math.Min(measured.Count, next);
        var sorted = latencies.Take(done).Order().ToArray();
        double P(double q) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        foreach (var error in Errors.Take(3)) Console.Error.WriteLine($"# {phase} error: {error}");
        return string.Join('\t', phase, done, ok, done - ok, seconds.ToString("F2"), (ok / seconds).ToString("F0"),
            P(0.50).ToString("F1"), P(0.90).ToString("F1"), P(0.99).ToString("F1"), P(1.0).ToString("F1"),
            o.ServerPid is null ? "-" : (serverMs / Math.Max(1, ok)).ToString("F2"), (loaderMs / Math.Max(1, ok)).ToString("F2"), busyPct.ToString("F0"));
    }

    /// <summary>utime + stime of the server process in seconds (/proc/PID/stat, clock ticks of 1/100 s).</summary>
    private static double ServerCpu(int? pid)
    {
        if (pid is null) return 0;
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (long.Parse(fields[11]) + long.Parse(fields[12])) / 100.0;
    }

    /// <summary>Busy and total jiffies of the whole machine (/proc/stat).</summary>
    private static (long Busy, long Total) MachineTicks()
    {
        var f = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8).Select(long.Parse).ToArray();
        var total = f.Sum();
        return (total - f[3] - f[4], total);
    }
}
