using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth.ClientAuthentication;

/// <summary>
/// private_key_jwt client authentication (RFC 7523, SMART Backend Services) as steps in OpenIddict's own chains.
/// OpenIddict validates a client_assertion against the application's inline JsonWebKeySet with any algorithm
/// and checks iss, sub, aud (issuer or any endpoint path) and exp loosely; these steps add what SMART asks:
/// keys from a registered jwks_uri, an algorithm allow-list, the jku rule, exp at most five minutes ahead,
/// aud = the token endpoint URL, a required jti that is never accepted twice, and the registered
/// authentication method. Every failure is invalid_client with a description from <see cref="ClientAssertionErrors"/>.
/// </summary>
public static class ClientAssertionHandlers
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> All =>
    [
        ValidateClientAssertionSignature.Descriptor,
        ValidateClientAssertionLifetime.Descriptor,
        RequireClientAssertionIdentifier.Descriptor,
        ValidateClientAssertionSubject.Descriptor,
        RequireTokenEndpointAudience.Descriptor,
        EnforceRegisteredAuthenticationMethod.Descriptor,
        RejectReplayedClientAssertion.Descriptor,
        RecordDeferredClientAssertion.Descriptor,
        NoRefreshTokenForClientCredentials.Descriptor,
    ];

    private const string AssertionProperty = ".ignis_client_assertion";

    private static bool IsClientAssertion(ValidateTokenContext context) =>
        context.ValidTokenTypes.Count == 1 && context.ValidTokenTypes.Contains(TokenTypeIdentifiers.Private.ClientAssertion);

    private static JsonWebToken? ParsedAssertion(ValidateTokenContext context) =>
        context.Transaction.Properties.TryGetValue(AssertionProperty, out var value) ? value as JsonWebToken : null;

    /// <summary>
    /// The signature: the algorithm must be one SMART allows, the typ header (if any) must say client assertion,
    /// a jku header must name the registered jwks_uri, and the key must be one the client registered (inline, or
    /// fetched from jwks_uri with one re-fetch for an unknown kid). Replaces OpenIddict's own check for client
    /// assertions (ValidateIdentityModelToken skips a token whose principal is set), which knows only inline keys,
    /// accepts any algorithm and, since OpenIddict 7, only typ client-authentication+jwt.
    /// </summary>
    public sealed class ValidateClientAssertionSignature(IOpenIddictApplicationManager applications, ClientKeyResolver keys)
        : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
                .UseScopedHandler<ValidateClientAssertionSignature>()
                .SetOrder(Protection.ValidateIdentityModelToken.Descriptor.Order - 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (!IsClientAssertion(context) || context.Principal is not null) return;
            if (context.TokenFormat is not (null or TokenFormats.Private.JsonWebToken) || !context.SecurityTokenHandler.CanReadToken(context.Token))
            {
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Malformed);
                return;
            }
            JsonWebToken token;
            try
            {
                token = new JsonWebToken(context.Token);
            }
            catch (ArgumentException)
            {
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Malformed);
                return;
            }
            if (token.IsEncrypted)
            {
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Encrypted);
                return;
            }
            if (!ClientAssertionOptions.Algorithms.Contains(token.Alg, StringComparer.Ordinal))
            {
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Algorithm);
                return;
            }
            // RFC 8725 §3.11: SMART clients send typ JWT (or none); draft-ietf-oauth-rfc7523bis adds
            // client-authentication+jwt. Any other explicit type is a different kind of token.
            if (!string.IsNullOrEmpty(token.Typ) && !AcceptedTypes.Contains(token.Typ, StringComparer.OrdinalIgnoreCase))
            {
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Type);
                return;
            }

            var clientId = token.TryGetPayloadValue<string>(Claims.Issuer, out var iss) ? iss : null;
            var application = string.IsNullOrEmpty(clientId) ? null : await applications.FindByClientIdAsync(clientId, context.CancellationToken);
            if (application is null)
            {
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.UnknownIssuer);
                return;
            }
            var registration = await RegistrationAsync(applications, application, clientId!, context.CancellationToken);

            // RFC 7515 §4.1.2: a key URL in the header is only trusted when it is the one the client registered.
            if (token.TryGetHeaderValue<string>("jku", out var jku) && !string.IsNullOrEmpty(jku)
                && !string.Equals(jku, registration.JwksUri, StringComparison.Ordinal))
            {
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.JkuNotRegistered);
                return;
            }
            var lookup = await keys.GetKeysAsync(registration, string.IsNullOrEmpty(token.Kid) ? null : token.Kid, context.CancellationToken);
            if (lookup.Error is not null)
            {
                context.Reject(Errors.InvalidClient, lookup.Error);
                return;
            }

            // Signature only: OpenIddict and the steps below check the claims.
            var parameters = new TokenValidationParameters
            {
                IssuerSigningKeys = lookup.Keys,
                TryAllIssuerSigningKeys = true,
                ValidAlgorithms = ClientAssertionOptions.Algorithms,
                RequireSignedTokens = true,
                RequireExpirationTime = false,
                ValidateAudience = false,
                ValidateIssuer = false,
                ValidateLifetime = false,
            };
            var result = await context.Options.JsonWebTokenHandler.ValidateTokenAsync(token, parameters);
            if (!result.IsValid)
            {
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Signature);
                return;
            }
            context.TokenValidationParameters = parameters;
            context.Principal = new ClaimsPrincipal(result.ClaimsIdentity).SetTokenType(TokenTypeIdentifiers.Private.ClientAssertion);
            // OpenIddict 7 follows draft-ietf-oauth-rfc7523bis (aud = the issuer); SMART and RFC 7523 use the token
            // endpoint URL, which RequireTokenEndpointAudience checks instead.
            context.DisableAudienceValidation = true;
            context.Transaction.Properties[AssertionProperty] = token;
        }

        private static readonly string[] AcceptedTypes =
            [JsonWebTokenTypes.GenericJsonWebToken, JsonWebTokenTypes.ClientAuthentication,
             JsonWebTokenTypes.Prefixes.Application + JsonWebTokenTypes.ClientAuthentication];
    }

    /// <summary>The keys a client registered: OpenIddict's JsonWebKeySet column, or jwks_uri from the application properties.</summary>
    public static async ValueTask<ClientKeyRegistration> RegistrationAsync(
        IOpenIddictApplicationManager applications, object application, string clientId, CancellationToken ct)
    {
        var properties = await applications.GetPropertiesAsync(application, ct);
        var jwksUri = properties.TryGetValue(ClientProperties.JwksUri, out var uri) && uri.ValueKind == JsonValueKind.String ? uri.GetString() : null;
        string? inline;
        if (application is OpenIddictEntityFrameworkCoreApplication entity) inline = entity.JsonWebKeySet;
        else inline = await applications.GetJsonWebKeySetAsync(application, ct) is { } set ? JsonSerializer.Serialize(set) : null;
        return new ClientKeyRegistration(clientId, string.IsNullOrEmpty(inline) ? null : inline, string.IsNullOrEmpty(jwksUri) ? null : jwksUri);
    }

    /// <summary>
    /// SMART Backend Services: exp is required, in the future, and no more than five minutes ahead; nbf and iat,
    /// when present, are not in the future. (OpenIddict itself only requires exp and does not bound it.)
    /// </summary>
    public sealed class ValidateClientAssertionLifetime(IOptions<ClientAssertionOptions> options, TimeProvider clock)
        : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
                .UseSingletonHandler<ValidateClientAssertionLifetime>()
                .SetOrder(Protection.ValidateIdentityModelToken.Descriptor.Order + 100)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (!IsClientAssertion(context) || context.Principal is null || ParsedAssertion(context) is not { } token) return default;
            var now = clock.GetUtcNow().ToUnixTimeSeconds();
            var o = options.Value;
            var skew = (long)o.ClockSkew.TotalSeconds;
            var dates = NumericDates.Read(token);
            if (dates.Exp is not { } exp)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.MissingExpiration);
            else if (exp <= now)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Expired);
            else if (exp > now + (long)o.MaxLifetime.TotalSeconds + skew)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.ExpirationTooFar);
            else if (dates.NotNumeric)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.DateNotNumeric);
            else if (dates.Nbf is { } nbf && nbf > now + skew)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.NotYetValid);
            else if (dates.Iat is { } iat && iat > now + skew)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.IssuedInFuture);
            return default;
        }
    }

    /// <summary>RFC 7523 §3 item 7 as SMART requires it: a jti, so that the assertion can be used only once.</summary>
    public sealed class RequireClientAssertionIdentifier : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public const int MaxLength = 256;

        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
                .UseSingletonHandler<RequireClientAssertionIdentifier>()
                .SetOrder(ValidateClientAssertionLifetime.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (!IsClientAssertion(context) || context.Principal is null || ParsedAssertion(context) is not { } token) return default;
            if (!token.TryGetPayloadValue<string>(Claims.JwtId, out var jti) || string.IsNullOrEmpty(jti))
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.MissingJti);
            else if (jti.Length > MaxLength)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.JtiTooLong);
            return default;
        }
    }

    /// <summary>RFC 7523 §3 items 1-2 and SMART: iss and sub are both the client_id (and match a client_id parameter).</summary>
    public sealed class ValidateClientAssertionSubject : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
                .UseSingletonHandler<ValidateClientAssertionSubject>()
                .SetOrder(RequireClientAssertionIdentifier.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (!IsClientAssertion(context) || context.Principal is null || ParsedAssertion(context) is not { } token) return default;
            token.TryGetPayloadValue<string>(Claims.Issuer, out var iss);
            if (!token.TryGetPayloadValue<string>(Claims.Subject, out var sub) || !string.Equals(iss, sub, StringComparison.Ordinal))
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.SubjectNotIssuer);
            else if (!string.IsNullOrEmpty(context.Request?.ClientId) && !string.Equals(context.Request.ClientId, iss, StringComparison.Ordinal))
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.IssuerNotClientId);
            return default;
        }
    }

    /// <summary>
    /// RFC 7523 §3 item 3 as SMART uses it: aud is the token endpoint URL exactly as discovery publishes it (at the
    /// introspection and revocation endpoints, their own URL is accepted too). OpenIddict also accepts the bare
    /// issuer and compares paths only.
    /// </summary>
    public sealed class RequireTokenEndpointAudience : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
                .UseSingletonHandler<RequireTokenEndpointAudience>()
                .SetOrder(ValidateClientAssertionSubject.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            if (!IsClientAssertion(context) || context.Principal is null || ParsedAssertion(context) is not { } token) return default;
            var http = context.Transaction.GetHttpRequest()?.HttpContext
                ?? throw new InvalidOperationException("A client assertion was validated outside an HTTP request.");
            var origin = SmartDiscovery.Origin(http);
            var accepted = new List<string>(2) { origin + AuthEndpoints.Token };
            if (context.EndpointType == OpenIddictServerEndpointType.Introspection) accepted.Add(origin + AuthEndpoints.Introspect);
            if (context.EndpointType == OpenIddictServerEndpointType.Revocation) accepted.Add(origin + AuthEndpoints.Revoke);

            // A single string, as draft-ietf-oauth-rfc7523bis requires (OpenIddict 7 refuses arrays too).
            if (!token.TryGetPayloadValue<object>(Claims.Audience, out var aud) || aud is null)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.MissingAudience);
            else if (aud is not string audience)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.AudienceNotString);
            else if (!accepted.Contains(audience.TrimEnd('/'), StringComparer.Ordinal))
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.WrongAudience + " Expected " + accepted[0] + ".");
            return default;
        }
    }

    /// <summary>
    /// RFC 7591 §2 token_endpoint_auth_method: a client registered for private_key_jwt may not authenticate with a
    /// secret (nor a secret client with an assertion). Clients registered without the property are classified by
    /// what they hold: keys and no secret mean private_key_jwt.
    /// </summary>
    public sealed class EnforceRegisteredAuthenticationMethod(IOpenIddictApplicationManager applications)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireClientIdParameter>()
                .UseScopedHandler<EnforceRegisteredAuthenticationMethod>()
                .SetOrder(ValidateClientType.Descriptor.Order - 100)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.EndpointType is not (OpenIddictServerEndpointType.Token or OpenIddictServerEndpointType.Introspection
                or OpenIddictServerEndpointType.Revocation or OpenIddictServerEndpointType.PushedAuthorization
                or OpenIddictServerEndpointType.DeviceAuthorization)) return;
            var hasSecret = !string.IsNullOrEmpty(context.Request.ClientSecret);
            var hasAssertion = !string.IsNullOrEmpty(context.ClientAssertion);
            if (!hasSecret && !hasAssertion) return;
            if (await applications.FindByClientIdAsync(context.ClientId!, context.CancellationToken) is not { } application) return;

            var method = await RegisteredMethodAsync(applications, application, context.CancellationToken);
            if (method == ClientAuthenticationMethods.PrivateKeyJwt && hasSecret)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.SecretForKeyClient);
            else if (method is ClientAuthenticationMethods.ClientSecretBasic or ClientAuthenticationMethods.ClientSecretPost && hasAssertion)
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.AssertionForSecretClient);
        }
    }

    /// <summary>The client's token_endpoint_auth_method: registered, or inferred from what it holds.</summary>
    public static async ValueTask<string> RegisteredMethodAsync(IOpenIddictApplicationManager applications, object application, CancellationToken ct)
    {
        var properties = await applications.GetPropertiesAsync(application, ct);
        if (properties.TryGetValue(ClientProperties.TokenEndpointAuthMethod, out var registered)
            && registered.ValueKind == JsonValueKind.String && registered.GetString() is { Length: > 0 } method)
            return method;
        if (await applications.HasClientTypeAsync(application, ClientTypes.Public, ct)) return ClientAuthenticationMethods.None;
        var hasKeys = properties.ContainsKey(ClientProperties.JwksUri)
            || (application is OpenIddictEntityFrameworkCoreApplication e ? !string.IsNullOrEmpty(e.JsonWebKeySet)
                : await applications.GetJsonWebKeySetAsync(application, ct) is { Keys.Count: > 0 });
        var hasSecret = application is OpenIddictEntityFrameworkCoreApplication entity ? !string.IsNullOrEmpty(entity.ClientSecret) : !hasKeys;
        return hasKeys && !hasSecret ? ClientAuthenticationMethods.PrivateKeyJwt : ClientAuthenticationMethods.ClientSecretBasic;
    }

    /// <summary>
    /// RFC 7523 §3 item 7: the jti of an accepted assertion is recorded until the assertion expires, in the
    /// database shared by every node; a second use is invalid_client. Runs last in client authentication, so an
    /// assertion is only spent once the client has authenticated with it. For client_credentials the record is
    /// written with the access token's row (one transaction, <see cref="StoreClientCredentialsAccessToken"/>);
    /// a replay to this node is refused here already.
    /// </summary>
    public sealed class RejectReplayedClientAssertion(AssertionReplayCache replay, IOptions<ClientAssertionOptions> options)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionPrincipal>()
                .UseSingletonHandler<RejectReplayedClientAssertion>()
                .SetOrder(ValidateClientSecret.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            var principal = context.ClientAssertionPrincipal!;
            var jti = principal.GetClaim(Claims.JwtId);
            var iss = principal.GetClaim(Claims.Issuer);
            var exp = context.Transaction.Properties.TryGetValue(AssertionProperty, out var value) && value is JsonWebToken token
                ? token.ValidTo : DateTime.MinValue;
            if (string.IsNullOrEmpty(jti) || string.IsNullOrEmpty(iss) || exp == DateTime.MinValue)
            {
                // Only reachable if the assertion bypassed ValidateClientAssertionSignature (another token format).
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.MissingJti);
                return;
            }
            var key = AssertionReplayCache.KeyOf(iss, jti);
            var until = (new DateTimeOffset(DateTime.SpecifyKind(exp, DateTimeKind.Utc)) + options.Value.ClockSkew).ToUnixTimeSeconds();
            if (replay.SeenHere(key))
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Replayed);
            else if (StoreClientCredentialsAccessToken.WillStore(context))
                context.Transaction.Properties[PendingClientAssertion.Property] = new PendingClientAssertion(key, until);
            else if (!await replay.TryUseAsync(key, until))
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Replayed);
        }
    }

    /// <summary>
    /// The safety net of the deferred record: if the access token's row was not written with the assertion's
    /// jti (another configuration or step took over), the jti is recorded here before the response.
    /// </summary>
    public sealed class RecordDeferredClientAssertion(AssertionReplayCache replay) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseSingletonHandler<RecordDeferredClientAssertion>()
                .SetOrder(GenerateAccessToken.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (!context.Transaction.Properties.Remove(PendingClientAssertion.Property, out var value) || value is not PendingClientAssertion pending) return;
            if (!await replay.TryUseAsync(pending.Key, pending.ExpiresAt))
                context.Reject(Errors.InvalidClient, ClientAssertionErrors.Replayed);
        }
    }

    /// <summary>
    /// RFC 6749 §4.4.3: no refresh token for client_credentials. OpenIddict issues one when offline_access is
    /// granted, whatever the grant; a backend service simply asks for a new token.
    /// </summary>
    public sealed class NoRefreshTokenForClientCredentials : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseSingletonHandler<NoRefreshTokenForClientCredentials>()
                .SetOrder(EvaluateGeneratedTokens.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType is OpenIddictServerEndpointType.Token && context.Request.IsClientCredentialsGrantType())
            {
                context.GenerateRefreshToken = false;
                context.IncludeRefreshToken = false;
            }
            return default;
        }
    }
}

