using System.Text;
using System.Text.Json;
using Duende.IdentityModel.Client;
using Duende.IdentityModel.OidcClient;
using Ignis.Client.Login;
using Ignis.Client.Storage;

namespace Ignis.Client;

/// <summary>
/// A SMART on FHIR app's connection to one FHIR server: discovery, sign-in (standalone or EHR launch, authorization
/// code with PKCE S256 in the system browser and a loopback redirect, RFC 8252), and the sessions saved in the token
/// store.
/// </summary>
/// <example>
/// <code>
/// var client = new SmartClient(new SmartClientOptions { FhirBaseUrl = "https://ehr.example.org/fhir", ClientId = "my-app" });
/// var session = await client.RestoreAsync("alice") ?? await client.LoginAsync(new LoginOptions { User = "alice" });
/// using var http = session.CreateHttpClient();
/// var patient = await http.GetStringAsync($"Patient/{session.Tokens.Patient}");
/// </code>
/// </example>
public sealed class SmartClient : IDisposable
{
    private readonly HttpClient _http;
    private readonly Lazy<ITokenStore> _store;
    private SmartConfiguration? _configuration;

    /// <summary>Creates the client; nothing is sent until it is used.</summary>
    public SmartClient(SmartClientOptions options)
    {
        Options = options ?? throw new ArgumentNullException(nameof(options));
        ArgumentException.ThrowIfNullOrWhiteSpace(options.ClientId);
        FhirBaseUrl = SmartConfiguration.NormalizeBase(options.FhirBaseUrl);
        _http = new HttpClient(options.BackchannelHandler ?? new SocketsHttpHandler(), disposeHandler: options.BackchannelHandler is null)
        {
            Timeout = TimeSpan.FromSeconds(100),
        };
        _store = new Lazy<ITokenStore>(() => options.TokenStore ?? EncryptedFileTokenStore.CreateDefault());
    }

    /// <summary>The options this client was made with.</summary>
    public SmartClientOptions Options { get; }

    /// <summary>The FHIR base URL, normalised.</summary>
    public string FhirBaseUrl { get; }

    /// <summary>The token store sessions are saved in.</summary>
    public ITokenStore TokenStore => _store.Value;

    internal HttpClient Backchannel => _http;

    /// <summary>The server's SMART configuration (read once, then cached).</summary>
    public async Task<SmartConfiguration> GetConfigurationAsync(CancellationToken cancellationToken = default) =>
        _configuration ??= await SmartConfiguration.DiscoverAsync(FhirBaseUrl, _http, cancellationToken).ConfigureAwait(false);

