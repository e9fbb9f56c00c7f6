using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Data;
using Ignis.Server.Tests.Clients;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.External;

/// <summary>
/// A real OpenID Connect provider on loopback: node oidc-provider run by tests/clients/external-idp.mjs, with its
/// development login and consent pages, one client for Ignis, and test routes that sign JWTs with its own keys
/// and count its jwks_uri fetches.
/// </summary>
public sealed class ExternalIdp : IAsyncDisposable
{
    public const string ClientId = "ignis";
    public const string ClientSecret = "ignis-secret-0123456789abcdef0123456789";

    private readonly Process _node;
    private readonly HttpClient _http;

    private ExternalIdp(Process node, string issuer)
    {
        _node = node;
        Issuer = issuer;
        _http = new HttpClient { BaseAddress = new Uri(issuer), Timeout = TimeSpan.FromSeconds(30) };
    }

    public string Issuer { get; }
    public string JwksUri => Issuer + "/jwks";

    public static async Task<ExternalIdp> StartAsync(IEnumerable<string> redirectUris, JsonObject accounts)
    {
        var folder = NodeScripts.Folder();
        await NodeScripts.EnsureInstalledAsync(folder, "oidc-provider", "jose");
        var node = NodeScripts.Start("node", folder, new Dictionary<string, string>
        {
            ["IDP_CLIENT_ID"] = ClientId,
            ["IDP_CLIENT_SECRET"] = ClientSecret,
            ["IDP_REDIRECT_URIS"] = string.Join(' ', redirectUris),
            ["IDP_ACCOUNTS"] = accounts.ToJsonString(),
        }, "external-idp.mjs");
        _ = node.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            var line = await node.StandardOutput.ReadLineAsync(timeout.Token)
                ?? throw new InvalidOperationException("external-idp.mjs ended before it listened.");
            if (!line.StartsWith('{')) continue;
            var issuer = JsonNode.Parse(line)!["issuer"]!.GetValue<string>();
            _ = DrainAsync(node);
            return new ExternalIdp(node, issuer);
        }
    }

    private static async Task DrainAsync(Process node)
    {
        try { while (await node.StandardOutput.ReadLineAsync() is not null) { } } catch (IOException) { } catch (ObjectDisposedException) { }
    }

    /// <summary>A JWT signed by the provider: key "rsa" (RS256) or "ec" (ES256), both published, or "stranger" (never published).</summary>
    public async Task<string> MintAsync(object claims, string key = "rsa", object? header = null)
    {
        var response = await _http.PostAsJsonAsync("/_test/mint", new { key, claims, header = header ?? new { } });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString()!;
    }

    public async Task<int> JwksFetchesAsync() => (await StatsAsync())["jwks"]!.GetValue<int>();

    /// <summary>The parameters of every authorization request the provider accepted, oldest first.</summary>
    public async Task<JsonArray> AuthorizationRequestsAsync() => (await StatsAsync())["authorize"]!.AsArray();

    private async Task<JsonNode> StatsAsync() => JsonNode.Parse(await _http.GetStringAsync("/_test/stats"))!;

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        try
        {
            _node.StandardInput.Close();
            using var exit = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            await _node.WaitForExitAsync(exit.Token);
        }
        catch (OperationCanceledException)
        {
            _node.Kill();
        }
        _node.Dispose();
    }

    public static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        return port;
    }
}

/// <summary>
/// The provider and a demo Ignis that trusts it twice: as the delegated sign-in provider "idp" (link by verified
/// email, else provision) and as the issuer "idp-jwt" of bearer tokens for the FHIR API (preferred_username names
/// the local user; scopes user/*.rs).
/// </summary>
public class ExternalIdentityFixture : IAsyncLifetime
{
    public const string Audience = "ignis-fhir-api";
    public const string ProviderName = "idp";

    /// <summary>The provider's accounts: login name → claims.</summary>
    public static readonly JsonObject Accounts = new()
    {
        ["carol-ext"] = new JsonObject { ["email"] = "carol@clinic.example", ["email_verified"] = true, ["name"] = "Carol Clinician" },
        ["newbie"] = new JsonObject { ["email"] = "newbie@example.org", ["email_verified"] = true, ["name"] = "New Bie", ["given_name"] = "New", ["family_name"] = "Bie" },
        ["mallory"] = new JsonObject { ["email"] = "alice@home.example", ["email_verified"] = false, ["name"] = "Not Alice" },
    };

    public ExternalIdp Idp { get; private set; } = null!;
    public IgnisServer Server { get; private set; } = null!;

    public virtual async ValueTask InitializeAsync()
    {
        var port = ExternalIdp.FreePort();
        Idp = await ExternalIdp.StartAsync([$"http://127.0.0.1:{port}/account/external/{ProviderName}/callback"], Accounts);
        Server = await IgnisServer.StartAsync("--demo", "--urls", $"http://127.0.0.1:{port}",
            $"--Ignis:External:Providers:{ProviderName}:Authority={Idp.Issuer}",
            $"--Ignis:External:Providers:{ProviderName}:ClientId={ExternalIdp.ClientId}",
            $"--Ignis:External:Providers:{ProviderName}:ClientSecret={ExternalIdp.ClientSecret}",
            $"--Ignis:External:Providers:{ProviderName}:DisplayName=Test IdP",
            $"--Ignis:External:Providers:{ProviderName}:FirstSignIn=LinkOrProvision",
            $"--Ignis:External:Issuers:idp-jwt:Issuer={Idp.Issuer}",
            $"--Ignis:External:Issuers:idp-jwt:JwksUri={Idp.JwksUri}",
            $"--Ignis:External:Issuers:idp-jwt:Audiences:0={Audience}",
            "--Ignis:External:Issuers:idp-jwt:UserClaim=preferred_username",
            "--Ignis:External:Issuers:idp-jwt:MapBy=Username",
            "--Ignis:External:Issuers:idp-jwt:Scopes=user/*.rs",
            // An unknown kid makes the server fetch the jwks_uri again at most once a second (default ten).
            "--Ignis:Auth:ClientAssertions:JwksUriRefetchInterval=00:00:01");
        await SetEmailAsync("carol", "carol@clinic.example");
        await SetEmailAsync("alice", "alice@home.example");
    }

    private async Task SetEmailAsync(string userName, string email)
    {
        using var scope = Server.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
        var user = (await users.FindByNameAsync(userName))!;
        (await users.SetEmailAsync(user, email)).Succeeded.ShouldBeTrue();
    }

    public virtual async ValueTask DisposeAsync()
    {
        if (Server is not null) await Server.DisposeAsync();
        if (Idp is not null) await Idp.DisposeAsync();
    }
}
