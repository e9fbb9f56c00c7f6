using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.IdentityModel.Tokens;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.Clients;

/// <summary>An error of the client registry: an RFC 7591 §3.2.2 code (or not_found / invalid_request) and a description.</summary>
public sealed record ClientError(string Code, string Description)
{
    public const string InvalidRedirectUriCode = "invalid_redirect_uri";
    public const string InvalidClientMetadataCode = "invalid_client_metadata";
    public const string NotFoundCode = "not_found";
    public const string InvalidRequestCode = "invalid_request";

    public static ClientError InvalidRedirectUri(string description) => new(InvalidRedirectUriCode, description);
    public static ClientError InvalidMetadata(string description) => new(InvalidClientMetadataCode, description);
    public static ClientError NotFound(string clientId) => new(NotFoundCode, $"There is no client '{clientId}'.");
    public static ClientError InvalidRequest(string description) => new(InvalidRequestCode, description);
}

/// <summary>What a validation may allow beyond what any registrant may ask for.</summary>
/// <param name="LegacyGrants">The legacy grant types (password, implicit) the metadata may name.</param>
/// <param name="ExtraScopes">Scopes outside the SMART grammar that exist on this server (Ignis:Auth:ExtraScopes).</param>
/// <param name="AuthMethods">The token_endpoint_auth_method values the server runs.</param>
public sealed record ValidationContext(IReadOnlySet<string> LegacyGrants, IReadOnlyCollection<string> ExtraScopes, IReadOnlySet<string> AuthMethods);

/// <summary>
/// The registration rules of RFC 7591 §2 and RFC 8252, one method per rule, applied in order; the first failure
/// is the answer. Returns the metadata with the RFC defaults filled in.
/// </summary>
public static class ClientMetadataValidator
{
    public const string AuthNone = ClientAuthenticationMethods.None;
    public const string AuthSecretBasic = ClientAuthenticationMethods.ClientSecretBasic;
    public const string AuthSecretPost = ClientAuthenticationMethods.ClientSecretPost;
    public const string AuthPrivateKeyJwt = ClientAuthenticationMethods.PrivateKeyJwt;

    /// <summary>The authentication methods a registration may name (those the server runs are a subset).</summary>
    public static readonly string[] SupportedAuthMethods = [AuthNone, AuthSecretBasic, AuthSecretPost, AuthPrivateKeyJwt,
        Mtls.MtlsClientProperties.TlsClientAuthMethod, Mtls.MtlsClientProperties.SelfSignedTlsClientAuthMethod];

    /// <summary>Grant types anyone may register.</summary>
    public static readonly string[] OrdinaryGrantTypes = [GrantTypes.AuthorizationCode, GrantTypes.RefreshToken, GrantTypes.ClientCredentials];

    /// <summary>Grant types an administrator enables per client (OAuth 2.1 drops them).</summary>
    public static readonly string[] LegacyGrantTypes = [GrantTypes.Password, GrantTypes.Implicit];

    public static bool UsesSecret(string authMethod) => authMethod is AuthSecretBasic or AuthSecretPost;

    private const int MaxUris = 20;
    private const int MaxUriLength = 2048;
    private const int MaxTextLength = 200;
    private const int MaxContacts = 10;
    private const int MaxScopeLength = 4000;
    private static readonly string[] ForbiddenSchemes = ["javascript", "data", "file", "vbscript", "about", "blob", "ftp", "ws", "wss", "mailto", "tel"];

    public static ClientMetadata Validate(ClientMetadata metadata, ValidationContext context, out ClientError? error)
    {
        var m = metadata;
        error = ValidateText(m)
            ?? ValidateAuthMethod(ref m, context)
            ?? ValidateGrantTypes(ref m, context)
            ?? ValidateResponseTypes(ref m)
            ?? ValidateRedirectUris(ref m)
            ?? ValidatePostLogoutRedirectUris(m)
            ?? ValidateKeys(m)
            ?? Mtls.MtlsClientMetadata.Validate(m)
            ?? ValidateScope(ref m, context)
            ?? ValidateInformationUris(m);
        return m;
    }

