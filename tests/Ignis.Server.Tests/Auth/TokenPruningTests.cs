using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using OpenIddict.EntityFrameworkCore.Models;

namespace Ignis.Server.Tests.Auth;

public sealed class TokenPruningTests
{
    [Fact]
    public async Task Pruning_deletes_revoked_tokens_and_their_authorization_after_the_retention_and_keeps_valid_ones()
    {
        // No retention, and an interval long enough that only this test's call prunes.
        await using var server = await IgnisServer.StartAsync("--demo", "--Ignis:Auth:PruneRetention=00:00:00", "--Ignis:Auth:PruneInterval=1.00:00:00");
        async Task<System.Text.Json.Nodes.JsonNode> GrantAsync()
        {
            using var browser = new SmartBrowser(server);
            var app = new SmartApp(server);
            var code = await app.AuthorizeAsync(browser, "alice", "alice-demo-pass", "openid launch/patient patient/*.rs offline_access");
            return await (await app.ExchangeAsync(code)).BodyAsync();
        }
        var kept = await GrantAsync();
        var revoked = await GrantAsync();
        // Reusing a rotated-out refresh token revokes the whole grant: its authorization and every token.
        (await new SmartApp(server).RefreshAsync(revoked["refresh_token"].Str())).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
        (await new SmartApp(server).RefreshAsync(revoked["refresh_token"].Str())).StatusCode.ShouldBe(System.Net.HttpStatusCode.BadRequest);

        async Task<(int Tokens, int Authorizations, int Revoked)> CountAsync()
        {
            await using var scope = server.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
            var authorizations = db.Set<OpenIddictEntityFrameworkCoreAuthorization>();
            return (await db.Set<OpenIddictEntityFrameworkCoreToken>().CountAsync(), await authorizations.CountAsync(),
                await authorizations.CountAsync(a => a.Status != "valid"));
        }
        var before = await CountAsync();
        await Task.Delay(TimeSpan.FromSeconds(1)); // rows must be older than "now - 0"
        var pruning = server.Services.GetServices<IHostedService>().OfType<TokenPruning>().Single();
        await pruning.PruneOnceAsync(CancellationToken.None);
        var after = await CountAsync();

        after.Tokens.ShouldBeLessThan(before.Tokens);
        // Left: the kept grant's authorization and the current consent record. Gone: the earlier consent record
        // (revoked when the second consent replaced it) and the reused grant's authorization (no tokens left).
        after.Authorizations.ShouldBe(2, $"before {before}, after {after}");
        after.Revoked.ShouldBe(0);
        // The revoked grant is gone, the other one still works.
        (await (await new SmartApp(server).RefreshAsync(revoked["refresh_token"].Str())).BodyAsync())["error"].Str().ShouldBe("invalid_grant");
        (await SmartApp.IntrospectAsync(server, kept["access_token"].Str()))["active"]!.GetValue<bool>().ShouldBeTrue();
        (await new SmartApp(server).RefreshAsync(kept["refresh_token"].Str())).StatusCode.ShouldBe(System.Net.HttpStatusCode.OK);
    }
}
