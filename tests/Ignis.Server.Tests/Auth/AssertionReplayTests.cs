using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Tests.Auth;

/// <summary>
/// The jti of a client assertion is accepted once on every node: two servers on one database (as behind a load
/// balancer, one public URL) and the used-id table's expiry and pruning.
/// </summary>
public sealed class AssertionReplayTests
{
    private const string PublicUrl = "https://ignis.example";
    private const string Audience = PublicUrl + "/oauth/token";

    private static async Task<(IgnisServer A, IgnisServer B)> TwoNodesAsync()
    {
        var a = await IgnisServer.StartAsync("--Ignis:PublicBaseUrl=" + PublicUrl);
        var b = await IgnisServer.StartInAsync(a.DataDirectory, ownsData: false, "--Ignis:PublicBaseUrl=" + PublicUrl);
        return (a, b);
    }

    [Fact]
    public async Task An_assertion_used_on_one_node_is_refused_on_the_other()
    {
        var (a, b) = await TwoNodesAsync();
        await using (b)
        await using (a)
        {
            var key = ClientKey.Create("ES384");
            var clientId = await BackendClients.RegisterAsync(a, jwks: ClientKey.Jwks(key));
            var assertion = new Assertion(key, clientId, Audience).Sign();

            var first = await BackendClients.TokenAsync(a, assertion);
            first.Status.ShouldBe(200, first.Body.ToJsonString());
            var replay = await BackendClients.TokenAsync(b, assertion);
            replay.Body["error"].Str().ShouldBe(Errors.InvalidClient);
            replay.Body["error_description"].Str().ShouldBe(ClientAssertionErrors.Replayed);

            // And a fresh assertion is fine on the second node.
            (await BackendClients.TokenAsync(b, new Assertion(key, clientId, Audience).Sign())).Status.ShouldBe(200);
        }
    }

    [Fact]
    public async Task Two_nodes_racing_with_the_same_assertion_give_one_token()
    {
        var (a, b) = await TwoNodesAsync();
        await using (b)
        await using (a)
        {
            var key = ClientKey.Create("ES256");
            var clientId = await BackendClients.RegisterAsync(a, jwks: ClientKey.Jwks(key));
            for (var round = 0; round < 8; round++)
            {
                var assertion = new Assertion(key, clientId, Audience).Sign();
                var results = await Task.WhenAll(
                    BackendClients.TokenAsync(a, assertion), BackendClients.TokenAsync(b, assertion),
                    BackendClients.TokenAsync(a, assertion), BackendClients.TokenAsync(b, assertion));
                results.Count(r => r.Status == 200).ShouldBe(1, string.Join("\n", results.Select(r => r.Body.ToJsonString())));
                results.Where(r => r.Status != 200).ShouldAllBe(r => r.Body["error_description"]!.GetValue<string>() == ClientAssertionErrors.Replayed);
            }
            // A refused replay leaves no token row behind: one row per token issued.
            await using var scope = a.Services.CreateAsyncScope();
            var rows = await scope.ServiceProvider.GetRequiredService<AuthDbContext>()
                .Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken>().CountAsync(t => t.Subject == clientId);
            rows.ShouldBe(8);
        }
    }

    [Fact]
    public async Task A_used_jti_is_kept_until_its_assertion_expires_then_pruned_and_usable_again()
    {
        await using var server = await IgnisServer.StartAsync("--Ignis:Auth:ClientAssertions:ClockSkew=00:00:00");
        var key = ClientKey.Create("RS256");
        var clientId = await BackendClients.RegisterAsync(server, jwks: ClientKey.Jwks(key));
        var aud = BackendClients.TokenEndpoint(server);
        // Lifetimes of a few seconds, not one: a busy 2-core CI machine can take a second to answer.
        var exp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 5;
        var assertion = new Assertion(key, clientId, aud).With("jti", "short-lived").With("exp", exp).Sign();
        (await BackendClients.TokenAsync(server, assertion)).Status.ShouldBe(200);
        (await CountAsync(server, clientId, "short-lived")).ShouldBe(1);

        while (DateTimeOffset.UtcNow.ToUnixTimeSeconds() <= exp) await Task.Delay(200);
        // The assertion itself is dead, so its jti may name a new one.
        var again = await BackendClients.TokenAsync(server, new Assertion(key, clientId, aud).With("jti", "short-lived").Sign());
        again.Status.ShouldBe(200, again.Body.ToJsonString());
        (await BackendClients.TokenAsync(server, new Assertion(key, clientId, aud).With("jti", "short-lived").Sign())).Body["error_description"].Str()
            .ShouldBe(ClientAssertionErrors.Replayed);

        var otherExp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 4;
        var other = new Assertion(key, clientId, aud).With("jti", "pruned").With("exp", otherExp).Sign();
        (await BackendClients.TokenAsync(server, other)).Status.ShouldBe(200);
        while (DateTimeOffset.UtcNow.ToUnixTimeSeconds() <= otherExp + 1) await Task.Delay(200);
        (await server.Services.GetRequiredService<AssertionReplayCache>().PruneAsync(CancellationToken.None)).ShouldBe(1);
        (await CountAsync(server, clientId, "pruned")).ShouldBe(0);
        (await CountAsync(server, clientId, "short-lived")).ShouldBe(1);
    }

    private static async Task<int> CountAsync(IgnisServer server, string clientId, string jti)
    {
        await using var scope = server.Services.CreateAsyncScope();
        var key = AssertionReplayCache.KeyOf(clientId, jti);
        return await scope.ServiceProvider.GetRequiredService<AuthDbContext>().Set<UsedClientAssertion>().CountAsync(u => u.Key == key);
    }
}
