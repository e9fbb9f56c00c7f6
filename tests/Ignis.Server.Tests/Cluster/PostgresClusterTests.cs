using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Tests.Registration;
using Ignis.Server.Tests.Auth;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Cluster;

/// <summary>
/// Two nodes in one process on one PostgreSQL database, as behind a load balancer: whatever one node starts, the
/// other finishes, and whatever one revokes, the other refuses. They share the public origin (the issuer).
/// </summary>
public sealed class PostgresClusterTests
{
    private const string PublicUrl = "https://fhir.cluster.test";
    private const string Aud = PublicUrl + "/fhir";

    private sealed class TwoNodes(IgnisServer a, IgnisServer b, string database) : IAsyncDisposable
    {
        public IgnisServer A { get; } = a;
        public IgnisServer B { get; } = b;

        public async ValueTask DisposeAsync()
        {
            await B.DisposeAsync();
            await A.DisposeAsync();
            await TestPostgres.DropDatabaseAsync(database);
        }
    }

    /// <summary>Node A seeds the demo data; node B starts on the same database.</summary>
    private static async Task<TwoNodes> StartAsync(params string[] extra)
    {
        TestPostgres.Require();
        var database = await TestPostgres.CreateDatabaseAsync();
        string[] common = ["--Ignis:PublicBaseUrl=" + PublicUrl, .. TestPostgres.Arguments(database), .. extra];
        var a = await IgnisServer.StartAsync(["--demo", .. common]);
        var b = await IgnisServer.StartInAsync(a.DataDirectory, ownsData: false, common);
        return new TwoNodes(a, b, database);
    }

    [Fact]
    public async Task Two_nodes_starting_together_on_an_empty_database_agree_on_one_schema_and_one_key_set()
    {
        TestPostgres.Require();
        var database = await TestPostgres.CreateDatabaseAsync();
        string[] args = ["--Ignis:PublicBaseUrl=" + PublicUrl, .. TestPostgres.Arguments(database)];
        var started = await Task.WhenAll(IgnisServer.StartAsync(args), IgnisServer.StartAsync(args));
        await using var nodes = new TwoNodes(started[0], started[1], database);
        (await KidsAsync(nodes.A)).ShouldBe(await KidsAsync(nodes.B));
        (await KidsAsync(nodes.A)).Count.ShouldBe(1);
    }

    [Fact]
    public async Task A_launch_begun_on_node_A_finishes_on_node_B_and_its_code_is_redeemed_on_A()
    {
        await using var nodes = await StartAsync();
        var cookies = new CookieContainer();
        using var onA = new SmartBrowser(nodes.A, cookies);
        using var onB = new SmartBrowser(nodes.B, cookies);
        await AuthorizeRequestTests.SignInAsync(onA, "carol", "carol-demo-pass");
        var minted = (await onA.NavigateAsync(new HttpRequestMessage(HttpMethod.Post, "/oauth/launch")
        {
            Content = JsonContent.Create(new { patient = "dave", client_id = "demo-app" }),
        })).Response;
        minted.StatusCode.ShouldBe(HttpStatusCode.Created);
        var launch = JsonNode.Parse(await minted.Content.ReadAsStringAsync())!["launch"].Str();

        // The sign-in session, the antiforgery token and the launch id were all made on A.
        var app = new SmartApp(nodes.B);
        var code = await app.AuthorizeAsync(onB, "carol", "carol-demo-pass", "openid fhirUser launch patient/*.rs offline_access",
            new Dictionary<string, string?> { ["launch"] = launch, ["aud"] = Aud });
        var body = await (await new SmartApp(nodes.A).ExchangeAsync(code, app.Verifier)).BodyAsync();
        body["patient"].Str().ShouldBe("dave");
        body["refresh_token"].ShouldNotBeNull();

        // Single use on every node.
        var again = await onA.GetAsync(new SmartApp(nodes.A).AuthorizeUrl("openid launch", new Dictionary<string, string?> { ["launch"] = launch, ["aud"] = Aud }));
        again.RedirectQuery["error"].ShouldBe("invalid_request");
    }

