using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace Ignis.Server.Auth;

/// <summary>
/// OpenIddict's token manager, with the hash of reference ids (codes and refresh tokens are stored under the SHA-256
/// of the id the client holds) computed directly. OpenIddict's default first asks <c>CryptoConfig</c> for an
/// application-registered "OpenIddict SHA-256 Cryptographic Provider" on every hash: a failed type lookup by name
/// (parsing the name, walking the caller's stack) that cost more than the hash, twice per code exchange or refresh
/// (docs/benchmarks.md, "Issue 3"). No such provider is registered here, so the result is the one OpenIddict stores:
/// base64 of SHA-256 over the UTF-8 id.
/// </summary>
public sealed class IgnisTokenManager(
    IOpenIddictTokenCache<OpenIddictEntityFrameworkCoreToken> cache,
    ILogger<OpenIddictTokenManager<OpenIddictEntityFrameworkCoreToken>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictTokenStore<OpenIddictEntityFrameworkCoreToken> store)
    : OpenIddictTokenManager<OpenIddictEntityFrameworkCoreToken>(cache, logger, options, store)
{
    protected override ValueTask<string> ObfuscateReferenceIdAsync(string identifier, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        return new(Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(identifier))));
    }
}