    private static ClientError? ValidateText(ClientMetadata m)
    {
        foreach (var (name, value) in new[] { ("client_name", m.ClientName), ("software_id", m.SoftwareId), ("software_version", m.SoftwareVersion) })
        {
            if (value is null) continue;
            if (value.Length > MaxTextLength) return ClientError.InvalidMetadata($"'{name}' is longer than {MaxTextLength} characters.");
            if (value.Any(char.IsControl)) return ClientError.InvalidMetadata($"'{name}' contains control characters.");
        }
        if (m.ClientName is { } clientName && string.IsNullOrWhiteSpace(clientName)) return ClientError.InvalidMetadata("'client_name' is blank.");
        if (m.Contacts.Count > MaxContacts) return ClientError.InvalidMetadata($"'contacts' lists more than {MaxContacts} entries.");
        if (m.Contacts.Any(c => c.Length is 0 or > 254 || c.Any(char.IsControl)))
            return ClientError.InvalidMetadata("Each of 'contacts' must be an e-mail address of at most 254 characters.");
        return null;
    }

    /// <summary>RFC 7591 §2: token_endpoint_auth_method, default client_secret_basic.</summary>
    private static ClientError? ValidateAuthMethod(ref ClientMetadata m, ValidationContext context)
    {
        var method = m.TokenEndpointAuthMethod ?? AuthSecretBasic;
        if (!SupportedAuthMethods.Contains(method) || !context.AuthMethods.Contains(method))
            return ClientError.InvalidMetadata($"'token_endpoint_auth_method' must be one of {string.Join(", ", SupportedAuthMethods.Where(context.AuthMethods.Contains))}.");
        m = m with { TokenEndpointAuthMethod = method };
        return null;
    }

    /// <summary>RFC 7591 §2: grant_types, default authorization_code; each must be one the server runs for this registrant.</summary>
    private static ClientError? ValidateGrantTypes(ref ClientMetadata m, ValidationContext context)
    {
        var grants = (m.GrantTypes ?? [GrantTypes.AuthorizationCode]).Distinct(StringComparer.Ordinal).ToList();
        if (grants.Count == 0) return ClientError.InvalidMetadata("'grant_types' is empty; name at least one grant type.");
        foreach (var grant in grants)
        {
            if (OrdinaryGrantTypes.Contains(grant) || context.LegacyGrants.Contains(grant)) continue;
            return LegacyGrantTypes.Contains(grant)
                ? ClientError.InvalidMetadata($"The '{grant}' grant is a legacy grant an administrator enables per client; it cannot be registered.")
                : ClientError.InvalidMetadata($"The grant type '{grant}' is not supported; use {string.Join(", ", OrdinaryGrantTypes)}.");
        }
        if (grants.Contains(GrantTypes.RefreshToken) && !grants.Contains(GrantTypes.AuthorizationCode) && !grants.Contains(GrantTypes.Password))
            return ClientError.InvalidMetadata("'refresh_token' needs a grant that issues refresh tokens (authorization_code).");
        var isPublic = m.TokenEndpointAuthMethod == AuthNone;
        if (isPublic && grants.Contains(GrantTypes.ClientCredentials))
            return ClientError.InvalidMetadata("'client_credentials' needs a client that authenticates: token_endpoint_auth_method must not be 'none'.");
        if (!isPublic && grants.Contains(GrantTypes.Implicit))
            return ClientError.InvalidMetadata("The implicit grant is for public clients only (token_endpoint_auth_method 'none').");
        m = m with { GrantTypes = grants };
        return null;
    }

