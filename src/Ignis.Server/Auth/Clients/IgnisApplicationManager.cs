using System.Runtime.CompilerServices;
using System.Text.Json;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.Clients;

/// <summary>
/// OpenIddict's application manager with the client rules OpenIddict has no setting for: a rotated-out secret
/// keeps working until its grace period ends, a secret stops working when it expires, and a confidential client
/// may authenticate with keys published at its jwks_uri instead of a secret or inline keys.
/// </summary>
public sealed class IgnisApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    TimeProvider clock)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    public override async ValueTask<bool> ValidateClientSecretAsync(OpenIddictEntityFrameworkCoreApplication application, string secret,
        CancellationToken cancellationToken = default)
    {
        var properties = await GetPropertiesAsync(application, cancellationToken);
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        if (UnixSeconds(properties, ClientProperties.ClientSecretExpiresAt) is not { } expires || expires > now)
        {
            if (await base.ValidateClientSecretAsync(application, secret, cancellationToken)) return true;
        }
        // The secret replaced by the last rotation, during its grace period.
        return properties.TryGetValue(ClientProperties.PreviousClientSecret, out var previous) && previous.ValueKind == JsonValueKind.String
            && UnixSeconds(properties, ClientProperties.PreviousClientSecretExpiresAt) is { } until && until > now
            && await ValidateClientSecretAsync(secret, previous.GetString()!, cancellationToken);
    }

    /// <summary>
    /// OpenIddict requires a confidential client to hold a secret or inline keys; one whose keys live at its
    /// jwks_uri (RFC 7591) holds neither, and is valid too.
    /// </summary>
    public override async IAsyncEnumerable<System.ComponentModel.DataAnnotations.ValidationResult> ValidateAsync(
        OpenIddictEntityFrameworkCoreApplication application, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        var properties = await GetPropertiesAsync(application, cancellationToken);
        // A tls_client_auth client (RFC 8705) holds neither either: its certificate subject is in the properties.
        var keysByUri = string.IsNullOrEmpty(application.ClientSecret) && string.IsNullOrEmpty(application.JsonWebKeySet)
            && string.Equals(application.ClientType, ClientTypes.Confidential, StringComparison.Ordinal)
            && (properties.ContainsKey(ClientProperties.JwksUri) || properties.ContainsKey(Mtls.MtlsClientProperties.SubjectKind));
        await foreach (var result in base.ValidateAsync(application, cancellationToken))
        {
            // The only rule a jwks_uri client breaks: "The client secret cannot be null or empty for a confidential application...".
            if (keysByUri && result.ErrorMessage?.Contains("client secret cannot be null or empty", StringComparison.OrdinalIgnoreCase) == true) continue;
            yield return result;
        }
    }

    /// <summary>Hashes a secret as OpenIddict stores it.</summary>
    public ValueTask<string> HashSecretAsync(string secret, CancellationToken cancellationToken = default) =>
        ObfuscateClientSecretAsync(secret, cancellationToken);

    /// <summary>
    /// Applies <paramref name="descriptor"/> (whose ClientSecret holds the stored hash, as PopulateAsync left it); with
    /// <paramref name="replaceSecret"/>, then sets the stored secret hash to <paramref name="secretHash"/> (null: no secret).
    /// </summary>
    public async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreApplication application, OpenIddictApplicationDescriptor descriptor,
        bool replaceSecret, string? secretHash, CancellationToken cancellationToken = default)
    {
        await PopulateAsync(application, descriptor, cancellationToken);
        if (replaceSecret) await Store.SetClientSecretAsync(application, secretHash, cancellationToken);
        await UpdateAsync(application, cancellationToken);
    }

    private static long? UnixSeconds(IReadOnlyDictionary<string, JsonElement> properties, string name) =>
        properties.TryGetValue(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt64(out var seconds) ? seconds : null;
}
