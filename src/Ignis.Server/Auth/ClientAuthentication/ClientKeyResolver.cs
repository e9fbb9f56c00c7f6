using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Server.Auth.ClientAuthentication;

/// <summary>The public keys a client registered: inline (OpenIddict's JsonWebKeySet column) or by jwks_uri.</summary>
public sealed record ClientKeyRegistration(string ClientId, string? InlineJwks, string? JwksUri);

/// <summary>The outcome of looking up the keys that may have signed an assertion: keys, or why there are none.</summary>
public readonly record struct ClientKeyLookup(IReadOnlyList<SecurityKey> Keys, string? Error)
{
    public static ClientKeyLookup Failed(string error) => new([], error);
}

/// <summary>
/// Resolves the signing keys of a client. Inline key sets are parsed once per distinct document. A jwks_uri is
/// fetched over https (or http on a loopback address), kept as long as its Cache-Control allows, and fetched
/// again once when an assertion names a kid the cached document lacks (the client rotated its keys), at most
/// once per <see cref="ClientAssertionOptions.JwksUriRefetchInterval"/>. Fetches of one URI are single-flight.
/// </summary>
public sealed partial class ClientKeyResolver(
    IHttpClientFactory http, IOptions<ClientAssertionOptions> options, TimeProvider clock, ILogger<ClientKeyResolver> logger)
{
    public const string HttpClientName = "ignis-jwks-uri";
    private const int MaxCachedDocuments = 10_000;

    private readonly ConcurrentDictionary<string, IReadOnlyList<SecurityKey>> _inline = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RemoteKeySet> _remote = new(StringComparer.Ordinal);

    public async ValueTask<ClientKeyLookup> GetKeysAsync(ClientKeyRegistration client, string? kid, CancellationToken ct)
    {
        if (!string.IsNullOrEmpty(client.JwksUri)) return await FromUriAsync(client.JwksUri, kid, ct);
        if (string.IsNullOrEmpty(client.InlineJwks))
            return ClientKeyLookup.Failed("The client has no registered public keys (jwks or jwks_uri): it cannot use private_key_jwt.");

        if (!_inline.TryGetValue(client.InlineJwks, out var keys))
        {
            if (!TryParse(client.InlineJwks, out keys)) return ClientKeyLookup.Failed("The client's registered jwks is not a valid JSON Web Key Set.");
            if (_inline.Count >= MaxCachedDocuments) _inline.Clear();
            _inline[client.InlineJwks] = keys;
        }
        return Select(keys, kid, "registered jwks");
    }

    private async ValueTask<ClientKeyLookup> FromUriAsync(string uri, string? kid, CancellationToken ct)
    {
        if (!IsFetchable(uri, out var address))
            return ClientKeyLookup.Failed("The client's jwks_uri must be an https URL (http only on a loopback address).");

        if (_remote.Count >= MaxCachedDocuments) _remote.Clear();
        var entry = _remote.GetOrAdd(uri, _ => new RemoteKeySet());
        var now = clock.GetUtcNow();
        var snapshot = entry.Current;
        var fetchedNow = false;
        if (snapshot is null || snapshot.ExpiresAt <= now)
        {
            (snapshot, var error) = await RefreshAsync(entry, address, stale: snapshot, force: false, ct);
            if (snapshot is null) return ClientKeyLookup.Failed(error!);
            fetchedNow = true;
        }

        // RFC 7517 §4.5 / SMART Backend Services: a kid the cached document does not know means the client may
        // have rotated its keys; fetch once more before giving up.
        if (!string.IsNullOrEmpty(kid) && !snapshot.Keys.Any(k => k.KeyId == kid) && !fetchedNow
            && now - snapshot.FetchedAt >= options.Value.JwksUriRefetchInterval)
        {
            var (refreshed, error) = await RefreshAsync(entry, address, stale: snapshot, force: true, ct);
            if (refreshed is null) return ClientKeyLookup.Failed(error!);
            snapshot = refreshed;
        }
        return Select(snapshot.Keys, kid, "jwks_uri document");
    }

    private static ClientKeyLookup Select(IReadOnlyList<SecurityKey> keys, string? kid, string where)
    {
        if (keys.Count == 0) return ClientKeyLookup.Failed($"The client's {where} holds no signing keys (RSA or EC, use 'sig').");
        if (string.IsNullOrEmpty(kid)) return new ClientKeyLookup(keys, null);
        var matching = keys.Where(k => k.KeyId == kid).ToList();
        return matching.Count > 0 ? new ClientKeyLookup(matching, null)
            : ClientKeyLookup.Failed($"No key in the client's {where} has the assertion's kid.");
    }

    /// <summary>Fetches the document unless another caller did while this one waited (single-flight).</summary>
    private async Task<(KeySetSnapshot? Keys, string? Error)> RefreshAsync(RemoteKeySet entry, Uri address, KeySetSnapshot? stale, bool force, CancellationToken ct)
    {
        await entry.Gate.WaitAsync(ct);
        try
        {
            var current = entry.Current;
            if (current is not null && !ReferenceEquals(current, stale) && (force || current.ExpiresAt > clock.GetUtcNow()))
                return (current, null);

            var (fetched, error) = await FetchAsync(address, ct);
            if (fetched is not null) entry.Current = fetched;
            return (fetched, error);
        }
        finally
        {
            entry.Gate.Release();
        }
    }

    private async Task<(KeySetSnapshot? Keys, string? Error)> FetchAsync(Uri address, CancellationToken ct)
    {
        var o = options.Value;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(o.JwksUriTimeout);
        try
        {
            using var client = http.CreateClient(HttpClientName);
            using var request = new HttpRequestMessage(HttpMethod.Get, address);
            request.Headers.Accept.ParseAdd("application/jwk-set+json, application/json");
            using var response = await client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            if (response.StatusCode != HttpStatusCode.OK)
            {
                LogFetchFailed(logger, address, (int)response.StatusCode);
                return (null, $"The client's jwks_uri answered HTTP {(int)response.StatusCode}.");
            }
            if (response.Content.Headers.ContentLength > o.JwksUriMaxBytes)
                return (null, "The client's jwks_uri document is too large.");

            var body = await ReadBoundedAsync(response.Content, o.JwksUriMaxBytes, timeout.Token);
            if (body is null) return (null, "The client's jwks_uri document is too large.");
            if (!TryParse(body, out var keys)) return (null, "The client's jwks_uri did not return a valid JSON Web Key Set.");

            var now = clock.GetUtcNow();
            return (new KeySetSnapshot(keys, now, now + Lifetime(response, now)), null);
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException && !ct.IsCancellationRequested)
        {
            LogFetchError(logger, address, e.GetType().Name);
            return (null, "The client's jwks_uri could not be fetched.");
        }
    }

    /// <summary>RFC 9111: no-store and no-cache mean "use for this request only"; max-age (bounded) or Expires otherwise.</summary>
    private TimeSpan Lifetime(HttpResponseMessage response, DateTimeOffset now)
    {
        var o = options.Value;
        var cache = response.Headers.CacheControl;
        TimeSpan lifetime;
        if (cache is { NoStore: true } or { NoCache: true }) lifetime = TimeSpan.Zero;
        else if (cache?.MaxAge is { } maxAge) lifetime = maxAge;
        else if (response.Content.Headers.Expires is { } expires) lifetime = expires - (response.Headers.Date ?? now);
        else lifetime = o.JwksUriDefaultCacheDuration;
        if (lifetime < TimeSpan.Zero) lifetime = TimeSpan.Zero;
        return lifetime > o.JwksUriMaxCacheDuration ? o.JwksUriMaxCacheDuration : lifetime;
    }

    private static async Task<string?> ReadBoundedAsync(HttpContent content, int maxBytes, CancellationToken ct)
    {
        await using var stream = await content.ReadAsStreamAsync(ct);
        var buffer = new byte[maxBytes + 1];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), ct)) > 0) total += read;
        return total > maxBytes ? null : System.Text.Encoding.UTF8.GetString(buffer, 0, total);
    }

    private static bool TryParse(string json, out IReadOnlyList<SecurityKey> keys)
    {
        keys = [];
        try
        {
            var set = new JsonWebKeySet(json);
            // RSA (2048 bits or more) and EC keys meant for signatures (use absent or "sig"); symmetric keys are
            // never client keys here.
            keys = [.. set.GetSigningKeys().Where(k => k switch
            {
                RsaSecurityKey or X509SecurityKey => k.KeySize >= 2048,
                ECDsaSecurityKey => true,
                _ => false,
            })];
            return true;
        }
        catch (Exception e) when (e is ArgumentException or JsonException or FormatException)
        {
            return false;
        }
    }

    /// <summary>https anywhere; plain http only to a loopback address (a developer's machine, tests).</summary>
    public static bool IsFetchable(string uri, out Uri address)
    {
        if (!Uri.TryCreate(uri, UriKind.Absolute, out address!) || !string.IsNullOrEmpty(address.Fragment) || !string.IsNullOrEmpty(address.UserInfo))
            return false;
        if (address.Scheme == Uri.UriSchemeHttps) return true;
        return address.Scheme == Uri.UriSchemeHttp
            && (address.IsLoopback || (IPAddress.TryParse(address.IdnHost, out var ip) && IPAddress.IsLoopback(ip)));
    }

    private sealed class RemoteKeySet
    {
        public SemaphoreSlim Gate { get; } = new(1, 1);
        public volatile KeySetSnapshot? Current;
    }

    private sealed record KeySetSnapshot(IReadOnlyList<SecurityKey> Keys, DateTimeOffset FetchedAt, DateTimeOffset ExpiresAt);

    [LoggerMessage(EventId = 3300, Level = LogLevel.Warning, Message = "Fetching the client jwks_uri {Uri} answered HTTP {Status}")]
    private static partial void LogFetchFailed(ILogger logger, Uri uri, int status);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Warning, Message = "Fetching the client jwks_uri {Uri} failed ({Error})")]
    private static partial void LogFetchError(ILogger logger, Uri uri, string error);
}
