using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;

namespace Ignis.Client;

/// <summary>Where a <see cref="SmartTokenHandler"/> gets access tokens: a <see cref="SmartSession"/> or a <see cref="BackendServicesClient"/>.</summary>
public interface IAccessTokenSource
{
    /// <summary>The access token to send now (renewed first when it is about to expire).</summary>
    Task<string> GetAccessTokenAsync(CancellationToken cancellationToken);

    /// <summary>
    /// A new access token to replace <paramref name="staleAccessToken"/>, which the server refused; when another
    /// request already replaced it, the current one. Concurrent callers share one renewal.
    /// </summary>
    Task<string> RenewAccessTokenAsync(string staleAccessToken, CancellationToken cancellationToken);
}

/// <summary>
/// Authorizes every request with the session's access token. Refreshes shortly before the token expires; when the
/// server still answers 401 with <c>WWW-Authenticate: Bearer error="invalid_token"</c> (RFC 6750 §3.1: expired or
/// revoked), refreshes once and sends the request again. Concurrent requests share one refresh.
/// </summary>
public sealed partial class SmartTokenHandler : DelegatingHandler
{
    private readonly IAccessTokenSource _tokens;

    /// <summary>A handler that takes its tokens from <paramref name="tokens"/>, in front of <paramref name="inner"/>.</summary>
    public SmartTokenHandler(IAccessTokenSource tokens, HttpMessageHandler inner) : base(inner) => _tokens = tokens;

    /// <inheritdoc />
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        // Keep the body so the request can be sent a second time.
        if (request.Content is not null) await request.Content.LoadIntoBufferAsync(cancellationToken).ConfigureAwait(false);
        var token = await _tokens.GetAccessTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var response = await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.Unauthorized || !IsInvalidToken(response)) return response;

        response.Dispose();
        var fresh = await _tokens.RenewAccessTokenAsync(token, cancellationToken).ConfigureAwait(false);
        using var retry = await CloneAsync(request, cancellationToken).ConfigureAwait(false);
        retry.Headers.Authorization = new AuthenticationHeaderValue("Bearer", fresh);
        return await base.SendAsync(retry, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>RFC 6750 §3.1: <c>invalid_token</c> means expired, revoked or malformed: a refresh may help.</summary>
    internal static bool IsInvalidToken(HttpResponseMessage response) =>
        response.Headers.WwwAuthenticate.Any(h => h.Scheme.Equals("Bearer", StringComparison.OrdinalIgnoreCase)
            && h.Parameter is { } p && InvalidToken().IsMatch(p));

    private static async Task<HttpRequestMessage> CloneAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var clone = new HttpRequestMessage(request.Method, request.RequestUri) { Version = request.Version, VersionPolicy = request.VersionPolicy };
        foreach (var header in request.Headers) clone.Headers.TryAddWithoutValidation(header.Key, header.Value);
        foreach (var option in request.Options) ((IDictionary<string, object?>)clone.Options)[option.Key] = option.Value;
        if (request.Content is not null)
        {
            var body = await request.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
            clone.Content = new ByteArrayContent(body);
            foreach (var header in request.Content.Headers) clone.Content.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        return clone;
    }

    [GeneratedRegex("(^|[\\s,])error\\s*=\\s*\"?invalid_token\"?", RegexOptions.IgnoreCase)]
    private static partial Regex InvalidToken();
}
