using System.Text.Json;
using Duende.IdentityModel.Client;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Client;

/// <summary>How a backend service authenticates (SMART Backend Services).</summary>
public sealed class BackendServicesOptions
{
    /// <summary>The FHIR base URL; the token endpoint is discovered from it unless <see cref="TokenEndpoint"/> is set.</summary>
    public string? FhirBaseUrl { get; set; }

    /// <summary>The token endpoint, when known (skips discovery).</summary>
    public Uri? TokenEndpoint { get; set; }

    /// <summary>The client id the service was registered with.</summary>
    public required string ClientId { get; set; }

    /// <summary>The private key whose public half the server holds (in the client's JWKS).</summary>
    public required ClientAssertionKey Key { get; set; }

    /// <summary>The scopes to ask for, e.g. <c>system/Patient.rs system/Observation.rs</c>.</summary>
    public string Scope { get; set; } = "system/*.rs";

    /// <summary>A cached token is replaced when it expires within this margin.</summary>
    public TimeSpan RefreshBeforeExpiry { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>The handler under discovery and token requests.</summary>
    public HttpMessageHandler? BackchannelHandler { get; set; }

    /// <summary>
    /// The <c>aud</c> of client assertions; null (the default) for the token endpoint URL, as SMART Backend Services
    /// requires. Some OAuth servers want their issuer instead.
    /// </summary>
    public string? AssertionAudience { get; set; }

    /// <summary>
    /// The <c>typ</c> header of client assertions: <c>JWT</c>, as SMART Backend Services requires (servers following
    /// draft-ietf-oauth-rfc7523bis may want <c>client-authentication+jwt</c>).
    /// </summary>
    public string AssertionType { get; set; } = "JWT";

    /// <summary>The clock.</summary>
    public TimeProvider Time { get; set; } = TimeProvider.System;
}

/// <summary>An access token from the client credentials grant.</summary>
/// <param name="AccessToken">The bearer token.</param>
/// <param name="ExpiresAt">When it expires (from <c>expires_in</c>).</param>
/// <param name="Scope">The granted scopes.</param>
public sealed record BackendToken(string AccessToken, DateTimeOffset? ExpiresAt, string Scope);

/// <summary>
/// SMART Backend Services: obtains access tokens with the client credentials grant, authenticating with a JWT signed by
/// the service's private key (<c>private_key_jwt</c>, RFC 7523; RS384 or ES384), and caches each token until shortly
/// before it expires. Concurrent callers share one token request.
/// </summary>
public sealed class BackendServicesClient : IAccessTokenSource, IDisposable
{
    private readonly HttpClient _http;
    private readonly Lock _gate = new();
    private BackendToken? _token;
    private Task<BackendToken>? _requesting;
    private Uri? _tokenEndpoint;
    private int _requestCount;

    /// <summary>Creates the client; nothing is sent until a token is needed.</summary>
    public BackendServicesClient(BackendServicesOptions options)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        if (options.TokenEndpoint is null && options.FhirBaseUrl is null)
            throw new ArgumentException("Set FhirBaseUrl (to discover the token endpoint) or TokenEndpoint.", nameof(options));
        _tokenEndpoint = options.TokenEndpoint;
        _http = new HttpClient(options.BackchannelHandler ?? new SocketsHttpHandler(), disposeHandler: options.BackchannelHandler is null);
    }

    /// <summary>The options.</summary>
    public BackendServicesOptions Options { get; }

    /// <summary>How many token requests were sent (diagnostics).</summary>
    public int TokenRequestCount => Volatile.Read(ref _requestCount);

