using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.Clients;

public enum ClientStatus
{
    Active,
    /// <summary>Registered, waiting for an administrator; gets no tokens.</summary>
    PendingApproval,
    /// <summary>Switched off by an administrator; gets no tokens, its tokens were revoked.</summary>
    Disabled,
}

public enum LegacyGrant
{
    /// <summary>The resource-owner password credentials grant (RFC 6749 §4.3).</summary>
    Password,
    /// <summary>The implicit grant (RFC 6749 §4.2).</summary>
    Implicit,
}

public enum RegistrantKind
{
    /// <summary>Anyone (open registration).</summary>
    Anonymous,
    /// <summary>A holder of a configured initial access token (RFC 7591 §3).</summary>
    InitialAccessToken,
    /// <summary>A signed-in user with the developer role.</summary>
    Developer,
    /// <summary>A signed-in administrator: no approval needed, may enable legacy grants.</summary>
    Administrator,
    /// <summary>The client itself, with its registration access token (RFC 7592).</summary>
    Client,
}

/// <summary>Who asks the registry for a change; decides what needs an administrator's approval.</summary>
public sealed record Registrant(RegistrantKind Kind, string? UserId = null)
{
    public static Registrant Anonymous { get; } = new(RegistrantKind.Anonymous);
    public static Registrant InitialAccessToken { get; } = new(RegistrantKind.InitialAccessToken);
    public static Registrant Client { get; } = new(RegistrantKind.Client);
    public static Registrant Developer(string userId) => new(RegistrantKind.Developer, userId);
    public static Registrant Administrator(string userId) => new(RegistrantKind.Administrator, userId);
}

/// <summary>A registered client as the registry reports it; <see cref="Metadata"/> has every default filled in.</summary>
public sealed record RegisteredClient(
    string ClientId,
    ClientMetadata Metadata,
    DateTimeOffset ClientIdIssuedAt,
    DateTimeOffset? ClientSecretExpiresAt,
    bool HasSecret,
    ClientStatus Status,
    string? OwnerId,
    IReadOnlySet<LegacyGrant> LegacyGrants)
{
    public bool IsPublic => Metadata.TokenEndpointAuthMethod == ClientMetadataValidator.AuthNone;
}

/// <summary>
/// The answer of a registry operation: the client, or an error. <see cref="ClientSecret"/> and
/// <see cref="RegistrationAccessToken"/> are set only when the operation made them; they are stored hashed and
/// cannot be read again.
/// </summary>
public sealed record ClientResult(RegisteredClient? Client, ClientError? Error, string? ClientSecret = null, string? RegistrationAccessToken = null)
{
    public bool Succeeded => Error is null;

    public static ClientResult Failed(ClientError error) => new(null, error);
}

