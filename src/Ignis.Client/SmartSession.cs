using System.Text.Json;
using Duende.IdentityModel.Client;
using Ignis.Client.Storage;

namespace Ignis.Client;

/// <summary>
/// One signed-in user at one server. Hands out the current access token, refreshes it (one refresh at a time however
/// many requests need it, the rotated refresh token saved before anyone uses the new access token), and signs out.
/// Keep one session object per user in a process and share it: two objects for the same user would refresh
/// independently, and a server that rotates refresh tokens revokes the whole grant when the older one is reused.
/// </summary>
public sealed class SmartSession : IAccessTokenSource
{
    private readonly SmartClient _client;
    private readonly Lock _gate = new();
    private SmartTokens _tokens;
    private Task<SmartTokens>? _refreshing;
    private int _refreshCount;

    internal SmartSession(SmartClient client, TokenStoreKey key, SmartTokens tokens)
    {
        _client = client;
        Key = key;
        _tokens = tokens;
    }

    /// <summary>The server and user the session is saved under.</summary>
    public TokenStoreKey Key { get; }

    /// <summary>The current tokens and launch context.</summary>
    public SmartTokens Tokens
    {
        get { lock (_gate) return _tokens; }
    }

    /// <summary>How many refreshes this session has made (diagnostics).</summary>
    public int RefreshCount => Volatile.Read(ref _refreshCount);

    /// <summary>Raised after new tokens were saved (on the thread that refreshed).</summary>
    public event Action<SmartTokens>? TokensRefreshed;

    /// <summary>A handler that authorizes requests with this session; pass it to <c>HttpClient</c> or Firely's <c>FhirClient</c>.</summary>
    public SmartTokenHandler CreateHandler(HttpMessageHandler? inner = null) => new(this, inner ?? new SocketsHttpHandler());

    /// <summary>An <see cref="HttpClient"/> whose base address is the FHIR base (with a trailing slash), authorized by this session.</summary>
    public HttpClient CreateHttpClient(HttpMessageHandler? inner = null) =>
        new(CreateHandler(inner)) { BaseAddress = new Uri(Key.FhirBaseUrl + "/") };

    /// <summary>
    /// Tokens to send now: the current ones, or fresh ones when the access token expires within
    /// <see cref="SmartClientOptions.RefreshBeforeExpiry"/> and a refresh token is at hand.
    /// </summary>
    public async Task<SmartTokens> GetTokensAsync(CancellationToken cancellationToken = default)
    {
        var tokens = Tokens;
        if (tokens.RefreshToken is not null && tokens.ExpiresWithin(_client.Options.RefreshBeforeExpiry, _client.Options.Time.GetUtcNow()))
            return await RefreshAsync(tokens.AccessToken, cancellationToken).ConfigureAwait(false);
        return tokens;
    }

    /// <summary>
    /// Refreshes the access token, unless it has already been replaced since <paramref name="staleAccessToken"/> was
    /// handed out (another request refreshed first). Concurrent callers share one refresh.
    /// </summary>
    /// <exception cref="SignInRequiredException">There is no refresh token, or the server refused it.</exception>
    public Task<SmartTokens> RefreshAsync(string? staleAccessToken = null, CancellationToken cancellationToken = default)
    {
        Task<SmartTokens> refreshing;
        lock (_gate)
        {
            if (staleAccessToken is not null && _tokens.AccessToken != staleAccessToken) return Task.FromResult(_tokens);
            refreshing = _refreshing ??= RefreshCoreAsync();
        }
        return refreshing.WaitAsync(cancellationToken);
    }

