// Registers N clients in a row at /oauth/register (RFC 7591, open registration of --demo) and measures
// the token endpoint and a FHIR read before and after, with the same sequential client.
// usage: Ignis.Bench.Registration --base http://127.0.0.1:5421 [--registrations 1000] [--samples 300]
using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;

var baseUrl = Arg("--base") ?? "http://127.0.0.1:5421";
var registrations = int.Parse(Arg("--registrations") ?? "1000", CultureInfo.InvariantCulture);
var samples = int.Parse(Arg("--samples") ?? "300", CultureInfo.InvariantCulture);

using var http = new HttpClient { BaseAddress = new Uri(baseUrl), Timeout = TimeSpan.FromSeconds(30) };
var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String("demo-backend:demo-backend-secret"u8.ToArray()));

async Task<string> TokenAsync()
{
    using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
    {
        Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "system/*.rs" }),
    };
    request.Headers.Authorization = basic;
    using var response = await http.SendAsync(request);
    var text = await response.Content.ReadAsStringAsync();
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"token: {(int)response.StatusCode} {text}");
    return JsonNode.Parse(text)!["access_token"]!.GetValue<string>();
}

var token = await TokenAsync();
async Task ReadAsync()
{
    using var request = new HttpRequestMessage(HttpMethod.Get, "/fhir/Patient/alice");
    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
    using var response = await http.SendAsync(request);
    await response.Content.ReadAsByteArrayAsync();
    if (!response.IsSuccessStatusCode) throw new InvalidOperationException($"read: {(int)response.StatusCode}");
}

async Task<List<double>> TimeAsync(int n, Func<Task> action)
{
    var list = new List<double>(n);
    for (var i = 0; i < n; i++)
    {
        var sw = Stopwatch.StartNew();
        await action();
        list.Add(sw.Elapsed.TotalMilliseconds);
    }
    return list;
}

// Warm-up (JIT, connection pools), not recorded.
await TimeAsync(50, async () => await TokenAsync());
await TimeAsync(200, ReadAsync);

var tokenBefore = await TimeAsync(samples, async () => await TokenAsync());
var readBefore = await TimeAsync(samples, ReadAsync);

// Registrations: alternately a public native app (PKCE, loopback and private-use redirects) and a
// confidential web app (secret, refresh token, contacts, logo), as SMART app developers send them.
var registrationTimes = new List<double>(registrations);
var failures = 0;
var total = Stopwatch.StartNew();
for (var i = 0; i < registrations; i++)
{
    var json = i % 2 == 0
        ? $$"""{"client_name":"Bench native {{i}}","redirect_uris":["http://127.0.0.1/callback","com.example.bench{{i}}:/oauth"],"token_endpoint_auth_method":"none","grant_types":["authorization_code","refresh_token"],"scope":"launch/patient patient/*.rs openid fhirUser offline_access"}"""
        : $$"""{"client_name":"Bench web {{i}}","redirect_uris":["https://app{{i}}.example/callback"],"grant_types":["authorization_code","refresh_token"],"scope":"launch patient/*.rs user/*.rs openid fhirUser","contacts":["dev{{i}}@example.org"],"logo_uri":"https://app{{i}}.example/logo.png"}""";
    var sw = Stopwatch.StartNew();
    using var response = await http.PostAsync("/oauth/register", new StringContent(json, Encoding.UTF8, "application/json"));
    await response.Content.ReadAsByteArrayAsync();
    registrationTimes.Add(sw.Elapsed.TotalMilliseconds);
    if ((int)response.StatusCode != 201) failures++;
}
var registrationSeconds = total.Elapsed.TotalSeconds;

var tokenAfter = await TimeAsync(samples, async () => await TokenAsync());
token = await TokenAsync();
var readAfter = await TimeAsync(samples, ReadAsync);
var health = await http.GetStringAsync("/healthz");

Console.WriteLine($"registrations\t{registrations}\tfailed\t{failures}\tseconds\t{registrationSeconds:F2}\tper_s\t{registrations / registrationSeconds:F1}\t{Stats(registrationTimes)}");
Console.WriteLine($"token_before\t{samples}\t{Stats(tokenBefore)}");
Console.WriteLine($"token_after\t{samples}\t{Stats(tokenAfter)}");
Console.WriteLine($"read_before\t{samples}\t{Stats(readBefore)}");
Console.WriteLine($"read_after\t{samples}\t{Stats(readAfter)}");
Console.WriteLine($"healthz\t{health}");
return failures == 0 && health == "ok" ? 0 : 1;

static string Stats(List<double> ms)
{
    var sorted = ms.Order().ToList();
    double P(double q) => sorted[Math.Min(sorted.Count - 1, (int)Math.Ceiling(q * sorted.Count) - 1)];
    return string.Create(CultureInfo.InvariantCulture, $"p50_ms\t{P(0.5):F2}\tp95_ms\t{P(0.95):F2}\tmax_ms\t{sorted[^1]:F2}\tmean_ms\t{ms.Average():F2}");
}

string? Arg(string name)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}