    /// <summary>RFC 7591 §2.1: response_types must agree with grant_types (code ⇔ authorization_code, token ⇔ implicit).</summary>
    private static ClientError? ValidateResponseTypes(ref ClientMetadata m)
    {
        var grants = m.GrantTypes!;
        var expected = new List<string>();
        if (grants.Contains(GrantTypes.AuthorizationCode)) expected.Add(ResponseTypes.Code);
        if (grants.Contains(GrantTypes.Implicit)) expected.Add(ResponseTypes.Token);
        var responses = (m.ResponseTypes ?? expected).Distinct(StringComparer.Ordinal).ToList();
        foreach (var response in responses)
        {
            if (response is not (ResponseTypes.Code or ResponseTypes.Token))
                return ClientError.InvalidMetadata($"The response type '{response}' is not supported; use 'code'.");
            if (!expected.Contains(response))
                return ClientError.InvalidMetadata($"The response type '{response}' needs the grant type '{(response == ResponseTypes.Code ? GrantTypes.AuthorizationCode : GrantTypes.Implicit)}'.");
        }
        var missing = expected.FirstOrDefault(e => !responses.Contains(e));
        if (missing is not null)
            return ClientError.InvalidMetadata($"The grant type '{(missing == ResponseTypes.Code ? GrantTypes.AuthorizationCode : GrantTypes.Implicit)}' needs the response type '{missing}'.");
        m = m with { ResponseTypes = responses };
        return null;
    }

    /// <summary>
    /// RFC 7591 §2 and RFC 8252 §7: redirect URIs are absolute, without fragment; https for web apps; http only on a
    /// loopback address, or a private-use (reverse domain) scheme, for native apps.
    /// </summary>
    private static ClientError? ValidateRedirectUris(ref ClientMetadata m)
    {
        var needsRedirect = m.GrantTypes!.Contains(GrantTypes.AuthorizationCode) || m.GrantTypes!.Contains(GrantTypes.Implicit);
        if (needsRedirect && m.RedirectUris.Count == 0)
            return ClientError.InvalidRedirectUri("'redirect_uris' is required for the authorization_code and implicit grants.");
        if (m.RedirectUris.Count > MaxUris) return ClientError.InvalidRedirectUri($"'redirect_uris' lists more than {MaxUris} URIs.");
        if (m.ApplicationType is { } type && type is not (ApplicationTypes.Web or ApplicationTypes.Native))
            return ClientError.InvalidMetadata("'application_type' must be 'web' or 'native'.");

        var native = false;
        foreach (var text in m.RedirectUris)
        {
            if (CheckRedirect(text, out var isNative) is { } problem) return ClientError.InvalidRedirectUri(problem);
            if (isNative && m.ApplicationType == ApplicationTypes.Web)
                return ClientError.InvalidRedirectUri($"The redirect URI '{text}' is for native apps (http on loopback or a private-use scheme); a web app must use https. Set application_type to 'native' for a native app.");
            native |= isNative;
        }
        m = m with { ApplicationType = m.ApplicationType ?? (native ? ApplicationTypes.Native : ApplicationTypes.Web) };
        return null;
    }

