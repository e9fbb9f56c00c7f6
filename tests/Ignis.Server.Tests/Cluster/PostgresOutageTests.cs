using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Cluster;

/// <summary>
/// PostgreSQL stopped (pg_ctl stop -m fast) and started again under a load on two nodes, on a PostgreSQL server
/// of the test's own: while it is down every request fails cleanly and quickly with a 503 in its endpoint's error
/// format, and once it is back both nodes serve again by themselves, nothing they acknowledged lost.
/// </summary>
public sealed class PostgresOutageTests
{
    private const string PublicUrl = "https://fhir.outage.test";
    /// <summary>No request may take longer than this, up or down.</summary>
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(10);

    private sealed record Answer(string Node, string What, int Status, TimeSpan At, TimeSpan Took, string Body);

    [Fact]
    public async Task While_PostgreSQL_is_down_requests_get_a_clean_503_and_both_nodes_recover_by_themselves_when_it_is_back()
    {
        await using var postgres = await OwnPostgres.StartAsync();
        string[] args = ["--Ignis:PublicBaseUrl=" + PublicUrl, .. TestPostgres.Arguments(postgres.Database("postgres"))];
        await using var a = await IgnisServer.StartAsync(["--demo", .. args]);
        await using var b = await IgnisServer.StartInAsync(a.DataDirectory, ownsData: false, args);
        var nodes = new[] { ("A", a), ("B", b) };
        var clock = Stopwatch.StartNew();
        var answers = new ConcurrentQueue<Answer>();
        var acks = new ConcurrentBag<(IgnisServer Node, string Id, int Version, string Family)>();
        var token = (await TokenAsync(a, clock, answers, "A")).Body["access_token"].Str();

        // The load: on each node a writer (creates, then updates of its own Patients) and a client asking for tokens.
        using var stop = new CancellationTokenSource();
        var load = nodes.Select(n => Task.Run(async () =>
        {
            var mine = new List<string>();
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var family = $"{n.Item1}{i}";
                var update = i % 2 == 1 && mine.Count > 0;
                var id = update ? mine[i % mine.Count] : null;
                var json = $$"""{"resourceType":"Patient"{{(id is null ? "" : $",\"id\":\"{id}\"")}},"name":[{"family":"{{family}}"}]}""";
                var (status, body) = await FhirAsync(n.Item2, update ? HttpMethod.Put : HttpMethod.Post, id is null ? "Patient" : $"Patient/{id}", token, json, clock, answers, n.Item1);
                if (status is 200 or 201)
                {
                    var written = body!["id"].Str();
                    acks.Add((n.Item2, written, int.Parse(body["meta"]!["versionId"].Str(), System.Globalization.CultureInfo.InvariantCulture), family));
                    if (!update) mine.Add(written);
                }
                else await Task.Delay(20);
            }
        })).Concat(nodes.Select(n => Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
                if ((await TokenAsync(n.Item2, clock, answers, n.Item1)).Status != 200) await Task.Delay(20);
        }))).ToList();

        await Task.Delay(TimeSpan.FromSeconds(2));
        await postgres.StopAsync();
        var downAt = clock.Elapsed;

        // While it is down: a write, a read with a token and a token request, on each node, each a clean 503.
        await Task.Delay(TimeSpan.FromMilliseconds(1500)); // past the second a node may trust a token it validated
        foreach (var (name, node) in nodes)
        {
            var (status, body) = await FhirAsync(node, HttpMethod.Post, "Patient", token, """{"resourceType":"Patient"}""", clock, answers, name);
            status.ShouldBe(503, $"a write on node {name} while PostgreSQL is down");
            body!["resourceType"].Str().ShouldBe("OperationOutcome");
            body["issue"]![0]!["code"].Str().ShouldBe("transient");
            (status, body) = await FhirAsync(node, HttpMethod.Get, "Patient/alice", token, null, clock, answers, name);
            status.ShouldBe(503, $"a read on node {name} while PostgreSQL is down");
            body!["resourceType"].Str().ShouldBe("OperationOutcome");
            var tokenAnswer = await TokenAsync(node, clock, answers, name);
            tokenAnswer.Status.ShouldBe(503, $"a token request on node {name} while PostgreSQL is down: {tokenAnswer.Body.ToJsonString()}");
            tokenAnswer.Body["error"].Str().ShouldBe("temporarily_unavailable");
        }
        await Task.Delay(TimeSpan.FromMilliseconds(500));

        await postgres.StartAgainAsync();
        var upAt = clock.Elapsed;
        // Back without a restart of either node: a write and a token on each within a few seconds.
        foreach (var (name, node) in nodes)
        {
            await WaitUntilAsync(async () => (await FhirAsync(node, HttpMethod.Post, "Patient", token, """{"resourceType":"Patient"}""", clock, answers, name)).Status == 201,
                $"node {name} writes again");
            await WaitUntilAsync(async () => (await TokenAsync(node, clock, answers, name)).Status == 200, $"node {name} issues tokens again");
        }
        var recovered = clock.Elapsed - upAt;
        recovered.ShouldBeLessThan(TimeSpan.FromSeconds(5), "the nodes took too long to serve again after PostgreSQL came back");
        await Task.Delay(TimeSpan.FromSeconds(1));
        stop.Cancel();
        await Task.WhenAll(load).WaitAsync(TimeSpan.FromSeconds(30));

        // Every answer was a success or a clean 503, none took longer than the bound, and only during the outage
        // (plus the moments around its edges) were there 503s.
        var all = answers.ToList();
        all.Where(x => x.Status is not (200 or 201 or 503)).Select(x => $"{x.Node} {x.What} {x.Status} at {x.At.TotalSeconds:0.0}s: {x.Body}").ShouldBeEmpty();
        all.Max(x => x.Took).ShouldBeLessThan(Bound);
        var unavailable = all.Where(x => x.Status == 503).ToList();
        unavailable.Count.ShouldBeGreaterThan(4);
        foreach (var x in unavailable)
        {
            x.At.ShouldBeGreaterThan(downAt - TimeSpan.FromSeconds(1), $"503 before the outage: {x.What} {x.Body}");
            x.At.ShouldBeLessThan(upAt + recovered + TimeSpan.FromSeconds(1), $"503 after recovery: {x.What} {x.Body}");
            var body = JsonNode.Parse(x.Body)!;
            if (x.What.StartsWith("token", StringComparison.Ordinal)) body["error"].Str().ShouldBe("temporarily_unavailable");
            else body["resourceType"].Str().ShouldBe("OperationOutcome");
        }
        all.Count(x => x.Status is 200 or 201 && x.At > upAt + recovered).ShouldBeGreaterThan(10, "the load did not go on after the recovery");

        // Nothing acknowledged was lost: each acknowledged version is there as written.
        acks.Count.ShouldBeGreaterThan(10);
        foreach (var (node, id, version, family) in acks)
        {
            var (status, body) = await FhirAsync(node == a ? b : a, HttpMethod.Get, $"Patient/{id}/_history/{version}", token, null, clock, answers, "check");
            status.ShouldBe(200, $"acknowledged Patient/{id}/_history/{version} is missing");
            body!["name"]![0]!["family"].Str().ShouldBe(family);
        }

        // Revocation notifications work again: both nodes listen again, and a token revoked on B is refused by A at once.
        await WaitUntilAsync(() => Task.FromResult(a.Services.GetRequiredService<ClusterSignals>().Listening && b.Services.GetRequiredService<ClusterSignals>().Listening),
            "both nodes listen for notifications again");
        var fresh = (await TokenAsync(a, clock, answers, "A")).Body["access_token"].Str();
        (await FhirAsync(a, HttpMethod.Get, "Patient/alice", fresh, null, clock, answers, "A")).Status.ShouldBe(200);
        (await SmartApp.PostFormAsync(b, "/oauth/revoke", new() { ["token"] = fresh }, ("demo-backend", "demo-backend-secret"))).ShouldNotBeNull();
        await Task.Delay(150); // well under the second after which a node re-checks a token anyway
        (await FhirAsync(a, HttpMethod.Get, "Patient/alice", fresh, null, clock, answers, "A")).Status.ShouldBe(401);
    }

    private static async Task<(int Status, JsonNode? Body)> FhirAsync(IgnisServer node, HttpMethod method, string path, string token, string? json,
        Stopwatch clock, ConcurrentQueue<Answer> answers, string name)
    {
        using var request = new HttpRequestMessage(method, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        if (json is not null) request.Content = Http.Json(json);
        var (status, text) = await SendAsync(node, request, clock, answers, name, $"{method} {path}");
        return (status, text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text) : null);
    }

    private static async Task<(int Status, JsonNode Body)> TokenAsync(IgnisServer node, Stopwatch clock, ConcurrentQueue<Answer> answers, string name)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/oauth/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("demo-backend:demo-backend-secret")));
        var (status, text) = await SendAsync(node, request, clock, answers, name, "token");
        return (status, text.Length > 0 && text[0] == '{' ? JsonNode.Parse(text)! : new JsonObject());
    }

    private static async Task<(int, string)> SendAsync(IgnisServer node, HttpRequestMessage request, Stopwatch clock, ConcurrentQueue<Answer> answers, string name, string what)
    {
        var started = clock.Elapsed;
        int status;
        string text;
        try
        {
            using var timeout = new CancellationTokenSource(Bound);
            using var response = await node.Client.SendAsync(request, timeout.Token);
            status = (int)response.StatusCode;
            text = await response.Content.ReadAsStringAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            status = -1; // no answer within the bound: a hang
            text = "no answer within " + Bound;
        }
        answers.Enqueue(new Answer(name, what, status, started, clock.Elapsed - started, text));
        return (status, text);
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(15)) throw new TimeoutException("Waited 15 s for: " + what);
            await Task.Delay(100);
        }
    }
}
