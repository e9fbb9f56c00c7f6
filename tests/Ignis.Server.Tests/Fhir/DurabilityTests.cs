using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.Data.Sqlite;

namespace Ignis.Server.Tests.Fhir;

/// <summary>kill -9 during a write load: every acknowledged write survives, and nothing is half-written.</summary>
public sealed class DurabilityTests
{
    [Fact]
    public async Task Every_acknowledged_write_survives_kill_9_and_no_half_written_rows_remain()
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "ignis-kill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        var port = FreePort();
        var acknowledged = new ConcurrentBag<(string Id, string Family)>();

        var server = StartServer(dataDir, port);
        using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/fhir/"), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            await WaitUntilUp(client);
            using var stop = new CancellationTokenSource();
            var writers = Enumerable.Range(0, 6).Select(w => Task.Run(async () =>
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var family = $"W{w}N{i}";
                    var bundleOrSingle = i % 5 == 0;
                    try
                    {
                        if (bundleOrSingle)
                        {
                            var id = $"kb-{w}-{i}";
                            var bundle =
                                "{\"resourceType\":\"Bundle\",\"type\":\"transaction\",\"entry\":[" +
                                $"{{\"resource\":{{\"resourceType\":\"Patient\",\"id\":\"{id}\",\"name\":[{{\"family\":\"{family}\"}}]}},\"request\":{{\"method\":\"PUT\",\"url\":\"Patient/{id}\"}}}}," +
                                $"{{\"resource\":{{\"resourceType\":\"Observation\",\"id\":\"{id}-o\",\"status\":\"final\",\"code\":{{\"text\":\"t\"}},\"subject\":{{\"reference\":\"Patient/{id}\"}}}},\"request\":{{\"method\":\"PUT\",\"url\":\"Observation/{id}-o\"}}}}]}}";
                            var r = await client.PostAsync("", Http.Json(bundle));
                            if (r.StatusCode == HttpStatusCode.OK) acknowledged.Add((id, family));
                        }
                        else
                        {
                            var r = await client.PostAsync("Patient", Http.Json($$$"""{"resourceType":"Patient","name":[{"family":"{{{family}}}"}]}"""));
                            if (r.StatusCode == HttpStatusCode.Created) acknowledged.Add(((await r.BodyAsync())["id"].Str(), family));
                        }
                    }
                    catch (HttpRequestException) { return; }
                    catch (TaskCanceledException) { return; }
                    catch (IOException) { return; }
                }
            })).ToList();

            await Task.Delay(TimeSpan.FromSeconds(4));
            server.Kill(entireProcessTree: true); // SIGKILL: no shutdown, no flush
            await server.WaitForExitAsync();
            stop.Cancel();
            await Task.WhenAll(writers);
            acknowledged.Count.ShouldBeGreaterThan(20);

            server = StartServer(dataDir, port);
            await WaitUntilUp(client);
            foreach (var (id, family) in acknowledged)
            {
                var response = await client.GetAsync($"Patient/{id}");
                response.StatusCode.ShouldBe(HttpStatusCode.OK, $"acknowledged Patient/{id} is missing after kill -9");
                (await response.BodyAsync())["name"]![0]!["family"].Str().ShouldBe(family);
            }
        }
        finally
        {
            if (!server.HasExited) server.Kill(entireProcessTree: true);
            await server.WaitForExitAsync();
        }

        using var connection = new SqliteConnection($"Data Source={Path.Combine(dataDir, "ignis.db")};Pooling=False");
        connection.Open();
        Scalar(connection, "PRAGMA integrity_check").ShouldBe("ok");
        foreach (var table in new[] { "idx_string", "idx_token", "idx_date", "idx_reference", "idx_uri", "idx_quantity", "idx_number", "idx_composite" })
            Scalar(connection, $"SELECT COUNT(*) FROM {table} WHERE res_key NOT IN (SELECT res_key FROM resources WHERE deleted = 0)").ShouldBe("0", table);
        Scalar(connection, "SELECT COUNT(*) FROM resources r WHERE NOT EXISTS (SELECT 1 FROM history h WHERE h.res_key = r.res_key AND h.version = r.version)").ShouldBe("0");
        Scalar(connection, "SELECT COUNT(*) FROM resources WHERE deleted = 0 AND (body IS NULL OR json_valid(body) = 0)").ShouldBe("0");
        Scalar(connection, "SELECT COUNT(*) FROM resources r WHERE r.type = 'Observation' AND NOT EXISTS (SELECT 1 FROM resources p WHERE p.type = 'Patient' AND p.id = substr(r.id, 1, length(r.id) - 2))").ShouldBe("0");
        try { Directory.Delete(dataDir, true); } catch (IOException) { }
    }

    private static string Scalar(SqliteConnection c, string sql)
    {
        using var cmd = c.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToString(cmd.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture)!;
    }

    private static Process StartServer(string dataDir, int port)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "Ignis.Server.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { dll, "--urls", $"http://127.0.0.1:{port}", "--data", dataDir, "--Logging:LogLevel:Default=Warning", IgnisServer.Open },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(info)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    private static async Task WaitUntilUp(HttpClient client)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                if ((await client.GetAsync("/healthz")).IsSuccessStatusCode) return;
            }
            catch (HttpRequestException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("the server did not start");
    }

    private static int FreePort()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
