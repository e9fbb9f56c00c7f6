using System.Collections.Immutable;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;

namespace Ignis.Server.Auth;

/// <summary>
/// OpenIddict's per-request token cache, made on first use. OpenIddict's managers are resolved for every handler that
/// takes one, which most token requests never ask to find a token: a backend-services token request built (and
/// disposed) a memory cache per manager for nothing, ~3 % of its allocations (docs/benchmarks.md).
/// </summary>
public sealed class LazyTokenCache<TToken>(IOptionsMonitor<OpenIddictCoreOptions> options, IOpenIddictTokenStore<TToken> store)
    : IOpenIddictTokenCache<TToken>, IDisposable where TToken : class
{
    private OpenIddictTokenCache<TToken>? _inner;

    private OpenIddictTokenCache<TToken> Inner => _inner ??= new(options, store);

    public ValueTask AddAsync(TToken token, CancellationToken cancellationToken) => Inner.AddAsync(token, cancellationToken);

    public IAsyncEnumerable<TToken> FindAsync(string? subject, string? client, string? status, string? type, CancellationToken cancellationToken) =>
        Inner.FindAsync(subject, client, status, type, cancellationToken);

    public IAsyncEnumerable<TToken> FindByApplicationIdAsync(string identifier, CancellationToken cancellationToken) =>
        Inner.FindByApplicationIdAsync(identifier, cancellationToken);

    public IAsyncEnumerable<TToken> FindByAuthorizationIdAsync(string identifier, CancellationToken cancellationToken) =>
        Inner.FindByAuthorizationIdAsync(identifier, cancellationToken);

    public ValueTask<TToken?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => Inner.FindByIdAsync(identifier, cancellationToken);

    public ValueTask<TToken?> FindByReferenceIdAsync(string identifier, CancellationToken cancellationToken) =>
        Inner.FindByReferenceIdAsync(identifier, cancellationToken);

    public IAsyncEnumerable<TToken> FindBySubjectAsync(string subject, CancellationToken cancellationToken) => Inner.FindBySubjectAsync(subject, cancellationToken);

    // Nothing cached yet: nothing to forget.
    public ValueTask RemoveAsync(TToken token, CancellationToken cancellationToken) => _inner?.RemoveAsync(token, cancellationToken) ?? default;

    public void Dispose() => _inner?.Dispose();
}

/// <summary>OpenIddict's per-request authorization cache, made on first use (<see cref="LazyTokenCache{TToken}"/>).</summary>
public sealed class LazyAuthorizationCache<TAuthorization>(IOptionsMonitor<OpenIddictCoreOptions> options, IOpenIddictAuthorizationStore<TAuthorization> store)
    : IOpenIddictAuthorizationCache<TAuthorization>, IDisposable where TAuthorization : class
{
    private OpenIddictAuthorizationCache<TAuthorization>? _inner;

    private OpenIddictAuthorizationCache<TAuthorization> Inner => _inner ??= new(options, store);

    public ValueTask AddAsync(TAuthorization authorization, CancellationToken cancellationToken) => Inner.AddAsync(authorization, cancellationToken);

    public IAsyncEnumerable<TAuthorization> FindAsync(
        string? subject, string? client, string? status, string? type, ImmutableArray<string>? scopes, CancellationToken cancellationToken) =>
        Inner.FindAsync(subject, client, status, type, scopes, cancellationToken);

    public IAsyncEnumerable<TAuthorization> FindByApplicationIdAsync(string identifier, CancellationToken cancellationToken) =>
        Inner.FindByApplicationIdAsync(identifier, cancellationToken);

    public ValueTask<TAuthorization?> FindByIdAsync(string identifier, CancellationToken cancellationToken) => Inner.FindByIdAsync(identifier, cancellationToken);

    public IAsyncEnumerable<TAuthorization> FindBySubjectAsync(string subject, CancellationToken cancellationToken) =>
        Inner.FindBySubjectAsync(subject, cancellationToken);

    public ValueTask RemoveAsync(TAuthorization authorization, CancellationToken cancellationToken) =>
        _inner?.RemoveAsync(authorization, cancellationToken) ?? default;

    public void Dispose() => _inner?.Dispose();
}