/// <summary>
/// The one place that registers, reads, updates, re-keys, approves, disables and deletes clients. The RFC 7591/7592
/// endpoints, the developer portal, the admin pages and the <c>ignis</c> CLI all call it, so every client obeys the
/// same metadata rules (<see cref="ClientMetadataValidator"/>) and lands in OpenIddict's application table the
/// same way: OpenIddict columns where they exist, <see cref="ClientProperties"/> for the rest.
/// </summary>
/// <remarks>
/// Clients registered by anyone but an administrator are held for approval when
/// Ignis:Auth:Registration:RequireApproval is set, and whenever they ask for scopes that reach past one user
/// (system/ scopes, Ignis:Auth:ExtraScopes such as scim), unless an initial access token vouches for them.
/// Disabling or deleting a client revokes every token and authorization it holds.
/// </remarks>
public sealed partial class ClientRegistry(
    IgnisApplicationManager applications,
    IOpenIddictAuthorizationManager authorizations,
    IOpenIddictTokenManager tokens,
    IOptionsMonitor<AuthOptions> options,
    IOptionsMonitor<OpenIddictServerOptions> server,
    TimeProvider clock,
    ILogger<ClientRegistry> logger)
{
    /// <summary>Registers a client. The result carries the client secret (secret-based methods) and a registration access token, once.</summary>
    public async Task<ClientResult> RegisterAsync(ClientMetadata metadata, Registrant registrant, CancellationToken ct = default)
    {
        var legacy = registrant.Kind == RegistrantKind.Administrator ? ServerLegacyGrants() : new HashSet<string>();
        var m = ClientMetadataValidator.Validate(metadata, Context(legacy), out var error);
        if (error is not null) return ClientResult.Failed(error);

        var now = clock.GetUtcNow();
        var clientId = NewToken(16);
        var secret = ClientMetadataValidator.UsesSecret(m.TokenEndpointAuthMethod!) ? NewToken(32) : null;
        var registrationToken = NewToken(32);
        var descriptor = new OpenIddictApplicationDescriptor { ClientId = clientId, ClientSecret = secret };
        Describe(m, descriptor);
        SetProperty(descriptor, ClientProperties.IssuedAt, now.ToUnixTimeSeconds());
        SetProperty(descriptor, ClientProperties.RegistrationAccessTokenHash, HashToken(registrationToken));
        SetProperty(descriptor, ClientProperties.Owner, registrant.UserId);
        if (secret is not null && options.CurrentValue.Registration.ClientSecretLifetime is { } lifetime)
            SetProperty(descriptor, ClientProperties.ClientSecretExpiresAt, (now + lifetime).ToUnixTimeSeconds());
        if (MustHold(registrant, Privileged(m.Scope), isNew: true)) SetProperty(descriptor, ClientProperties.PendingApproval, true);

        try
        {
            await applications.CreateAsync(descriptor, ct);
        }
        catch (OpenIddictExceptions.ValidationException e)
        {
            return ClientResult.Failed(ClientError.InvalidMetadata(string.Join(" ", e.Results.Select(r => r.ErrorMessage))));
        }
        var client = (await FindAsync(clientId, ct))!;
        LogRegistered(logger, clientId, registrant.Kind, client.Status);
        return new ClientResult(client, null, secret, registrationToken);
    }

    /// <summary>The client, or null when there is none with this id.</summary>
    public async Task<RegisteredClient?> FindAsync(string clientId, CancellationToken ct = default)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        return application is null ? null : await ReadAsync(application, ct);
    }

    /// <summary>Every client, or those registered by <paramref name="ownerId"/> (a user id).</summary>
    public async IAsyncEnumerable<RegisteredClient> ListAsync(string? ownerId = null, [EnumeratorCancellation] CancellationToken ct = default)
    {
        await foreach (var application in applications.ListAsync(count: null, offset: null, ct))
        {
            var client = await ReadAsync(application, ct);
            if (ownerId is null || client.OwnerId == ownerId) yield return client;
        }
    }

    /// <summary>
    /// Replaces the client's metadata (RFC 7592 §2.2: fields left out are removed or take their defaults). Legacy
    /// grants stay as an administrator set them unless an administrator updates. Changing to a secret-based
    /// authentication method issues a new secret (in the result); changing away from one removes the secret.
    /// </summary>
    public async Task<ClientResult> UpdateAsync(string clientId, ClientMetadata metadata, Registrant registrant, CancellationToken ct = default)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        if (application is null) return ClientResult.Failed(ClientError.NotFound(clientId));
        var current = await ReadAsync(application, ct);

        HashSet<string> legacy;
        if (registrant.Kind == RegistrantKind.Administrator)
        {
            // An administrator may enable what the server runs, and keep what the client already has.
            legacy = ServerLegacyGrants();
            legacy.UnionWith(current.LegacyGrants.Select(GrantType));
        }
        else
        {
            // Only an administrator changes legacy grants: those enabled stay even when left out, others are refused.
            legacy = current.LegacyGrants.Select(GrantType).ToHashSet();
            var grants = (metadata.GrantTypes ?? [GrantTypes.AuthorizationCode]).Union(legacy);
            var responses = metadata.ResponseTypes?.Union(legacy.Contains(GrantTypes.Implicit) ? [ResponseTypes.Token] : []);
            metadata = metadata with { GrantTypes = [.. grants], ResponseTypes = responses?.ToList() };
        }
        var m = ClientMetadataValidator.Validate(metadata, Context(legacy), out var error);
        if (error is not null) return ClientResult.Failed(error);

        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, ct);
        Describe(m, descriptor);
        var addedPrivileged = Privileged(m.Scope).Except(Privileged(current.Metadata.Scope)).ToList();
        if (MustHold(registrant, addedPrivileged, isNew: false)) SetProperty(descriptor, ClientProperties.PendingApproval, true);

        string? secret = null;
        var replaceSecret = false;
        string? secretHash = null;
        var usesSecret = ClientMetadataValidator.UsesSecret(m.TokenEndpointAuthMethod!);
        if (usesSecret && !current.HasSecret)
        {
            secret = NewToken(32);
            secretHash = await applications.HashSecretAsync(secret, ct);
            replaceSecret = true;
            SetSecretExpiry(descriptor);
        }
        else if (!usesSecret && !string.IsNullOrEmpty(descriptor.ClientSecret))
        {
            replaceSecret = true;
            ClearSecretProperties(descriptor);
        }

        var failure = await SaveAsync(application, descriptor, replaceSecret, secretHash, ct);
        if (failure is not null) return ClientResult.Failed(failure);
        LogUpdated(logger, clientId, registrant.Kind);
        return new ClientResult(await ReadAsync(application, ct), null, secret);
    }

    /// <summary>
    /// Issues a new client secret (in the result, once). The old one keeps working for <paramref name="gracePeriod"/>
    /// (default Ignis:Auth:Registration:SecretRotationGracePeriod; zero ends it at once), so running deployments can
    /// switch without downtime. A second rotation within the grace period ends the oldest secret at once.
    /// </summary>
    public async Task<ClientResult> RotateSecretAsync(string clientId, TimeSpan? gracePeriod = null, CancellationToken ct = default)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        if (application is null) return ClientResult.Failed(ClientError.NotFound(clientId));
        var current = await ReadAsync(application, ct);
        if (!ClientMetadataValidator.UsesSecret(current.Metadata.TokenEndpointAuthMethod!))
            return ClientResult.Failed(ClientError.InvalidRequest($"The client authenticates with '{current.Metadata.TokenEndpointAuthMethod}', not a secret."));

        var grace = gracePeriod ?? options.CurrentValue.Registration.SecretRotationGracePeriod;
        if (grace < TimeSpan.Zero) return ClientResult.Failed(ClientError.InvalidRequest("The grace period cannot be negative."));
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, ct);
        ClearSecretProperties(descriptor);
        if (grace > TimeSpan.Zero && !string.IsNullOrEmpty(descriptor.ClientSecret))
        {
            SetProperty(descriptor, ClientProperties.PreviousClientSecret, descriptor.ClientSecret);
            SetProperty(descriptor, ClientProperties.PreviousClientSecretExpiresAt, (clock.GetUtcNow() + grace).ToUnixTimeSeconds());
        }
        SetSecretExpiry(descriptor);
        var secret = NewToken(32);
        var failure = await SaveAsync(application, descriptor, replaceSecret: true, await applications.HashSecretAsync(secret, ct), ct);
        if (failure is not null) return ClientResult.Failed(failure);
        LogSecretRotated(logger, clientId, grace);
        return new ClientResult(await ReadAsync(application, ct), null, secret);
    }

    /// <summary>Issues a new RFC 7592 registration access token (in the result, once); the old one stops working.</summary>
    public async Task<ClientResult> RotateRegistrationAccessTokenAsync(string clientId, CancellationToken ct = default)
    {
        var token = NewToken(32);
        var result = await ChangeAsync(clientId, d => SetProperty(d, ClientProperties.RegistrationAccessTokenHash, HashToken(token)), ct);
        return result.Succeeded ? result with { RegistrationAccessToken = token } : result;
    }

    /// <summary>
    /// The client whose registration access token this is (RFC 7592 §1), or null: unknown client or wrong token, which
    /// the caller must not tell apart.
    /// </summary>
    public async Task<RegisteredClient?> AuthenticateRegistrationAsync(string clientId, string registrationAccessToken, CancellationToken ct = default)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        if (application is null) return null;
        var properties = await applications.GetPropertiesAsync(application, ct);
        if (!properties.TryGetValue(ClientProperties.RegistrationAccessTokenHash, out var stored) || stored.ValueKind != JsonValueKind.String) return null;
        var expected = Encoding.ASCII.GetBytes(stored.GetString()!);
        var presented = Encoding.ASCII.GetBytes(HashToken(registrationAccessToken));
        return CryptographicOperations.FixedTimeEquals(expected, presented) ? await ReadAsync(application, ct) : null;
    }

    /// <summary>Lets a client held for approval get tokens.</summary>
    public async Task<ClientResult> ApproveAsync(string clientId, CancellationToken ct = default)
    {
        var result = await ChangeAsync(clientId, d => d.Properties.Remove(ClientProperties.PendingApproval), ct);
        if (result.Succeeded) LogApproved(logger, clientId);
        return result;
    }

    /// <summary>Stops the client from getting tokens and revokes every token and authorization it holds.</summary>
    public async Task<ClientResult> DisableAsync(string clientId, CancellationToken ct = default)
    {
        var result = await ChangeAsync(clientId, d => SetProperty(d, ClientProperties.Disabled, true), ct);
        if (!result.Succeeded) return result;
        var revoked = await RevokeAllAsync((await applications.FindByClientIdAsync(clientId, ct))!, ct);
        LogDisabled(logger, clientId, revoked);
        return result;
    }

    /// <summary>Lets a disabled client get tokens again.</summary>
    public Task<ClientResult> EnableAsync(string clientId, CancellationToken ct = default) =>
        ChangeAsync(clientId, d => d.Properties.Remove(ClientProperties.Disabled), ct);

    /// <summary>
    /// Enables or disables a legacy grant for one client (an administrator's decision). The grant must be switched on
    /// server-wide (Ignis:Auth:LegacyGrants); the implicit grant needs a public client with a redirect URI.
    /// </summary>
    public async Task<ClientResult> SetLegacyGrantAsync(string clientId, LegacyGrant grant, bool enabled, CancellationToken ct = default)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        if (application is null) return ClientResult.Failed(ClientError.NotFound(clientId));
        var current = await ReadAsync(application, ct);
        var grantType = GrantType(grant);
        if (enabled && !ServerLegacyGrants().Contains(grantType))
            return ClientResult.Failed(ClientError.InvalidRequest(
                $"The {grantType} grant is off on this server; switch it on with Ignis:Auth:LegacyGrants:{grant}=true first."));
        var grants = (current.Metadata.GrantTypes ?? []).Where(g => g != grantType).ToList();
        var responses = (current.Metadata.ResponseTypes ?? []).Where(r => grant != LegacyGrant.Implicit || r != ResponseTypes.Token).ToList();
        if (enabled)
        {
            grants.Add(grantType);
            if (grant == LegacyGrant.Implicit) responses.Add(ResponseTypes.Token);
        }
        var result = await UpdateAsync(clientId, current.Metadata with { GrantTypes = grants, ResponseTypes = responses }, Registrant.Administrator(""), ct);
        if (result.Succeeded) LogLegacyGrant(logger, clientId, grantType, enabled);
        return result;
    }

    /// <summary>
    /// Deletes the client after revoking every token and authorization it holds; the resource server refuses its
    /// access tokens within a second (the validated-token cache lifetime). The result carries the deleted client.
    /// </summary>
    public async Task<ClientResult> DeleteAsync(string clientId, CancellationToken ct = default)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        if (application is null) return ClientResult.Failed(ClientError.NotFound(clientId));
        var client = await ReadAsync(application, ct);
        var revoked = await RevokeAllAsync(application, ct);
        await applications.DeleteAsync(application, ct);
        LogDeleted(logger, clientId, revoked);
        return new ClientResult(client, null);
    }

    private async Task<long> RevokeAllAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken ct)
    {
        var id = await applications.GetIdAsync(application, ct);
        await authorizations.RevokeByApplicationIdAsync(id!, ct);
        return await tokens.RevokeByApplicationIdAsync(id!, ct);
    }

    private async Task<ClientResult> ChangeAsync(string clientId, Action<OpenIddictApplicationDescriptor> change, CancellationToken ct)
    {
        var application = await applications.FindByClientIdAsync(clientId, ct);
        if (application is null) return ClientResult.Failed(ClientError.NotFound(clientId));
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application, ct);
        change(descriptor);
        var failure = await SaveAsync(application, descriptor, replaceSecret: false, null, ct);
        return failure is null ? new ClientResult(await ReadAsync(application, ct), null) : ClientResult.Failed(failure);
    }

    private async Task<ClientError?> SaveAsync(OpenIddictEntityFrameworkCoreApplication application, OpenIddictApplicationDescriptor descriptor,
        bool replaceSecret, string? secretHash, CancellationToken ct)
    {
        try
        {
            await applications.UpdateAsync(application, descriptor, replaceSecret, secretHash, ct);
            return null;
        }
        catch (OpenIddictExceptions.ValidationException e)
        {
            return ClientError.InvalidMetadata(string.Join(" ", e.Results.Select(r => r.ErrorMessage)));
        }
        catch (OpenIddictExceptions.ConcurrencyException)
        {
            return ClientError.InvalidRequest("The client was changed by another request at the same time; read it again and retry.");
        }
    }

    /// <summary>Writes the metadata onto the descriptor: OpenIddict's columns and permissions, and <see cref="ClientProperties"/>.</summary>
    private static void Describe(ClientMetadata m, OpenIddictApplicationDescriptor d)
    {
        var grants = m.GrantTypes!;
        var isPublic = m.TokenEndpointAuthMethod == ClientMetadataValidator.AuthNone;
        var interactive = grants.Contains(GrantTypes.AuthorizationCode) || grants.Contains(GrantTypes.Implicit);
        d.DisplayName = m.ClientName;
        d.ClientType = isPublic ? ClientTypes.Public : ClientTypes.Confidential;
        d.ApplicationType = m.ApplicationType;
        d.ConsentType = ConsentTypes.Explicit;
        d.RedirectUris.Clear();
        foreach (var uri in m.RedirectUris) d.RedirectUris.Add(new Uri(uri));
        d.PostLogoutRedirectUris.Clear();
        foreach (var uri in m.PostLogoutRedirectUris) d.PostLogoutRedirectUris.Add(new Uri(uri));

        // Permissions the metadata governs are rebuilt; others (introspection, set by an administrator) stay.
        d.Permissions.RemoveWhere(p => p.StartsWith(Permissions.Prefixes.GrantType, StringComparison.Ordinal)
            || p.StartsWith(Permissions.Prefixes.ResponseType, StringComparison.Ordinal)
            || p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal)
            || p is Permissions.Endpoints.Authorization or Permissions.Endpoints.Token or Permissions.Endpoints.Revocation or Permissions.Endpoints.EndSession);
        if (grants.Any(g => g != GrantTypes.Implicit)) d.Permissions.Add(Permissions.Endpoints.Token);
        d.Permissions.Add(Permissions.Endpoints.Revocation);
        if (interactive)
        {
            d.Permissions.Add(Permissions.Endpoints.Authorization);
            d.Permissions.Add(Permissions.Endpoints.EndSession);
        }
        foreach (var grant in grants) d.Permissions.Add(Permissions.Prefixes.GrantType + grant);
        foreach (var response in m.ResponseTypes!) d.Permissions.Add(Permissions.Prefixes.ResponseType + response);
        foreach (var scope in (m.Scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)) d.Permissions.Add(Permissions.Prefixes.Scope + scope);
        d.Requirements.Clear();
        if (isPublic && grants.Contains(GrantTypes.AuthorizationCode)) d.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange);

        d.JsonWebKeySet = m.Jwks is null ? null : JsonWebKeySet.Create(m.Jwks.ToJsonString());
        SetProperty(d, ClientProperties.TokenEndpointAuthMethod, m.TokenEndpointAuthMethod);
        SetProperty(d, ClientProperties.JwksUri, m.JwksUri);
        SetProperty(d, ClientProperties.LogoUri, m.LogoUri);
        SetProperty(d, ClientProperties.LaunchUri, m.LaunchUri);
        SetProperty(d, ClientProperties.ClientUri, m.ClientUri);
        SetProperty(d, ClientProperties.PolicyUri, m.PolicyUri);
        SetProperty(d, ClientProperties.TosUri, m.TosUri);
        SetProperty(d, ClientProperties.SoftwareId, m.SoftwareId);
        SetProperty(d, ClientProperties.SoftwareVersion, m.SoftwareVersion);
        SetProperty(d, ClientProperties.Contacts, m.Contacts.Count == 0 ? null : m.Contacts);
        Mtls.MtlsClientMetadata.Describe(m, d);
    }

    private async Task<RegisteredClient> ReadAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken ct)
    {
        var permissions = await applications.GetPermissionsAsync(application, ct);
        var p = await applications.GetPropertiesAsync(application, ct);
        string? Str(string name) => p.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
        long? Num(string name) => p.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.Number && v.TryGetInt64(out var n) ? n : null;
        bool Flag(string name) => p.TryGetValue(name, out var v) && v.ValueKind == JsonValueKind.True;
        IEnumerable<string> WithPrefix(string prefix) =>
            permissions.Where(x => x.StartsWith(prefix, StringComparison.Ordinal)).Select(x => x[prefix.Length..]);

        var isPublic = await applications.HasClientTypeAsync(application, ClientTypes.Public, ct);
        var hasSecret = !isPublic && !string.IsNullOrEmpty(application.ClientSecret);
        var jwks = string.IsNullOrEmpty(application.JsonWebKeySet) ? null : PublicKeySet(application.JsonWebKeySet);
        // Clients made before the registry (the demo clients) have no recorded method: infer it.
        var method = Str(ClientProperties.TokenEndpointAuthMethod)
            ?? (isPublic ? ClientMetadataValidator.AuthNone : hasSecret ? ClientMetadataValidator.AuthSecretBasic : ClientMetadataValidator.AuthPrivateKeyJwt);
        var grants = WithPrefix(Permissions.Prefixes.GrantType).ToList();
        var scopes = WithPrefix(Permissions.Prefixes.Scope).ToList();
        var metadata = new ClientMetadata
        {
            ClientName = await applications.GetDisplayNameAsync(application, ct),
            RedirectUris = [.. await applications.GetRedirectUrisAsync(application, ct)],
            PostLogoutRedirectUris = [.. await applications.GetPostLogoutRedirectUrisAsync(application, ct)],
            GrantTypes = grants,
            ResponseTypes = [.. WithPrefix(Permissions.Prefixes.ResponseType)],
            TokenEndpointAuthMethod = method,
            Scope = scopes.Count == 0 ? null : string.Join(' ', scopes),
            Jwks = jwks,
            JwksUri = Str(ClientProperties.JwksUri),
            ApplicationType = await applications.GetApplicationTypeAsync(application, ct),
            LogoUri = Str(ClientProperties.LogoUri),
            ClientUri = Str(ClientProperties.ClientUri),
            PolicyUri = Str(ClientProperties.PolicyUri),
            TosUri = Str(ClientProperties.TosUri),
            LaunchUri = Str(ClientProperties.LaunchUri),
            Contacts = p.TryGetValue(ClientProperties.Contacts, out var contacts) && contacts.ValueKind == JsonValueKind.Array
                ? [.. contacts.EnumerateArray().Where(c => c.ValueKind == JsonValueKind.String).Select(c => c.GetString()!)]
                : [],
            SoftwareId = Str(ClientProperties.SoftwareId),
            SoftwareVersion = Str(ClientProperties.SoftwareVersion),
        };
        metadata = Mtls.MtlsClientMetadata.Read(metadata, p);
        var status = Flag(ClientProperties.Disabled) ? ClientStatus.Disabled
            : Flag(ClientProperties.PendingApproval) ? ClientStatus.PendingApproval
            : ClientStatus.Active;
        var legacy = new HashSet<LegacyGrant>();
        if (grants.Contains(GrantTypes.Password)) legacy.Add(LegacyGrant.Password);
        if (grants.Contains(GrantTypes.Implicit)) legacy.Add(LegacyGrant.Implicit);
        return new RegisteredClient(
            (await applications.GetClientIdAsync(application, ct))!,
            metadata,
            DateTimeOffset.FromUnixTimeSeconds(Num(ClientProperties.IssuedAt) ?? 0),
            Num(ClientProperties.ClientSecretExpiresAt) is { } expires ? DateTimeOffset.FromUnixTimeSeconds(expires) : null,
            hasSecret,
            status,
            Str(ClientProperties.Owner),
            legacy);
    }

    /// <summary>
    /// The stored key set as the client registered it: OpenIddict stores Microsoft's JsonWebKeySet, which writes every
    /// member it knows, empty ones included ("key_ops": [], "oth": []).
    /// </summary>
    private static JsonObject? PublicKeySet(string stored)
    {
        if (JsonNode.Parse(stored) is not JsonObject set) return null;
        foreach (var key in set["keys"] as JsonArray ?? [])
        {
            if (key is not JsonObject o) continue;
            foreach (var name in o.Where(p => p.Value is null || p.Value is JsonArray { Count: 0 }).Select(p => p.Key).ToList()) o.Remove(name);
        }
        foreach (var name in set.Where(p => p.Key != "keys").Select(p => p.Key).ToList()) set.Remove(name);
        return set;
    }

    private ValidationContext Context(IReadOnlySet<string> legacy)
    {
        var methods = server.CurrentValue.ClientAuthenticationMethods.Append(ClientMetadataValidator.AuthNone).ToHashSet(StringComparer.Ordinal);
        return new ValidationContext(legacy, options.CurrentValue.ExtraScopes, methods);
    }

    private HashSet<string> ServerLegacyGrants() =>
        ClientMetadataValidator.LegacyGrantTypes.Where(server.CurrentValue.GrantTypes.Contains).ToHashSet(StringComparer.Ordinal);

    private static string GrantType(LegacyGrant grant) => grant == LegacyGrant.Password ? GrantTypes.Password : GrantTypes.Implicit;

    /// <summary>Scopes that reach past one user's record: system/ scopes and the extra scopes (scim).</summary>
    private List<string> Privileged(string? scope) =>
        [.. (scope ?? "").Split(' ', StringSplitOptions.RemoveEmptyEntries)
            .Where(s => SmartScopes.IsSystem(s) || options.CurrentValue.ExtraScopes.Contains(s, StringComparer.Ordinal))];

    private bool MustHold(Registrant registrant, IReadOnlyCollection<string> privilegedScopes, bool isNew) => registrant.Kind switch
    {
        RegistrantKind.Administrator => false,
        RegistrantKind.InitialAccessToken => isNew && options.CurrentValue.Registration.RequireApproval,
        _ => (isNew && options.CurrentValue.Registration.RequireApproval) || privilegedScopes.Count > 0,
    };

    private void SetSecretExpiry(OpenIddictApplicationDescriptor d)
    {
        if (options.CurrentValue.Registration.ClientSecretLifetime is { } lifetime)
            SetProperty(d, ClientProperties.ClientSecretExpiresAt, (clock.GetUtcNow() + lifetime).ToUnixTimeSeconds());
        else
            d.Properties.Remove(ClientProperties.ClientSecretExpiresAt);
    }

    private static void ClearSecretProperties(OpenIddictApplicationDescriptor d)
    {
        d.Properties.Remove(ClientProperties.ClientSecretExpiresAt);
        d.Properties.Remove(ClientProperties.PreviousClientSecret);
        d.Properties.Remove(ClientProperties.PreviousClientSecretExpiresAt);
    }

    private static void SetProperty<T>(OpenIddictApplicationDescriptor d, string name, T? value)
    {
        if (value is null) d.Properties.Remove(name);
        else d.Properties[name] = JsonSerializer.SerializeToElement(value);
    }

    /// <summary>A random URL-safe token of <paramref name="bytes"/> bytes of entropy.</summary>
    public static string NewToken(int bytes) => Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(bytes));

    /// <summary>How registration access tokens are stored: SHA-256, base64url (they carry 256 bits of entropy).</summary>
    public static string HashToken(string token) => Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(token)));

    [LoggerMessage(EventId = 3400, Level = LogLevel.Information, Message = "Client {ClientId} registered by {Registrant} ({Status})")]
    private static partial void LogRegistered(ILogger logger, string clientId, RegistrantKind registrant, ClientStatus status);

    [LoggerMessage(EventId = 3401, Level = LogLevel.Information, Message = "Client {ClientId} updated by {Registrant}")]
    private static partial void LogUpdated(ILogger logger, string clientId, RegistrantKind registrant);

    [LoggerMessage(EventId = 3402, Level = LogLevel.Information, Message = "Client {ClientId}: secret rotated, the previous one works for {Grace}")]
    private static partial void LogSecretRotated(ILogger logger, string clientId, TimeSpan grace);

    [LoggerMessage(EventId = 3403, Level = LogLevel.Information, Message = "Client {ClientId} approved")]
    private static partial void LogApproved(ILogger logger, string clientId);

    [LoggerMessage(EventId = 3404, Level = LogLevel.Information, Message = "Client {ClientId} disabled ({Count} tokens revoked)")]
    private static partial void LogDisabled(ILogger logger, string clientId, long count);

    [LoggerMessage(EventId = 3405, Level = LogLevel.Information, Message = "Client {ClientId} deleted ({Count} tokens revoked)")]
    private static partial void LogDeleted(ILogger logger, string clientId, long count);

    [LoggerMessage(EventId = 3406, Level = LogLevel.Information, Message = "Client {ClientId}: legacy grant {GrantType} enabled = {Enabled}")]
    private static partial void LogLegacyGrant(ILogger logger, string clientId, string grantType, bool enabled);
}
