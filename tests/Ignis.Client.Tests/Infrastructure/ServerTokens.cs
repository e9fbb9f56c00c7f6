using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Client.Tests.Infrastructure;

/// <summary>What the server's token table says (the server side of a count).</summary>
public static class ServerTokens
{
    /// <summary>Refresh tokens the server issued to <paramref name="user"/> since <paramref name="since"/> (each one is a refresh, or a sign-in).</summary>
    public static async Task<int> RefreshTokensIssuedAsync(IgnisServer server, string user, DateTimeOffset since)
    {
        using var scope = server.Services.CreateScope();
        var id = (await scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>().FindByNameAsync(user))!.Id;
        var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var count = 0;
        await foreach (var token in tokens.FindBySubjectAsync(id))
        {
            var type = await tokens.GetTypeAsync(token);
            if (type is not (TokenTypeIdentifiers.RefreshToken or TokenTypeHints.RefreshToken)) continue;
            if (await tokens.GetCreationDateAsync(token) is { } created && created >= since.AddSeconds(-1)) count++;
        }
        return count;
    }
}

/// <summary>A demo server whose access tokens live three seconds, to watch them expire.</summary>
public sealed class ShortLivedTokensServerFixture : IAsyncLifetime
{
    public IgnisServer Server { get; private set; } = null!;

    public async ValueTask InitializeAsync() => Server = await IgnisServer.StartAsync("--demo", "--Ignis:Auth:AccessTokenLifetime=00:00:03");

    public ValueTask DisposeAsync() => Server.DisposeAsync();
}
