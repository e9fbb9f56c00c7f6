using Microsoft.Extensions.Options;

namespace Ignis.Server.Auth;

/// <summary>
/// Deletes expired, redeemed and revoked tokens, authorizations without tokens, and old launch ids, once per
/// <see cref="AuthOptions.PruneInterval"/>; rows younger than <see cref="AuthOptions.PruneRetention"/> stay
/// (reuse detection needs redeemed refresh tokens for a while). Every issued token is a row, so without this
/// the tables grow with every request. On PostgreSQL one node at a time prunes (an advisory lock); the others skip
/// the round.
/// </summary>
public sealed partial class TokenPruning(
    IServiceScopeFactory scopes, Ignis.Server.Data.AuthDatabase database, IOptions<AuthOptions> options, TimeProvider clock, ILogger<TokenPruning> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.PruneInterval, clock);
        do
        {
            try
            {
                await PruneOnceAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogPruneFailed(logger, e);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    public async Task PruneOnceAsync(CancellationToken ct)
    {
        await using var turn = await database.TryLockAsync(Ignis.Server.Data.ClusterLock.TokenPruning, ct);
        if (turn is null) return;
        using var scope = scopes.CreateScope();
        var threshold = (clock.GetUtcNow() - options.Value.PruneRetention).UtcDateTime;
        // OpenIddict's stores' and LaunchService's deletes, as plain SQL (PruningSql): this runs at every start.
        var tokens = await PruningSql.TokensAsync(database, threshold, clock.GetUtcNow().UtcDateTime, ct);
        var authorizations = await PruningSql.AuthorizationsAsync(database, threshold, ct);
        var launches = await PruningSql.LaunchesAsync(database, threshold, ct);
        await scope.ServiceProvider.GetRequiredService<Clients.PasswordGrantLimiter>().PruneAsync(ct);
        if (tokens + authorizations + launches > 0) LogPruned(logger, tokens, authorizations, launches);
    }

    [LoggerMessage(EventId = 3200, Level = LogLevel.Information, Message = "Pruned {Tokens} tokens, {Authorizations} authorizations, {Launches} launch ids")]
    private static partial void LogPruned(ILogger logger, long tokens, long authorizations, long launches);

    [LoggerMessage(EventId = 3201, Level = LogLevel.Warning, Message = "Pruning tokens failed; will retry at the next interval")]
    private static partial void LogPruneFailed(ILogger logger, Exception exception);
}