    private async Task<SmartTokens> RefreshCoreAsync()
    {
        await Task.Yield(); // leave the lock before the first request goes out
        try
        {
            var current = Tokens;
            if (current.RefreshToken is null)
                throw new SignInRequiredException($"The session of {Key.User} at {Key.FhirBaseUrl} has expired and has no refresh token; sign in again.");
            Interlocked.Increment(ref _refreshCount);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var response = await _client.Backchannel.RequestRefreshTokenAsync(new RefreshTokenRequest
            {
                Address = current.TokenEndpoint.AbsoluteUri,
                ClientId = current.ClientId,
                ClientSecret = _client.Options.ClientSecret,
                ClientCredentialStyle = ClientCredentialStyle.PostBody,
                RefreshToken = current.RefreshToken,
            }, timeout.Token).ConfigureAwait(false);
            if (response.IsError)
            {
                if (IsProtocolError(response) && ErrorCode(response) is "invalid_grant")
                {
                    // The refresh token is dead for good (expired, revoked, or rotated away): forget it.
                    await _client.TokenStore.DeleteAsync(Key, CancellationToken.None).ConfigureAwait(false);
                    throw new SignInRequiredException(
                        $"The server no longer accepts the session of {Key.User} at {Key.FhirBaseUrl} ({ErrorCode(response)}{(response.ErrorDescription is { Length: > 0 } d ? ": " + d : "")}); sign in again.",
                        ErrorCode(response));
                }
                if (IsProtocolError(response))
                    throw new SmartAuthorizationException(ErrorCode(response), response.ErrorDescription);
                throw new HttpRequestException($"The token endpoint could not refresh the session: {response.Error}", response.Exception, response.HttpStatusCode);
            }
            var refreshed = SmartTokens.FromTokenResponse(response.Json!.Value, current, _client.Options.Time.GetUtcNow());
            if (refreshed.IdToken != current.IdToken && refreshed.IdToken is { } idToken)
                refreshed = refreshed with { IdTokenClaims = SmartClient.PayloadOf(idToken) };
            // The rotated refresh token is the only way back in: it is on disk before any request uses the new access token.
            try
            {
                await _client.TokenStore.SaveAsync(Key, refreshed, CancellationToken.None).ConfigureAwait(false);
            }
            catch
            {
                // The server has already rotated the old one away: keep the new tokens in memory (the next refresh saves
                // again) and let the caller know this request did not go out.
                lock (_gate) _tokens = refreshed;
                throw;
            }
            lock (_gate) _tokens = refreshed;
            TokensRefreshed?.Invoke(refreshed);
            return refreshed;
        }
        finally
        {
            lock (_gate) _refreshing = null;
        }
    }

    async Task<string> IAccessTokenSource.GetAccessTokenAsync(CancellationToken cancellationToken) =>
        (await GetTokensAsync(cancellationToken).ConfigureAwait(false)).AccessToken;

    async Task<string> IAccessTokenSource.RenewAccessTokenAsync(string staleAccessToken, CancellationToken cancellationToken) =>
        (await RefreshAsync(staleAccessToken, cancellationToken).ConfigureAwait(false)).AccessToken;

    /// <summary>
    /// Signs out: revokes the refresh token (which, at most servers, ends the access tokens of the grant too) and the
    /// access token at the server's revocation endpoint, then deletes the session from the token store. The local
    /// session is deleted even when the server cannot be reached; the result says whether the server confirmed.
    /// </summary>
    public async Task<bool> SignOutAsync(CancellationToken cancellationToken = default)
    {
        var tokens = Tokens;
        var revoked = false;
        try
        {
            if (tokens.RevocationEndpoint is { } endpoint)
            {
                revoked = true;
                foreach (var (token, hint) in new[] { (tokens.RefreshToken, "refresh_token"), (tokens.AccessToken, "access_token") })
                {
                    if (token is null) continue;
                    var response = await _client.Backchannel.RevokeTokenAsync(new TokenRevocationRequest
                    {
                        Address = endpoint.AbsoluteUri,
                        ClientId = tokens.ClientId,
                        ClientSecret = _client.Options.ClientSecret,
                        ClientCredentialStyle = ClientCredentialStyle.PostBody,
                        Token = token,
                        TokenTypeHint = hint,
                    }, cancellationToken).ConfigureAwait(false);
                    revoked &= !response.IsError;
                }
            }
        }
        catch (HttpRequestException)
        {
            revoked = false;
        }
        finally
        {
            await _client.TokenStore.DeleteAsync(Key, CancellationToken.None).ConfigureAwait(false);
        }
        return revoked;
    }

    /// <summary>The <c>error</c> of an OAuth error answer (Duende gives the HTTP reason phrase for non-400 answers).</summary>
    private static string ErrorCode(ProtocolResponse response) =>
        response.Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String
            ? e.GetString()! : response.Error ?? "error";

    /// <summary>An OAuth error answer (RFC 6749 §5.2), whatever the status code (400, or 401 for a failed client authentication).</summary>
    private static bool IsProtocolError(ProtocolResponse response) =>
        response.ErrorType == ResponseErrorType.Protocol
        || (response.Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String);
}
