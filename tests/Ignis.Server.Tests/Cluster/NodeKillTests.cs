using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Ignis.Server.Tests.Infrastructure;
using Npgsql;

namespace Ignis.Server.Tests.Cluster;

/// <summary>
/// Two nodes as separate processes on one PostgreSQL database, writers on both, and kill -9 of one of them mid-load:
/// nothing either node acknowledged is lost, nothing is half-written, and the other node never stops answering.
/// </summary>
public sealed class NodeKillTests
{
    private sealed record Ack(string Id, int Version, string Family, bool WithObservation);

    [Fact]
    public async Task Killing_one_node_mid_load_loses_no_acknowledged_write_and_the_other_node_keeps_answering()
    {
        TestPostgres.RequirePostgresPass();
        var database = await TestPostgres.CreateDatabaseAsync();
        await using var a = NodeProcess.Start(database);
        await using var b = NodeProcess.Start(database);
        try
        {
            await Task.WhenAll(a.WaitUntilUpAsync(), b.WaitUntilUpAsync());
            var acks = new ConcurrentBag<Ack>();
            var acksOfA = new int[1];
            var clock = Stopwatch.StartNew();
            TimeSpan? killedAt = null;
            // What node B answered: when each answer came, and anything that was not a success.
            var answersOfB = new ConcurrentQueue<TimeSpan>();
            var failuresOfB = new ConcurrentQueue<string>();
            using var stop = new CancellationTokenSource();

            async Task WriteAsync(NodeProcess node, string writer)
            {
                var mine = new List<(string Id, int Version, bool WithObservation)>();
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var family = $"{writer}n{i}";
                    try
                    {
                        Ack? ack;
                        if (i % 5 == 4)
                        {
                            // A transaction: a Patient and its Observation together, or neither.
                            var id = $"tx-{writer}-{i}";
                            var bundle = new JsonObject
                            {
                                ["resourceType"] = "Bundle", ["type"] = "transaction",
                                ["entry"] = new JsonArray(
                                    Entry(new JsonObject { ["resourceType"] = "Patient", ["id"] = id, ["name"] = new JsonArray(new JsonObject { ["family"] = family }) }, $"Patient/{id}"),
                                    Entry(new JsonObject
                                    {
                                        ["resourceType"] = "Observation", ["id"] = id + "-o", ["status"] = "final", ["code"] = new JsonObject { ["text"] = "t" },
                                        ["subject"] = new JsonObject { ["reference"] = $"Patient/{id}" },
                                    }, $"Observation/{id}-o")),
                            };
                            using var response = await node.Client.PostAsync("", Http.Json(bundle));
                            ack = response.StatusCode == HttpStatusCode.OK
                                ? new Ack(id, Version((await response.BodyAsync())["entry"]![0]!["response"]!["etag"].Str()), family, true)
                                : null;
                            if (ack is null) Failed(node, $"transaction {(int)response.StatusCode}");
                        }
                        else if (i % 3 == 2 && mine.Count > 0)
                        {
                            // An update of one of this writer's Patients (nobody else writes them).
                            var (id, _, withObservation) = mine[i % mine.Count];
                            var patient = new JsonObject { ["resourceType"] = "Patient", ["id"] = id, ["name"] = new JsonArray(new JsonObject { ["family"] = family }) };
                            using var response = await node.Client.PutAsync($"Patient/{id}", Http.Json(patient));
                            ack = response.StatusCode == HttpStatusCode.OK
                                ? new Ack(id, int.Parse((await response.BodyAsync())["meta"]!["versionId"].Str(), System.Globalization.CultureInfo.InvariantCulture), family, withObservation)
                                : null;
                            if (ack is null) Failed(node, $"update {(int)response.StatusCode}");
                        }
                        else
                        {
                            using var response = await node.Client.PostAsync("Patient", Http.Json($$"""{"resourceType":"Patient","name":[{"family":"{{family}}"}]}"""));
                            ack = response.StatusCode == HttpStatusCode.Created
                                ? new Ack((await response.BodyAsync())["id"].Str(), 1, family, false)
                                : null;
                            if (ack is null) Failed(node, $"create {(int)response.StatusCode}");
                        }
                        if (ack is null) continue;
                        acks.Add(ack);
                        if (ack.Version == 1) mine.Add((ack.Id, 1, ack.WithObservation));
                        if (node == b) answersOfB.Enqueue(clock.Elapsed);
                        else Interlocked.Increment(ref acksOfA[0]);
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                    {
                        // Node A's writers lose their node; node B must not fail at all.
                        if (node == b) failuresOfB.Enqueue(e.GetType().Name + ": " + e.Message);
                        else if (killedAt is not null) return;
                        else throw;
                    }
                }
            }

            void Failed(NodeProcess node, string what)
            {
                if (node == b) failuresOfB.Enqueue(what);
            }

            var writers = Enumerable.Range(0, 3).Select(w => Task.Run(() => WriteAsync(a, $"a{w}")))
                .Concat(Enumerable.Range(0, 3).Select(w => Task.Run(() => WriteAsync(b, $"b{w}")))).ToList();
            await Task.Delay(TimeSpan.FromSeconds(4));
            a.Kill(); // SIGKILL: no shutdown, no rollback by the node; PostgreSQL sees its connections drop
            killedAt = clock.Elapsed;
            await Task.Delay(TimeSpan.FromSeconds(4));
            stop.Cancel();
            var finished = Task.WhenAll(writers);
            (await Task.WhenAny(finished, Task.Delay(TimeSpan.FromSeconds(20)))).ShouldBe(finished, "the writers did not finish");
            await finished;

            failuresOfB.ShouldBeEmpty("node B failed requests: " + string.Join("; ", failuresOfB.Take(5)));
            var afterKill = answersOfB.Where(t => t > killedAt.Value).Order().ToList();
            afterKill.Count.ShouldBeGreaterThan(10, "node B answered too few writes after node A was killed");
            // No stall on B: the longest pause between B's answers around and after the kill.
            var around = answersOfB.Where(t => t > killedAt.Value - TimeSpan.FromSeconds(1)).Order().ToList();
            around.Zip(around.Skip(1), (x, y) => y - x).Max().ShouldBeLessThan(TimeSpan.FromSeconds(3), "node B stalled after the kill");
            acksOfA[0].ShouldBeGreaterThan(5, "node A acknowledged too few writes before it was killed");
            acks.Count.ShouldBeGreaterThan(20);

            // Every acknowledged version, read through the node that lived, is there with what was written.
            foreach (var ack in acks)
            {
                using var version = await b.Client.GetAsync($"Patient/{ack.Id}/_history/{ack.Version}");
                version.StatusCode.ShouldBe(HttpStatusCode.OK, $"acknowledged Patient/{ack.Id}/_history/{ack.Version} is missing");
                (await version.BodyAsync())["name"]![0]!["family"].Str().ShouldBe(ack.Family);
                if (ack.WithObservation)
                    (await b.Client.GetAsync($"Observation/{ack.Id}-o")).StatusCode.ShouldBe(HttpStatusCode.OK, $"the Observation of transaction {ack.Id} is missing");
            }
            foreach (var latest in acks.GroupBy(x => x.Id).Select(g => g.MaxBy(x => x.Version)!))
            {
                using var current = await b.Client.GetAsync($"Patient/{latest.Id}");
                var version = int.Parse((await current.BodyAsync())["meta"]!["versionId"].Str(), System.Globalization.CultureInfo.InvariantCulture);
                version.ShouldBeGreaterThanOrEqualTo(latest.Version, $"Patient/{latest.Id} went back behind an acknowledged version");
            }
            // The search index agrees with the current versions (the last acknowledged write of each of a sample).
            foreach (var latest in acks.GroupBy(x => x.Id).Select(g => g.MaxBy(x => x.Version)!).Take(40))
            {
                using var current = await b.Client.GetAsync($"Patient/{latest.Id}");
                var family = (await current.BodyAsync())["name"]![0]!["family"].Str();
                var found = await (await b.Client.GetAsync($"Patient?family:exact={family}")).BodyAsync();
                found["entry"]!.AsArray().Select(e => e!["resource"]!["id"].Str()).ShouldBe([latest.Id]);
            }

            await AssertNothingHalfWrittenAsync(database);
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    private static JsonObject Entry(JsonObject resource, string url) =>
        new() { ["resource"] = resource, ["request"] = new JsonObject { ["method"] = "PUT", ["url"] = url } };

    /// <summary>W/"3" → 3.</summary>
    private static int Version(string etag) => int.Parse(etag.Trim('W', '/', '"'), System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The rows themselves: every current row has its history row, index rows only for current resources, transactions whole.</summary>
    private static async Task AssertNothingHalfWrittenAsync(string database)
    {
        await using var connection = new NpgsqlConnection(database);
        await connection.OpenAsync();
        async Task<long> CountAsync(string sql)
        {
            await using var command = new NpgsqlCommand(sql, connection);
            return Convert.ToInt64(await command.ExecuteScalarAsync(), System.Globalization.CultureInfo.InvariantCulture);
        }
        (await CountAsync("SELECT COUNT(*) FROM resources r WHERE NOT EXISTS (SELECT 1 FROM history h WHERE h.res_key = r.res_key AND h.version = r.version)"))
            .ShouldBe(0, "current rows without their history row");
        (await CountAsync("SELECT COUNT(*) FROM resources WHERE deleted = 0 AND body IS NULL")).ShouldBe(0, "current rows without a body");
        foreach (var table in new[] { "idx_string", "idx_token", "idx_date", "idx_reference", "idx_uri", "idx_quantity", "idx_number", "idx_composite" })
            (await CountAsync($"SELECT COUNT(*) FROM {table} WHERE res_key NOT IN (SELECT res_key FROM resources WHERE deleted = 0)")).ShouldBe(0, table);
        (await CountAsync("SELECT COUNT(*) FROM resources p WHERE p.type = 'Patient' AND p.id LIKE 'tx-%' AND NOT EXISTS " +
                          "(SELECT 1 FROM resources o WHERE o.type = 'Observation' AND o.id = p.id || '-o')")).ShouldBe(0, "a transaction's Patient without its Observation");
        (await CountAsync("SELECT COUNT(*) FROM resources o WHERE o.type = 'Observation' AND o.id LIKE 'tx-%' AND NOT EXISTS " +
                          "(SELECT 1 FROM resources p WHERE p.type = 'Patient' AND p.id || '-o' = o.id)")).ShouldBe(0, "a transaction's Observation without its Patient");
        // Every Patient has its family in the string index (name indexing of each write happened with it).
        (await CountAsync("SELECT COUNT(*) FROM resources r WHERE r.type = 'Patient' AND r.deleted = 0 AND NOT EXISTS " +
                          "(SELECT 1 FROM idx_string s WHERE s.res_key = r.res_key AND s.value = r.body->'name'->0->>'family')")).ShouldBe(0, "a Patient whose current family is not indexed");
    }

    /// <summary>An Ignis node as its own OS process (dotnet Ignis.Server.dll), the FHIR API open on loopback.</summary>
    private sealed class NodeProcess : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _dataDirectory;

        private NodeProcess(Process process, string dataDirectory, int port)
        {
            _process = process;
            _dataDirectory = dataDirectory;
            Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/fhir/"), Timeout = TimeSpan.FromSeconds(15) };
        }

        public HttpClient Client { get; }

        public static NodeProcess Start(string connectionString)
        {
            var dataDirectory = Path.Combine(Path.GetTempPath(), "ignis-node-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(dataDirectory);
            var port = FreePort();
            var info = new ProcessStartInfo("dotnet")
            {
                ArgumentList =
                {
                    Path.Combine(AppContext.BaseDirectory, "Ignis.Server.dll"), "--urls", $"http://127.0.0.1:{port}", "--data", dataDirectory,
                    "--Logging:LogLevel:Default=Warning", IgnisServer.Open,
                },
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var argument in TestPostgres.Arguments(connectionString)) info.ArgumentList.Add(argument);
            var process = Process.Start(info)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return new NodeProcess(process, dataDirectory, port);
        }

        public async Task WaitUntilUpAsync()
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(60))
            {
                if (_process.HasExited) throw new InvalidOperationException($"the node exited with {_process.ExitCode}");
                try
                {
                    using var health = await Client.GetAsync("/healthz");
                    if (health.IsSuccessStatusCode) return;
                }
                catch (HttpRequestException) { }
                await Task.Delay(100);
            }
            throw new TimeoutException("the node did not start within 60 s");
        }

        /// <summary>kill -9.</summary>
        public void Kill() => _process.Kill(entireProcessTree: true);

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            if (!_process.HasExited) _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
            _process.Dispose();
            try { Directory.Delete(_dataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