    /// <summary>The cached token, or a new one when there is none or it expires within <see cref="BackendServicesOptions.RefreshBeforeExpiry"/>.</summary>
    public Task<BackendToken> GetTokenAsync(CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (_token is { } token && (token.ExpiresAt is null || token.ExpiresAt.Value - Options.RefreshBeforeExpiry > Options.Time.GetUtcNow()))
                return Task.FromResult(token);
            return (_requesting ??= RequestCoreAsync()).WaitAsync(cancellationToken);
        }
    }

    /// <summary>Requests a new token even if the cached one is still valid (unless another caller already replaced <paramref name="staleAccessToken"/>).</summary>
    public Task<BackendToken> RenewAsync(string? staleAccessToken = null, CancellationToken cancellationToken = default)
    {
        lock (_gate)
        {
            if (staleAccessToken is not null && _token is { } token && token.AccessToken != staleAccessToken) return Task.FromResult(token);
            return (_requesting ??= RequestCoreAsync()).WaitAsync(cancellationToken);
        }
    }

    /// <summary>A handler that authorizes requests with this client's tokens (and renews once on a 401 <c>invalid_token</c>).</summary>
    public SmartTokenHandler CreateHandler(HttpMessageHandler? inner = null) => new(this, inner ?? new SocketsHttpHandler());

    /// <summary>An <see cref="HttpClient"/> for the FHIR base (when <see cref="BackendServicesOptions.FhirBaseUrl"/> is set), authorized by this client.</summary>
    public HttpClient CreateHttpClient(HttpMessageHandler? inner = null)
    {
        var http = new HttpClient(CreateHandler(inner));
        if (Options.FhirBaseUrl is { } b) http.BaseAddress = new Uri(SmartConfiguration.NormalizeBase(b) + "/");
        return http;
    }

    /// <summary>The token endpoint (discovered once from the FHIR base when not configured).</summary>
    public async Task<Uri> GetTokenEndpointAsync(CancellationToken cancellationToken = default)
    {
        if (_tokenEndpoint is { } known) return known;
        var configuration = await SmartConfiguration.DiscoverAsync(Options.FhirBaseUrl!, _http, cancellationToken).ConfigureAwait(false);
        return _tokenEndpoint = configuration.TokenEndpoint;
    }

    /// <summary>
    /// A client assertion for <paramref name="tokenEndpoint"/> (SMART Backend Services §"Authenticating"): iss = sub =
    /// client id, aud = the token endpoint, a fresh jti, expiring in five minutes.
    /// </summary>
    public string CreateClientAssertion(Uri tokenEndpoint)
    {
        var now = Options.Time.GetUtcNow().UtcDateTime;
        var handler = new JsonWebTokenHandler { SetDefaultTimesOnTokenCreation = false };
        return handler.CreateToken(new SecurityTokenDescriptor
        {
            Issuer = Options.ClientId,
            Audience = Options.AssertionAudience ?? tokenEndpoint.AbsoluteUri,
            Claims = new Dictionary<string, object>
            {
                ["sub"] = Options.ClientId,
                ["jti"] = Guid.NewGuid().ToString("N"),
            },
            IssuedAt = now,
            Expires = now.AddMinutes(5),
            SigningCredentials = new SigningCredentials(Options.Key.SecurityKey, Options.Key.Algorithm),
            TokenType = Options.AssertionType,
        });
    }

    private async Task<BackendToken> RequestCoreAsync()
    {
        await Task.Yield();
        try
        {
            Interlocked.Increment(ref _requestCount);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var endpoint = await GetTokenEndpointAsync(timeout.Token).ConfigureAwait(false);
            var response = await _http.RequestClientCredentialsTokenAsync(new ClientCredentialsTokenRequest
            {
                Address = endpoint.AbsoluteUri,
                ClientId = Options.ClientId,
                ClientCredentialStyle = ClientCredentialStyle.PostBody,
                ClientAssertion = new ClientAssertion
                {
                    Type = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                    Value = CreateClientAssertion(endpoint),
                },
                Scope = Options.Scope,
            }, timeout.Token).ConfigureAwait(false);
            if (response.IsError)
            {
                if (IsProtocolError(response))
                    throw new SmartAuthorizationException(ErrorCode(response), response.ErrorDescription);
                throw new HttpRequestException($"The token endpoint could not be reached: {response.Error}", response.Exception, response.HttpStatusCode);
            }
            var json = response.Json!.Value;
            var expiresIn = json.TryGetProperty("expires_in", out var e) && e.ValueKind == JsonValueKind.Number ? e.GetInt64() : (long?)null;
            var token = new BackendToken(
                response.AccessToken ?? throw new SmartClientException("The token response has no access_token."),
                expiresIn is { } s ? Options.Time.GetUtcNow().AddSeconds(s) : null,
                json.TryGetProperty("scope", out var scope) && scope.ValueKind == JsonValueKind.String ? scope.GetString()! : Options.Scope);
            lock (_gate) _token = token;
            return token;
        }
        finally
        {
            lock (_gate) _requesting = null;
        }
    }

    async Task<string> IAccessTokenSource.GetAccessTokenAsync(CancellationToken cancellationToken) =>
        (await GetTokenAsync(cancellationToken).ConfigureAwait(false)).AccessToken;

    async Task<string> IAccessTokenSource.RenewAccessTokenAsync(string staleAccessToken, CancellationToken cancellationToken) =>
        (await RenewAsync(staleAccessToken, cancellationToken).ConfigureAwait(false)).AccessToken;

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();

    /// <summary>The <c>error</c> of an OAuth error answer (Duende gives the HTTP reason phrase for non-400 answers).</summary>
    private static string ErrorCode(ProtocolResponse response) =>
        response.Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String
            ? e.GetString()! : response.Error ?? "error";

    /// <summary>An OAuth error answer (RFC 6749 §5.2), whatever the status code (400, or 401 for a failed client authentication).</summary>
    private static bool IsProtocolError(ProtocolResponse response) =>
        response.ErrorType == ResponseErrorType.Protocol
        || (response.Json is { ValueKind: JsonValueKind.Object } json && json.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String);
}
