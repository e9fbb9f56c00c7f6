using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Hosting;
using Microsoft.AspNetCore.Builder;

namespace Ignis.Server.Tests.Infrastructure;

/// <summary>
/// A real Ignis server: Kestrel on a free loopback port, a fresh SQLite file in a temp directory, or with
/// IGNIS_TEST_STORAGE=postgres a fresh PostgreSQL database (<see cref="TestPostgres"/>).
/// Tests talk to it over real sockets with a plain HttpClient.
/// </summary>
public sealed class IgnisServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private readonly bool _ownsData;
    private readonly string? _database;

    private IgnisServer(WebApplication app, string dataDir, Uri origin, Uri? secureOrigin, bool ownsData = true, string? database = null)
    {
        _app = app;
        _ownsData = ownsData;
        _database = database;
        DataDirectory = dataDir;
        Origin = origin;
        SecureOrigin = secureOrigin;
        Client = new HttpClient { BaseAddress = new Uri(origin, "/fhir/"), Timeout = TimeSpan.FromSeconds(60) };
    }

    public string DataDirectory { get; }
    /// <summary>The insecure interface (plain http), or the secure one when the server listens on https only.</summary>
    public Uri Origin { get; }
    /// <summary>The secure interface (https), when the server listens on one (<see cref="StartBothAsync"/>).</summary>
    public Uri? SecureOrigin { get; }
    public HttpClient Client { get; }
    /// <summary>The server's services, for arranging state a test cannot reach over HTTP (e.g. registering a client).</summary>
    public IServiceProvider Services => _app.Services;
    public string FhirBase => new Uri(Origin, "/fhir").ToString();

    /// <summary>The FHIR API without access control (loopback only): for tests of FHIR behaviour itself.</summary>
    public const string Open = "--Ignis:Fhir:Anonymous=Allow";

    public static Task<IgnisServer> StartAsync(params string[] extraArgs)
    {
        var dataDir = Path.Combine(Path.GetTempPath(), "ignis-test-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dataDir);
        return StartInAsync(dataDir, ownsData: true, extraArgs);
    }

    /// <summary>A server on an existing data folder, which it leaves in place when disposed unless it owns it (restart tests).</summary>
    public static async Task<IgnisServer> StartInAsync(string dataDir, bool ownsData, params string[] extraArgs)
    {
        // IGNIS_TEST_STORAGE=postgres: each data folder gets its own database (a restart on the folder finds it again),
        // unless the test chose the storage itself.
        string? database = null;
        if (TestPostgres.IsDefaultStorage && !extraArgs.Any(a => a.Contains("Ignis:Storage:", StringComparison.Ordinal)))
        {
            database = await TestPostgres.DatabaseForAsync(dataDir);
            extraArgs = [.. TestPostgres.Arguments(database), .. extraArgs];
        }
        var app = IgnisApp.Build(["--urls", "http://127.0.0.1:0", "--data", dataDir, "--Logging:LogLevel:Default=Warning", .. extraArgs]);
        await app.StartAsync();
        var addresses = app.Urls.Select(u => new Uri(u.Replace("0.0.0.0", "127.0.0.1"))).ToList();
        var secure = addresses.FirstOrDefault(u => u.Scheme == Uri.UriSchemeHttps);
        var origin = addresses.FirstOrDefault(u => u.Scheme == Uri.UriSchemeHttp) ?? secure!;
        return new IgnisServer(app, dataDir, origin, secure, ownsData, database);
    }

    /// <summary>Both interfaces on free loopback ports: plain http (<see cref="Origin"/>) and https (<see cref="SecureOrigin"/>).</summary>
    public static Task<IgnisServer> StartBothAsync(params string[] extraArgs) =>
        StartAsync(["--urls", BothInterfaces, .. extraArgs]);

    /// <summary>A server on an existing data folder with both interfaces (restart tests).</summary>
    public static Task<IgnisServer> StartBothInAsync(string dataDir, bool ownsData, params string[] extraArgs) =>
        StartInAsync(dataDir, ownsData, ["--urls", BothInterfaces, .. extraArgs]);

    public const string BothInterfaces = "http://127.0.0.1:0;https://127.0.0.1:0";

    private bool _view;

    /// <summary>
    /// The same node as reached through <paramref name="origin"/> (a load balancer in front of several nodes): tests
    /// address requests to the balancer and arrange state through this node's services. Disposing it leaves the node running.
    /// </summary>
    public static IgnisServer Through(IgnisServer node, Uri origin) => new(node._app, node.DataDirectory, origin, null, ownsData: false) { _view = true };

    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        if (_view) return;
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (!_ownsData) return;
        if (_database is not null) await TestPostgres.DropDatabaseAsync(_database);
        try { Directory.Delete(DataDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>One server per test class, seeded with the demo users, clients and records (--demo).</summary>
public sealed class DemoServerFixture : IAsyncLifetime
{
    public IgnisServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await IgnisServer.StartAsync("--demo");

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

/// <summary>One server per test class, its FHIR API open (no token needed) to test FHIR behaviour.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    public IgnisServer Server { get; private set; } = null!;
    public HttpClient Client => Server.Client;

    public async ValueTask InitializeAsync() => Server = await IgnisServer.StartAsync(IgnisServer.Open);

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}

public static class Http
{
    public const string FhirJson = "application/fhir+json";

    public static StringContent Json(string json, string mime = FhirJson) => new(json, Encoding.UTF8, mime);

    public static StringContent Json(JsonNode node) => Json(node.ToJsonString());

    public static async Task<JsonNode> BodyAsync(this HttpResponseMessage response)
    {
        var text = await response.Content.ReadAsStringAsync();
        return JsonNode.Parse(text) ?? throw new InvalidOperationException("empty body");
    }

    public static async Task<HttpResponseMessage> PostAsync(this HttpClient client, string url, string json, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = Json(json) };
        foreach (var (name, value) in headers) request.Headers.TryAddWithoutValidation(name, value);
        return await client.SendAsync(request);
    }

    public static async Task<HttpResponseMessage> SendAsync(this HttpClient client, HttpMethod method, string url, string? json = null, params (string Name, string Value)[] headers)
    {
        using var request = new HttpRequestMessage(method, url);
        if (json is not null) request.Content = Json(json);
        foreach (var (name, value) in headers)
            if (!request.Headers.TryAddWithoutValidation(name, value)) request.Content?.Headers.TryAddWithoutValidation(name, value);
        return await client.SendAsync(request);
    }

    /// <summary>Creates a resource and returns its id.</summary>
    public static async Task<string> CreateAsync(this HttpClient client, string json)
    {
        var type = JsonNode.Parse(json)!["resourceType"]!.GetValue<string>();
        var response = await client.PostAsync(type, json);
        if ((int)response.StatusCode != 201)
            throw new InvalidOperationException($"create {type}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return (await response.BodyAsync())["id"]!.GetValue<string>();
    }

    public static async Task ShouldBeOutcomeAsync(this HttpResponseMessage response, int status)
    {
        var text = await response.Content.ReadAsStringAsync();
        ((int)response.StatusCode).ShouldBe(status, text);
        response.Content.Headers.ContentType?.MediaType.ShouldBe(FhirJson, text);
        var body = JsonNode.Parse(text)!;
        body["resourceType"]!.GetValue<string>().ShouldBe("OperationOutcome", text);
        body["issue"]!.AsArray().Count.ShouldBeGreaterThan(0);
    }

    public static string Str(this JsonNode? node) => node?.GetValue<string>() ?? throw new InvalidOperationException("missing");

    public static JsonSerializerOptions Options { get; } = new() { WriteIndented = false };

    public static MediaTypeWithQualityHeaderValue Accept(string mime) => new(mime);
}
