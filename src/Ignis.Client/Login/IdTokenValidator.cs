using System.Security.Claims;
using System.Text.Json.Nodes;
using Duende.IdentityModel.OidcClient;
using Duende.IdentityModel.OidcClient.Results;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Client.Login;

/// <summary>
/// Checks an id token (OpenID Connect Core §3.1.3.7): signature with the server's published keys, issuer, audience =
/// the client id, lifetime. Keys come from the SMART configuration's <c>jwks_uri</c>, else from the issuer's OpenID
/// configuration.
/// </summary>
internal sealed class IdTokenValidator(SmartConfiguration configuration, HttpClient http, TimeProvider time) : IIdentityTokenValidator
{
    public async Task<IdentityTokenValidationResult> ValidateAsync(string identityToken, OidcClientOptions options, CancellationToken cancellationToken = default)
    {
        try
        {
            var jwksUri = configuration.JwksUri ?? await JwksFromOpenIdConfigurationAsync(cancellationToken).ConfigureAwait(false);
            if (jwksUri is null)
                return new IdentityTokenValidationResult { Error = "The server publishes no keys (jwks_uri) to check the id token with." };
            var keys = new JsonWebKeySet(await http.GetStringAsync(jwksUri, cancellationToken).ConfigureAwait(false)).GetSigningKeys();
            var issuer = configuration.Issuer ?? options.ProviderInformation.IssuerName;
            var handler = new JsonWebTokenHandler { MapInboundClaims = false };
            var result = await handler.ValidateTokenAsync(identityToken, new TokenValidationParameters
            {
                // Tolerate a trailing slash difference between the discovery document and the token's iss.
                ValidIssuers = [issuer.TrimEnd('/'), issuer.TrimEnd('/') + "/"],
                ValidAudience = options.ClientId,
                IssuerSigningKeys = keys,
                ValidateLifetime = true,
                ClockSkew = TimeSpan.FromMinutes(2),
                LifetimeValidator = (notBefore, expires, _, p) =>
                {
                    var now = time.GetUtcNow().UtcDateTime;
                    return (notBefore is null || notBefore.Value - p.ClockSkew <= now) && (expires is null || expires.Value + p.ClockSkew >= now);
                },
                ValidAlgorithms = ["RS256", "RS384", "RS512", "ES256", "ES384", "ES512", "PS256", "PS384", "PS512"],
            }).ConfigureAwait(false);
            if (!result.IsValid)
                return new IdentityTokenValidationResult { Error = "The id token is not valid: " + (result.Exception?.Message ?? "unknown reason") };
            var token = (JsonWebToken)result.SecurityToken;
            return new IdentityTokenValidationResult
            {
                User = new ClaimsPrincipal(result.ClaimsIdentity),
                SignatureAlgorithm = token.Alg,
            };
        }
        catch (Exception e) when (e is HttpRequestException or ArgumentException or System.Text.Json.JsonException)
        {
            return new IdentityTokenValidationResult { Error = "The id token could not be checked: " + e.Message };
        }
    }

    private async Task<Uri?> JwksFromOpenIdConfigurationAsync(CancellationToken cancellationToken)
    {
        if (configuration.Issuer is not { } issuer) return null;
        var document = JsonNode.Parse(await http.GetStringAsync(issuer.TrimEnd('/') + "/.well-known/openid-configuration", cancellationToken).ConfigureAwait(false));
        return document?["jwks_uri"]?.GetValue<string>() is { } s ? new Uri(s) : null;
    }
}
