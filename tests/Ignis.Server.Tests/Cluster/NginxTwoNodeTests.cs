using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Server.Tests.Cluster;

/// <summary>
/// Two nodes on one PostgreSQL database behind Debian's nginx, round robin and without sticky sessions, as
/// docs/deploy.md describes: an app and a person go through the whole SMART launch with every request landing
/// on whichever node nginx picks.
/// </summary>
public sealed class NginxTwoNodeTests
{
    private const string Nginx = "/usr/sbin/nginx";

    [Fact]
    public async Task A_launch_refresh_and_revocation_work_through_a_round_robin_balancer_over_two_nodes()
    {
        TestPostgres.Require();
        RequireNginx();
        var port = FreePort();
        var origin = new Uri($"http://127.0.0.1:{port}");
        var database = await TestPostgres.CreateDatabaseAsync();
        string[] args = ["--Ignis:PublicBaseUrl=" + origin.GetLeftPart(UriPartial.Authority), .. TestPostgres.Arguments(database)];
        await using var a = await IgnisServer.StartAsync(["--demo", .. args]);
        await using var b = await IgnisServer.StartInAsync(a.DataDirectory, ownsData: false, args);
        await using var balancer = await NginxBalancer.StartAsync(port, a.Origin, b.Origin);
        try
        {
            await using var lb = IgnisServer.Through(a, origin);
            using var browser = new SmartBrowser(lb);
            var app = new SmartApp(lb);
            var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid fhirUser patient/*.rs offline_access");
            var tokens = await (await app.ExchangeAsync(code)).BodyAsync();
            var access = tokens["access_token"].Str();
            for (var i = 0; i < 4; i++) (await ReadAsync(lb, access)).ShouldBe(HttpStatusCode.OK);

            var refreshed = await (await app.RefreshAsync(tokens["refresh_token"].Str())).BodyAsync();
            access = refreshed["access_token"].Str();
            for (var i = 0; i < 4; i++) (await ReadAsync(lb, access)).ShouldBe(HttpStatusCode.OK);

            await SmartApp.PostFormAsync(lb, "/oauth/revoke", new() { ["token"] = access, ["client_id"] = app.ClientId });
            var revoked = Stopwatch.StartNew();
            while (await ReadAsync(lb, access) == HttpStatusCode.OK)
                revoked.Elapsed.ShouldBeLessThan(TimeSpan.FromSeconds(1), "a node still accepted the token a second after its revocation");
            for (var i = 0; i < 4; i++) (await ReadAsync(lb, access)).ShouldBe(HttpStatusCode.Unauthorized);

            // Both nodes took part in the sign-in and consent pages and in the token and FHIR requests.
            var served = balancer.UpstreamsByPath();
            foreach (var path in new[] { "/oauth/authorize", "/oauth/token", "/fhir/Patient/alice" })
                served.GetValueOrDefault(path, []).Count.ShouldBe(2, $"{path} was served by {string.Join(", ", served.GetValueOrDefault(path, []))}");
        }
        finally
        {
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    private static async Task<HttpStatusCode> ReadAsync(IgnisServer server, string token)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "Patient/alice");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await server.Client.SendAsync(request);
        return response.StatusCode;
    }

    private static void RequireNginx()
    {
        if (File.Exists(Nginx)) return;
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"CI=true but {Nginx} is missing: scripts/test.sh installs Debian's nginx-light.");
        Assert.Skip($"{Nginx} is missing (apt-get install nginx-light); skipped.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>nginx in the foreground with a configuration of its own in a temp directory.</summary>
    private sealed class NginxBalancer : IAsyncDisposable
    {
        private readonly Process _process;
        private readonly string _directory;

        private NginxBalancer(Process process, string directory)
        {
            _process = process;
            _directory = directory;
        }

        public static async Task<NginxBalancer> StartAsync(int port, params Uri[] nodes)
        {
            var directory = Path.Combine(Path.GetTempPath(), "ignis-nginx-" + Guid.NewGuid().ToString("N"));
            Directory.CreateDirectory(directory);
            var upstreams = string.Join("\n", nodes.Select(n => $"    server {n.Authority};"));
            // Round robin, no stickiness, no retry on another node: every request is answered by the node it reached.
            File.WriteAllText(Path.Combine(directory, "nginx.conf"), $$"""
                worker_processes 1;
                error_log {{directory}}/error.log warn;
                pid {{directory}}/nginx.pid;
                events { worker_connections 256; }
                http {
                  log_format upstreams '$uri $upstream_addr $status';
                  access_log {{directory}}/access.log upstreams;
                  client_body_temp_path {{directory}}/body;
                  proxy_temp_path {{directory}}/proxy;
                  fastcgi_temp_path {{directory}}/fastcgi;
                  uwsgi_temp_path {{directory}}/uwsgi;
                  scgi_temp_path {{directory}}/scgi;
                  upstream ignis {
                {{upstreams}}
                  }
                  server {
                    listen 127.0.0.1:{{port}};
                    location / {
                      proxy_pass http://ignis;
                      proxy_http_version 1.1;
                      proxy_set_header Connection "";
                      proxy_set_header Host $http_host;
                      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
                      proxy_set_header X-Forwarded-Proto $scheme;
                      proxy_next_upstream off;
                    }
                  }
                }
                """);
            var start = new ProcessStartInfo(Nginx)
            {
                ArgumentList = { "-p", directory, "-c", Path.Combine(directory, "nginx.conf"), "-g", "daemon off;" + (Environment.UserName == "root" ? " user root;" : "") },
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            var process = Process.Start(start) ?? throw new InvalidOperationException("nginx did not start");
            var balancer = new NginxBalancer(process, directory);
            var clock = Stopwatch.StartNew();
            while (true)
            {
                if (process.HasExited)
                    throw new InvalidOperationException("nginx exited: " + await process.StandardError.ReadToEndAsync() + ReadOrEmpty(Path.Combine(directory, "error.log")));
                try
                {
                    using var probe = new TcpClient();
                    await probe.ConnectAsync(IPAddress.Loopback, port);
                    return balancer;
                }
                catch (SocketException) when (clock.Elapsed < TimeSpan.FromSeconds(15))
                {
                    await Task.Delay(50);
                }
            }
        }

        /// <summary>Which nodes (upstream addresses) answered each path, from the access log.</summary>
        public Dictionary<string, HashSet<string>> UpstreamsByPath()
        {
            var served = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
            foreach (var line in File.ReadAllLines(Path.Combine(_directory, "access.log")))
            {
                var parts = line.Split(' ');
                if (parts.Length < 2 || parts[1] == "-") continue;
                if (!served.TryGetValue(parts[0], out var set)) served[parts[0]] = set = [];
                set.Add(parts[1]);
            }
            return served;
        }

        private static string ReadOrEmpty(string path) => File.Exists(path) ? File.ReadAllText(path) : "";

        public async ValueTask DisposeAsync()
        {
            if (!_process.HasExited)
            {
                // nginx -s stop: the master stops its worker and exits; killing the master would orphan the worker.
                using (var stop = Process.Start(Nginx, ["-p", _directory, "-c", Path.Combine(_directory, "nginx.conf"), "-s", "stop"]))
                    await stop.WaitForExitAsync();
                using var patience = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                try
                {
                    await _process.WaitForExitAsync(patience.Token);
                }
                catch (OperationCanceledException)
                {
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
            _process.Dispose();
            try { Directory.Delete(_directory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