    /// <summary>Why <paramref name="text"/> is not an acceptable redirect URI, or null.</summary>
    public static string? CheckRedirect(string text, out bool native)
    {
        native = false;
        if (text.Length > MaxUriLength) return $"A redirect URI is longer than {MaxUriLength} characters.";
        if (text.Contains('#')) return $"The redirect URI '{text}' has a fragment; redirect URIs must not (RFC 6749 §3.1.2).";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || text.Any(char.IsWhiteSpace))
            return $"The redirect URI '{text}' is not an absolute URI.";
        if (!string.IsNullOrEmpty(uri.UserInfo)) return $"The redirect URI '{text}' carries user information; it must not.";
        var scheme = uri.Scheme.ToLowerInvariant();
        if (scheme == "https")
        {
            if (string.IsNullOrEmpty(uri.Host)) return $"The redirect URI '{text}' has no host.";
            return null;
        }
        if (scheme == "http")
        {
            if (!IsLoopback(uri))
                return $"The redirect URI '{text}' uses http on a host that is not a loopback address; use https (or http://127.0.0.1 for a native app).";
            native = true;
            return null;
        }
        if (ForbiddenSchemes.Contains(scheme)) return $"The redirect URI scheme '{scheme}:' is not allowed.";
        if (!scheme.Contains('.'))
            return $"The private-use scheme '{scheme}:' must be a reverse domain name the app controls, e.g. com.example.app: (RFC 8252 §7.1).";
        native = true;
        return null;
    }

    public static bool IsLoopback(Uri uri) =>
        uri.Host.Equals("localhost", StringComparison.OrdinalIgnoreCase)
        || (IPAddress.TryParse(uri.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));

    private static ClientError? ValidatePostLogoutRedirectUris(ClientMetadata m)
    {
        if (m.PostLogoutRedirectUris.Count > MaxUris) return ClientError.InvalidMetadata($"'post_logout_redirect_uris' lists more than {MaxUris} URIs.");
        foreach (var text in m.PostLogoutRedirectUris)
            if (CheckRedirect(text, out _) is { } problem) return ClientError.InvalidMetadata("post_logout_redirect_uris: " + problem);
        return null;
    }

    /// <summary>RFC 7591 §2: jwks and jwks_uri are exclusive; private_key_jwt needs one of them; keys are public RSA (2048+) or EC.</summary>
    private static ClientError? ValidateKeys(ClientMetadata m)
    {
        if (m.Jwks is not null && m.JwksUri is not null)
            return ClientError.InvalidMetadata("'jwks' and 'jwks_uri' must not both be present (RFC 7591 §2).");
        if (m.TokenEndpointAuthMethod == AuthPrivateKeyJwt && m.Jwks is null && m.JwksUri is null)
            return ClientError.InvalidMetadata("'private_key_jwt' needs the client's public keys: send 'jwks' or 'jwks_uri'.");
        if (m.JwksUri is { } jwksUri)
        {
            if (jwksUri.Length > MaxUriLength || jwksUri.Contains('#') || !Uri.TryCreate(jwksUri, UriKind.Absolute, out var uri)
                || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri))))
                return ClientError.InvalidMetadata("'jwks_uri' must be an absolute https URI without a fragment (http only on a loopback address).");
        }
        if (m.Jwks is { } jwks) return CheckKeySet(jwks);
        return null;
    }

    private static readonly string[] PrivateMembers = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

    private static ClientError? CheckKeySet(JsonObject jwks)
    {
        if (jwks["keys"] is not JsonArray keys || keys.Count == 0)
            return ClientError.InvalidMetadata("'jwks' must be a JWK Set: an object whose 'keys' array holds at least one key.");
        if (keys.Count > 20) return ClientError.InvalidMetadata("'jwks' holds more than 20 keys.");
        foreach (var node in keys)
        {
            if (node is not JsonObject key) return ClientError.InvalidMetadata("Each entry of 'jwks.keys' must be a JSON object.");
            if (PrivateMembers.Any(name => key[name] is { } value && value is not JsonArray { Count: 0 }))
                return ClientError.InvalidMetadata("'jwks' must hold public keys only; a key carries private or symmetric key material.");
            JsonWebKey parsed;
            try
            {
                parsed = new JsonWebKey(key.ToJsonString());
            }
            catch (Exception e) when (e is ArgumentException or JsonException or FormatException)
            {
                return ClientError.InvalidMetadata("An entry of 'jwks.keys' is not a valid JSON Web Key.");
            }
            if (parsed.Use is { Length: > 0 } use && use != JsonWebKeyUseNames.Sig)
                return ClientError.InvalidMetadata("Keys in 'jwks' are used to verify client assertions: 'use' must be 'sig' when present.");
            if (CheckPublicKey(parsed) is { } problem) return ClientError.InvalidMetadata(problem);
        }
        return null;
    }

    /// <summary>Why the key cannot verify signatures, or null: it must import as an RSA (2048+) or EC (P-256/384/521) public key.</summary>
    private static string? CheckPublicKey(JsonWebKey key)
    {
        try
        {
            switch (key.Kty)
            {
                case JsonWebAlgorithmsKeyTypes.RSA:
                    if (string.IsNullOrEmpty(key.N) || string.IsNullOrEmpty(key.E)) return "An RSA key in 'jwks' lacks 'n' or 'e'.";
                    using (var rsa = RSA.Create())
                    {
                        rsa.ImportParameters(new RSAParameters
                        {
                            Modulus = Base64UrlEncoder.DecodeBytes(key.N), Exponent = Base64UrlEncoder.DecodeBytes(key.E),
                        });
                        if (rsa.KeySize < 2048) return "RSA keys in 'jwks' must be at least 2048 bits.";
                    }
                    return null;
                case JsonWebAlgorithmsKeyTypes.EllipticCurve:
                    var curve = key.Crv switch
                    {
                        "P-256" => ECCurve.NamedCurves.nistP256,
                        "P-384" => ECCurve.NamedCurves.nistP384,
                        "P-521" => ECCurve.NamedCurves.nistP521,
                        _ => (ECCurve?)null,
                    };
                    if (curve is null || string.IsNullOrEmpty(key.X) || string.IsNullOrEmpty(key.Y))
                        return "EC keys in 'jwks' must name the curve P-256, P-384 or P-521 and carry 'x' and 'y'.";
                    using (var ec = ECDsa.Create())
                    {
                        ec.ImportParameters(new ECParameters
                        {
                            Curve = curve.Value,
                            Q = new ECPoint { X = Base64UrlEncoder.DecodeBytes(key.X), Y = Base64UrlEncoder.DecodeBytes(key.Y) },
                        });
                    }
                    return null;
                default:
                    return "Keys in 'jwks' must be RSA or EC keys ('kty' RSA or EC).";
            }
        }
        catch (Exception e) when (e is FormatException or ArgumentException or CryptographicException)
        {
            return $"The {key.Kty} key '{key.Kid}' in 'jwks' is not a valid public key.";
        }
    }

    /// <summary>
    /// RFC 7591 §2 scope: each must be a SMART scope or one of Ignis:Auth:ExtraScopes; system/ scopes belong to
    /// client_credentials clients.
    /// </summary>
    private static ClientError? ValidateScope(ref ClientMetadata m, ValidationContext context)
    {
        if (m.Scope is null) return null;
        if (m.Scope.Length > MaxScopeLength) return ClientError.InvalidMetadata($"'scope' is longer than {MaxScopeLength} characters.");
        var asked = m.Scope.Split(' ', StringSplitOptions.RemoveEmptyEntries).Distinct(StringComparer.Ordinal).ToList();
        var known = SmartScopes.Filter(asked, context.ExtraScopes);
        var unknown = asked.FirstOrDefault(s => !known.Contains(s));
        if (unknown is not null) return ClientError.InvalidMetadata($"The scope '{unknown}' is not a scope this server grants.");
        if (asked.Any(SmartScopes.IsSystem) && !m.GrantTypes!.Contains(GrantTypes.ClientCredentials))
            return ClientError.InvalidMetadata("system/ scopes are for backend services: register the 'client_credentials' grant type to use them.");
        m = m with { Scope = asked.Count == 0 ? null : string.Join(' ', asked) };
        return null;
    }

    /// <summary>logo_uri, client_uri, policy_uri, tos_uri and launch_uri: absolute https URIs (http on loopback).</summary>
    private static ClientError? ValidateInformationUris(ClientMetadata m)
    {
        foreach (var (name, value) in new[]
                 {
                     ("logo_uri", m.LogoUri), ("client_uri", m.ClientUri), ("policy_uri", m.PolicyUri), ("tos_uri", m.TosUri), ("launch_uri", m.LaunchUri),
                 })
        {
            if (value is null) continue;
            if (value.Length > MaxUriLength || !Uri.TryCreate(value, UriKind.Absolute, out var uri)
                || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && IsLoopback(uri))))
                return ClientError.InvalidMetadata($"'{name}' must be an absolute https URI (http only on a loopback address).");
        }
        return null;
    }
}
