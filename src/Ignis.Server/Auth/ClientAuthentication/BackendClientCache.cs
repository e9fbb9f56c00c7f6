using System.Collections.Concurrent;
using System.Data.Common;
using Ignis.Server.Data;
using Microsoft.AspNetCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace Ignis.Server.Auth.ClientAuthentication;

/// <summary>
/// The applications of token requests (client credentials, code exchange, refresh), kept between requests on this node and re-validated on
/// every use by their concurrency token (OpenIddict changes it on every update, and a deleted client has none):
/// one indexed single-column read instead of an EF Core query that materializes the whole row, the largest
/// database cost of a backend-services token (measured: ~12 % of its CPU). A changed or deleted client is seen
/// at once, on every node. Only those token requests use it: they only read the application, so sharing
/// one loaded instance between them is safe; every other request gets OpenIddict's per-request cache unchanged.
/// </summary>
public sealed class BackendClientCache(AuthDatabase database, PreparedReads reads)
{
    private const int MaxClients = 10_000;
    private const string TokenQuery = "SELECT \"ConcurrencyToken\" FROM \"OpenIddictApplications\" WHERE \"ClientId\" = @id";

    private readonly ConcurrentDictionary<string, OpenIddictEntityFrameworkCoreApplication> _clients = new(StringComparer.Ordinal);

    public async ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindAsync(
        string clientId, Func<ValueTask<OpenIddictEntityFrameworkCoreApplication?>> load, CancellationToken ct)
    {
        var current = await ConcurrencyTokenAsync(clientId, ct);
        if (current is null)
        {
            _clients.TryRemove(clientId, out _);
            return null;
        }
        if (_clients.TryGetValue(clientId, out var known) && string.Equals(known.ConcurrencyToken, current, StringComparison.Ordinal))
            return known;

        var application = await load();
        if (application is not null && string.Equals(application.ConcurrencyToken, current, StringComparison.Ordinal))
        {
            if (_clients.Count >= MaxClients) _clients.Clear();
            _clients[clientId] = application;
        }
        return application;
    }

    /// <summary>The row's concurrency token ("" when it has none), or null when no client has this id.</summary>
    private async ValueTask<string?> ConcurrencyTokenAsync(string clientId, CancellationToken ct)
    {
        if (database.IsPostgres)
        {
            await using var connection = await database.OpenAsync(ct);
            await using var command = connection.CreateCommand();
            command.CommandText = TokenQuery;
            var id = command.CreateParameter();
            id.ParameterName = "@id";
            id.Value = clientId;
            command.Parameters.Add(id);
            return ValueOf(await command.ExecuteScalarAsync(ct));
        }
        // On SQLite one indexed lookup, cheaper than opening a pooled connection (which runs the auth pragmas) and
        // compiling the statement: a kept connection holds it compiled, and a read outside a transaction sees every
        // commit made before it, as a fresh connection would.
        return reads.ReadOne(TokenQuery, "@id", clientId, row => row.IsDBNull(0) ? "" : row.GetString(0));
    }

    private static string? ValueOf(object? value) => value switch { null => null, DBNull => "", _ => (string)value };
}

/// <summary>OpenIddict's per-request application cache, answering the token requests that only read their client from <see cref="BackendClientCache"/>.</summary>
public sealed class BackendClientAwareApplicationCache(
    IOptionsMonitor<OpenIddictCoreOptions> options, IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    BackendClientCache clients, IHttpContextAccessor http)
    : IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication>, IDisposable
{
    // Made on first use: the token requests answered from BackendClientCache never need it.
    private OpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication>? _cache;
    private OpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> Inner => _cache ??= new(options, store);
    private OpenIddictEntityFrameworkCoreApplication? _found;

    public ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByClientIdAsync(string identifier, CancellationToken cancellationToken)
    {
        if (!IsReadOnlyTokenRequest()) return Inner.FindByClientIdAsync(identifier, cancellationToken);
        // One validation per request: OpenIddict looks the client up a dozen times while handling it.
        if (_found is not null && string.Equals(_found.ClientId, identifier, StringComparison.Ordinal)) return new(_found);
        return FindAsync(identifier, cancellationToken);
    }

    private async ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindAsync(string identifier, CancellationToken ct)
    {
        var application = await clients.FindAsync(identifier, () => Inner.FindByClientIdAsync(identifier, ct), ct);
        _found = application;
        return application;
    }

    /// <summary>
    /// A token request whose grant only reads its client: client credentials, and the code exchange and refresh of
    /// user grants (their token rows take the client's id, TokenStore). The password grant is left out: it goes
    /// through the sign-in services of the pages.
    /// </summary>
    private bool IsReadOnlyTokenRequest() =>
        http.HttpContext is { } context && context.Request.Path.Equals(AuthEndpoints.Token, StringComparison.Ordinal)
        && context.GetOpenIddictServerRequest() is { } request
        && (request.IsClientCredentialsGrantType() || request.IsAuthorizationCodeGrantType() || request.IsRefreshTokenGrantType());

    public ValueTask AddAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken) =>
        Inner.AddAsync(application, cancellationToken);

    public ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByIdAsync(string identifier, CancellationToken cancellationToken) =>
        Inner.FindByIdAsync(identifier, cancellationToken);

    public IAsyncEnumerable<OpenIddictEntityFrameworkCoreApplication> FindByPostLogoutRedirectUriAsync(string uri, CancellationToken cancellationToken) =>
        Inner.FindByPostLogoutRedirectUriAsync(uri, cancellationToken);

    public IAsyncEnumerable<OpenIddictEntityFrameworkCoreApplication> FindByRedirectUriAsync(string uri, CancellationToken cancellationToken) =>
        Inner.FindByRedirectUriAsync(uri, cancellationToken);

    public void Dispose() => _cache?.Dispose();

    public ValueTask RemoveAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken)
    {
        if (ReferenceEquals(_found, application)) _found = null;
        return _cache?.RemoveAsync(application, cancellationToken) ?? default;
    }
}