    [Fact]
    public async Task Code_exchanges_and_refreshes_work_on_a_sqlite_server_and_a_postgres_node_in_one_process()
    {
        // The token endpoint's compiled queries belong to one EF Core model; SQLite's and PostgreSQL's differ.
        await using var sqlite = await IgnisServer.StartAsync("--demo");
        await using var nodes = await StartAsync();
        foreach (var (server, aud) in new[] { (sqlite, sqlite.FhirBase), (nodes.A, Aud), (sqlite, sqlite.FhirBase) })
        {
            using var browser = new SmartBrowser(server);
            var app = new SmartApp(server);
            var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid patient/*.rs offline_access",
                new Dictionary<string, string?> { ["aud"] = aud });
            var exchanged = await app.ExchangeAsync(code);
            exchanged.StatusCode.ShouldBe(HttpStatusCode.OK, await exchanged.Content.ReadAsStringAsync());
            var refreshed = await app.RefreshAsync((await exchanged.BodyAsync())["refresh_token"].Str());
            refreshed.StatusCode.ShouldBe(HttpStatusCode.OK, await refreshed.Content.ReadAsStringAsync());
        }
    }

    [Fact]
    public async Task A_refresh_token_from_node_A_refreshes_on_node_B_and_its_reuse_on_A_revokes_the_grant()
    {
        await using var nodes = await StartAsync();
        using var browser = new SmartBrowser(nodes.A);
        var app = new SmartApp(nodes.A);
        var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid patient/*.rs offline_access",
            new Dictionary<string, string?> { ["aud"] = Aud });
        var first = await (await app.ExchangeAsync(code)).BodyAsync();

        var refreshed = await new SmartApp(nodes.B).RefreshAsync(first["refresh_token"].Str());
        refreshed.StatusCode.ShouldBe(HttpStatusCode.OK, await refreshed.Content.ReadAsStringAsync());
        var second = await refreshed.BodyAsync();
        (await ReadAsync(nodes.A, second["access_token"].Str(), "Patient/alice")).ShouldBe(HttpStatusCode.OK);

        // RFC 9700 §4.14.2: the used refresh token, presented to the other node, is refused and ends the grant there too.
        var reuse = await app.RefreshAsync(first["refresh_token"].Str());
        (await reuse.BodyAsync())["error"].Str().ShouldBe(Errors.InvalidGrant);
        (await new SmartApp(nodes.B).RefreshAsync(second["refresh_token"].Str())).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task A_token_revoked_on_node_B_is_refused_by_node_A_within_a_second()
    {
        await using var nodes = await StartAsync();
        var token = await BackendTokenAsync(nodes.A);
        // A has validated (and cached) the token.
        (await ReadAsync(nodes.A, token, "Patient/alice")).ShouldBe(HttpStatusCode.OK);
        (await ReadAsync(nodes.A, token, "Patient/alice")).ShouldBe(HttpStatusCode.OK);

        (await SmartApp.PostFormAsync(nodes.B, "/oauth/revoke", new() { ["token"] = token }, ("demo-backend", "demo-backend-secret"))).ShouldNotBeNull();
        var revoked = Stopwatch.StartNew();
        TimeSpan? refusedAt = null;
        while (revoked.Elapsed < TimeSpan.FromSeconds(3))
        {
            var sent = revoked.Elapsed;
            var status = await ReadAsync(nodes.A, token, "Patient/alice");
            if (status == HttpStatusCode.Unauthorized)
            {
                refusedAt ??= sent;
                continue;
            }
            refusedAt.ShouldBeNull("a request was refused, then one was accepted again");
            status.ShouldBe(HttpStatusCode.OK);
            sent.ShouldBeLessThan(TimeSpan.FromSeconds(1), "node A still accepted the token a second after node B revoked it");
        }
        refusedAt.ShouldNotBeNull();
        refusedAt.Value.ShouldBeLessThan(TimeSpan.FromSeconds(1));
    }

    [Fact]
    public async Task Node_A_forgets_a_token_revoked_on_node_B_as_soon_as_PostgreSQL_notifies_it()
    {
        await using var nodes = await StartAsync();
        await WaitUntilAsync(() => nodes.A.Services.GetRequiredService<ClusterSignals>().Listening, "node A listens");
        var token = await BackendTokenAsync(nodes.A);
        (await ReadAsync(nodes.A, token, "Patient/alice")).ShouldBe(HttpStatusCode.OK);
        (await SmartApp.PostFormAsync(nodes.B, "/oauth/revoke", new() { ["token"] = token }, ("demo-backend", "demo-backend-secret"))).ShouldNotBeNull();
        // Well under the cache's second: the notification, not the expiry, ended the cached validation.
        await Task.Delay(150);
        (await ReadAsync(nodes.A, token, "Patient/alice")).ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_node_whose_listening_connection_was_cut_listens_again_and_hears_the_next_revocation()
    {
        await using var nodes = await StartAsync();
        var signals = nodes.A.Services.GetRequiredService<ClusterSignals>();
        await WaitUntilAsync(() => signals.Listening, "node A listens");
        var database = new Npgsql.NpgsqlConnectionStringBuilder(nodes.A.Services.GetRequiredService<Ignis.Server.Data.AuthDatabase>().ConnectionString).Database!;
        // The listening backends' process ids; terminating them cuts both nodes' listening connections.
        async Task<List<int>> ListenersAsync(bool terminate)
        {
            await using var admin = new Npgsql.NpgsqlConnection(TestPostgres.AdminConnectionString);
            await admin.OpenAsync();
            await using var command = new Npgsql.NpgsqlCommand(
                "SELECT pid" + (terminate ? ", pg_terminate_backend(pid)" : "") +
                " FROM pg_stat_activity WHERE datname = @db AND application_name = @name", admin);
            command.Parameters.AddWithValue("db", database);
            command.Parameters.AddWithValue("name", ClusterSignals.ListenerName);
            var pids = new List<int>();
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync()) pids.Add(reader.GetInt32(0));
            return pids;
        }
        var cut = await ListenersAsync(terminate: true);
        cut.Count.ShouldBe(2);
        await WaitUntilAsync(async () => (await ListenersAsync(terminate: false)).Except(cut).Count() == 2 && signals.Listening, "both nodes listen again");

        var token = await BackendTokenAsync(nodes.A);
        (await ReadAsync(nodes.A, token, "Patient/alice")).ShouldBe(HttpStatusCode.OK);
        await SmartApp.PostFormAsync(nodes.B, "/oauth/revoke", new() { ["token"] = token }, ("demo-backend", "demo-backend-secret"));
        await Task.Delay(150);
        (await ReadAsync(nodes.A, token, "Patient/alice")).ShouldBe(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_client_assertion_used_on_node_A_is_refused_on_node_B()
    {
        await using var nodes = await StartAsync();
        var key = ClientKey.Create("ES256");
        var clientId = await BackendClients.RegisterAsync(nodes.A, jwks: ClientKey.Jwks(key));
        var assertion = new Assertion(key, clientId, PublicUrl + "/oauth/token").Sign();
        (await BackendClients.TokenAsync(nodes.A, assertion)).Status.ShouldBe(200);
        var replay = await BackendClients.TokenAsync(nodes.B, assertion);
        replay.Body["error_description"].Str().ShouldBe(ClientAssertionErrors.Replayed);
    }

    [Fact]
    public async Task A_key_rotation_reaches_both_nodes_and_tokens_signed_before_it_stay_valid_on_both()
    {
        await using var nodes = await StartAsync();
        var before = await BackendTokenAsync(nodes.A);
        var oldKid = Kid(before);

        var (current, next, _, _) = await nodes.A.Services.GetRequiredService<KeyRing>().RotateAsync(TimeSpan.FromSeconds(3), CancellationToken.None);
        current.ShouldBe(oldKid);
        // Published by both nodes before it signs anything (B hears of it from PostgreSQL).
        await WaitUntilAsync(async () => (await KidsAsync(nodes.B)).Contains(next), "node B publishes the next key");
        Kid(await BackendTokenAsync(nodes.B)).ShouldBe(oldKid);

        await WaitUntilAsync(async () => Kid(await BackendTokenAsync(nodes.B)) == next, "node B signs with the next key");
        Kid(await BackendTokenAsync(nodes.A)).ShouldBe(next);
        var after = await BackendTokenAsync(nodes.B);
        foreach (var node in new[] { nodes.A, nodes.B })
        {
            (await KidsAsync(node)).ShouldContain(oldKid);
            (await ReadAsync(node, before, "Patient/alice")).ShouldBe(HttpStatusCode.OK);
            (await ReadAsync(node, after, "Patient/alice")).ShouldBe(HttpStatusCode.OK);
        }
    }

    [Fact]
    public async Task The_password_grant_limit_counts_the_attempts_on_every_node_together()
    {
        await using var nodes = await StartAsync("--Ignis:Auth:LegacyGrants:Password=true",
            "--Ignis:Auth:LegacyGrants:PasswordRateLimit=4", "--Ignis:Auth:LegacyGrants:PasswordRateWindow=00:01:00");
        var registered = await Registrations.RegisterAsAdminAsync(nodes.A, new ClientMetadata
        {
            ClientName = "Legacy app", RedirectUris = ["http://127.0.0.1/cb"], TokenEndpointAuthMethod = "none",
            GrantTypes = ["authorization_code", "refresh_token"],
        });
        var clientId = registered.Client!.ClientId;
        (await Registrations.WithRegistryAsync(nodes.A, r => r.SetLegacyGrantAsync(clientId, LegacyGrant.Password, enabled: true))).Error.ShouldBeNull();
        Task<HttpResponseMessage> GuessAsync(IgnisServer node, int i) => Registrations.TokenAsync(node, new()
        {
            ["grant_type"] = "password", ["client_id"] = clientId, ["username"] = "nobody-" + i, ["password"] = "x", ["scope"] = "patient/*.rs",
        });

        // Two tries on each node: four in all, the limit.
        for (var i = 0; i < 4; i++) (await GuessAsync(i % 2 == 0 ? nodes.A : nodes.B, i)).StatusCode.ShouldBe(HttpStatusCode.BadRequest);
        (await GuessAsync(nodes.A, 4)).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
        (await GuessAsync(nodes.B, 5)).StatusCode.ShouldBe(HttpStatusCode.TooManyRequests);
    }

    [Fact]
    public async Task Pruning_runs_on_one_node_at_a_time()
    {
        await using var nodes = await StartAsync("--Ignis:Auth:PruneRetention=00:00:00", "--Ignis:Auth:PruneInterval=1.00:00:00");
        var token = await BackendTokenAsync(nodes.A);
        await SmartApp.PostFormAsync(nodes.A, "/oauth/revoke", new() { ["token"] = token }, ("demo-backend", "demo-backend-secret"));
        await Task.Delay(TimeSpan.FromSeconds(1)); // rows must be older than "now - 0"
        async Task<int> TokensAsync()
        {
            await using var scope = nodes.A.Services.CreateAsyncScope();
            return await scope.ServiceProvider.GetRequiredService<Ignis.Server.Data.AuthDbContext>()
                .Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken>().CountAsync();
        }
        var before = await TokensAsync();
        var pruningOnA = nodes.A.Services.GetServices<IHostedService>().OfType<TokenPruning>().Single();

        // While node B prunes (holds the lock), node A skips its round.
        await using (var turnOfB = await nodes.B.Services.GetRequiredService<Ignis.Server.Data.AuthDatabase>().TryLockAsync(Ignis.Server.Data.ClusterLock.TokenPruning))
        {
            turnOfB.ShouldNotBeNull();
            await pruningOnA.PruneOnceAsync(CancellationToken.None);
            (await TokensAsync()).ShouldBe(before);
        }
        await pruningOnA.PruneOnceAsync(CancellationToken.None);
        (await TokensAsync()).ShouldBeLessThan(before);
    }

    private static async Task<string> BackendTokenAsync(IgnisServer server)
    {
        var body = await SmartApp.PostFormAsync(server, "/oauth/token",
            new() { ["grant_type"] = "client_credentials", ["scope"] = "system/*.cruds" }, ("demo-backend", "demo-backend-secret"));
        return body["access_token"].Str();
    }

    private static string Kid(string jwt) => SmartApp.JwtPart(jwt, 0)["kid"].Str();

    private static async Task<HttpStatusCode> ReadAsync(IgnisServer server, string token, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await server.Client.SendAsync(request);
        return response.StatusCode;
    }

    private static async Task<List<string>> KidsAsync(IgnisServer server)
    {
        using var http = new HttpClient { BaseAddress = server.Origin };
        return [.. JsonNode.Parse(await http.GetStringAsync("/oauth/jwks"))!["keys"]!.AsArray().Select(k => k!["kid"].Str())];
    }

    private static Task WaitUntilAsync(Func<bool> condition, string what) => WaitUntilAsync(() => Task.FromResult(condition()), what);

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string what)
    {
        var clock = Stopwatch.StartNew();
        while (!await condition())
        {
            if (clock.Elapsed > TimeSpan.FromSeconds(15)) throw new TimeoutException("Waited 15 s for: " + what);
            await Task.Delay(50);
        }
    }
}