/// <summary>exp, nbf and iat as RFC 7519 §2 NumericDates: JSON numbers only (a string "123" is not one).</summary>
internal readonly record struct NumericDates(long? Exp, long? Nbf, long? Iat, bool NotNumeric)
{
    public static NumericDates Read(JsonWebToken token)
    {
        long? exp = null, nbf = null, iat = null;
        var notNumeric = false;
        var reader = new Utf8JsonReader(Base64UrlEncoder.DecodeBytes(token.EncodedPayload));
        if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject) return new(null, null, null, true);
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = reader.GetString();
            reader.Read();
            if (name is Claims.ExpiresAt or Claims.NotBefore or Claims.IssuedAt)
            {
                long? value = reader.TokenType == JsonTokenType.Number && reader.TryGetDouble(out var d) && double.IsFinite(d) ? (long)Math.Floor(d) : null;
                if (name == Claims.ExpiresAt) exp = value;
                else if (value is null) notNumeric = true;
                else if (name == Claims.NotBefore) nbf = value;
                else iat = value;
            }
            reader.Skip();
        }
        return new(exp, nbf, iat, notNumeric);
    }
}

/// <summary>
/// The error_description of every client-assertion failure, in one catalogue: tests assert against these
/// constants, so a rewording never hides which rule fired.
/// </summary>
public static class ClientAssertionErrors
{
    public const string Malformed = "The client_assertion is not a well-formed JWT.";
    public const string Encrypted = "Encrypted client assertions are not accepted; sign the assertion (JWS) without encrypting it.";
    public const string Algorithm = "The client_assertion must be signed with RS384, ES384, RS256 or ES256 (alg 'none' and symmetric algorithms are refused).";
    public const string Type = "The client_assertion's typ header names another kind of token; use JWT or client-authentication+jwt.";
    public const string Signature = "The client_assertion's signature does not verify with the keys the client registered.";
    public const string UnknownIssuer = "The client_assertion's iss does not name a registered client.";
    public const string JkuNotRegistered = "The client_assertion's jku header is not the jwks_uri registered for the client.";
    public const string MissingExpiration = "The client_assertion has no numeric exp claim.";
    public const string DateNotNumeric = "The client_assertion's nbf and iat, when present, must be numbers (seconds since 1970).";
    public const string Expired = "The client_assertion has expired (exp is in the past).";
    public const string ExpirationTooFar = "The client_assertion's exp is more than five minutes in the future.";
    public const string NotYetValid = "The client_assertion is not valid yet (nbf is in the future).";
    public const string IssuedInFuture = "The client_assertion's iat is in the future.";
    public const string MissingJti = "The client_assertion has no jti claim; a unique jti is required.";
    public const string JtiTooLong = "The client_assertion's jti is longer than 256 characters.";
    public const string SubjectNotIssuer = "The client_assertion's sub must equal its iss (both the client_id).";
    public const string IssuerNotClientId = "The client_assertion's iss does not match the client_id parameter.";
    public const string MissingAudience = "The client_assertion has no aud claim; set it to the token endpoint URL.";
    public const string AudienceNotString = "The client_assertion's aud must be one string, the token endpoint URL (not an array).";
    public const string WrongAudience = "The client_assertion's aud is not this server's token endpoint URL.";
    public const string Replayed = "The client_assertion's jti was already used; every assertion must carry a new jti.";
    public const string SecretForKeyClient = "This client is registered for private_key_jwt: authenticate with a signed client_assertion, not a client secret.";
    public const string AssertionForSecretClient = "This client is registered for a client secret: a client_assertion is not accepted.";
}