    /// <summary>
    /// Signs a user in: opens the authorize URL in the browser, waits for the redirect to the loopback listener, checks
    /// <c>state</c>, redeems the code with the PKCE verifier, validates the id token, and saves the session in the
    /// token store (replacing that user's previous session).
    /// </summary>
    /// <exception cref="SmartAuthorizationException">The server answered an error (the user denied access, a bad scope, ...).</exception>
    /// <exception cref="TimeoutException">The user did not finish within <see cref="SmartClientOptions.LoginTimeout"/>.</exception>
    public async Task<SmartSession> LoginAsync(LoginOptions? login = null, CancellationToken cancellationToken = default)
    {
        login ??= new LoginOptions();
        var configuration = await GetConfigurationAsync(cancellationToken).ConfigureAwait(false);
        using var listener = new LoopbackRedirectListener(Options.RedirectPath, Options.AppName);
        var oidc = new OidcClient(new OidcClientOptions
        {
            ClientId = Options.ClientId,
            ClientSecret = Options.ClientSecret,
            Scope = login.Scope ?? Options.Scope,
            RedirectUri = listener.RedirectUri,
            ProviderInformation = new ProviderInformation
            {
                IssuerName = configuration.Issuer ?? new Uri(configuration.TokenEndpoint.GetLeftPart(UriPartial.Authority)).AbsoluteUri.TrimEnd('/'),
                AuthorizeEndpoint = configuration.AuthorizationEndpoint.AbsoluteUri,
                TokenEndpoint = configuration.TokenEndpoint.AbsoluteUri,
                KeySet = new Duende.IdentityModel.Jwk.JsonWebKeySet(),
            },
            LoadProfile = false,
            DisablePushedAuthorization = true,
            TokenClientCredentialStyle = ClientCredentialStyle.PostBody,
            HttpClientFactory = _ => _http,
            IdentityTokenValidator = new IdTokenValidator(configuration, _http, Options.Time),
        });

        var parameters = new Parameters { { "aud", FhirBaseUrl } };
        if (login.Launch is { Length: > 0 } launch) parameters.Add("launch", launch);
        foreach (var (name, value) in login.ExtraParameters) parameters.Add(name, value);
        var state = await oidc.PrepareLoginAsync(parameters, cancellationToken).ConfigureAwait(false);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(Options.LoginTimeout);
        string callback;
        try
        {
            var waiting = listener.WaitForCallbackAsync(state.State, timeout.Token);
            await Options.Browser.LaunchAsync(new Uri(state.StartUrl), timeout.Token).ConfigureAwait(false);
            callback = await waiting.ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Sign-in was not completed within {Options.LoginTimeout.TotalMinutes:0.#} minutes.");
        }

        var result = await oidc.ProcessResponseAsync(callback, state, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.IsError)
        {
            var query = new Uri(callback).Query;
            var error = ReadParameter(query, "error");
            throw error is not null
                ? new SmartAuthorizationException(error, ReadParameter(query, "error_description"))
                : new SmartAuthorizationException(result.TokenResponse?.Error ?? "sign_in_failed", result.ErrorDescription ?? result.Error);
        }
        var json = result.TokenResponse?.Json ?? throw new SmartClientException("The token endpoint sent no JSON.");
        var now = Options.Time.GetUtcNow();
        var template = new SmartTokens
        {
            FhirBaseUrl = FhirBaseUrl,
            ClientId = Options.ClientId,
            TokenEndpoint = configuration.TokenEndpoint,
            RevocationEndpoint = configuration.RevocationEndpoint,
            AccessToken = "",
        };
        var tokens = SmartTokens.FromTokenResponse(json, template, now);
        if (tokens.IdToken is { } idToken) tokens = tokens with { IdTokenClaims = PayloadOf(idToken) };
        var user = login.User ?? tokens.Subject ?? "default";
        var key = new TokenStoreKey(FhirBaseUrl, user);
        await TokenStore.SaveAsync(key, tokens, cancellationToken).ConfigureAwait(false);
        return new SmartSession(this, key, tokens);
    }

    /// <summary>The session saved for <paramref name="user"/> at this server, or null when that user has none.</summary>
    /// <exception cref="TokenStoreException">The saved session cannot be read (its key is gone or the file was altered).</exception>
    public async Task<SmartSession?> RestoreAsync(string user, CancellationToken cancellationToken = default)
    {
        var key = new TokenStoreKey(FhirBaseUrl, user);
        var tokens = await TokenStore.LoadAsync(key, cancellationToken).ConfigureAwait(false);
        return tokens is null ? null : new SmartSession(this, key, tokens);
    }

    /// <summary>The users with a saved session at this server.</summary>
    public async Task<IReadOnlyList<string>> ListUsersAsync(CancellationToken cancellationToken = default) =>
        [.. (await TokenStore.ListAsync(cancellationToken).ConfigureAwait(false)).Where(k => k.FhirBaseUrl == FhirBaseUrl).Select(k => k.User)];

    /// <summary>The payload of a JWT as JSON text (the caller has validated it).</summary>
    internal static string PayloadOf(string jwt)
    {
        var part = jwt.Split('.')[1].Replace('-', '+').Replace('_', '/');
        part += new string('=', (4 - part.Length % 4) % 4);
        return Encoding.UTF8.GetString(Convert.FromBase64String(part));
    }

    private static string? ReadParameter(string query, string name)
    {
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var i = pair.IndexOf('=');
            if (i > 0 && Uri.UnescapeDataString(pair[..i]) == name) return Uri.UnescapeDataString(pair[(i + 1)..].Replace('+', ' '));
        }
        return null;
    }

    /// <inheritdoc />
    public void Dispose() => _http.Dispose();
}
