namespace Ignis.Client.Storage;

/// <summary>
/// Who the tokens belong to: the FHIR server and the person signed in to it. Several people sharing one OS account
/// (a family tablet, a ward PC) each get their own entry, and never see each other's tokens.
/// </summary>
/// <param name="FhirBaseUrl">The FHIR base URL (normalised: no trailing slash).</param>
/// <param name="User">The app's name for the person: a profile name, or the <c>sub</c> of their id token.</param>
public sealed record TokenStoreKey(string FhirBaseUrl, string User)
{
    /// <summary>Creates a key, normalising the FHIR base URL.</summary>
    public static TokenStoreKey For(string fhirBaseUrl, string user)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(user);
        return new TokenStoreKey(SmartConfiguration.NormalizeBase(fhirBaseUrl), user);
    }
}

/// <summary>
/// Keeps signed-in sessions between runs of the app. Implementations must make <see cref="SaveAsync"/> atomic: after
/// a crash at any point the store holds either the previous or the new tokens of a key, never neither (a rotated
/// refresh token is the only way back in without the user).
/// </summary>
public interface ITokenStore
{
    /// <summary>The saved tokens of <paramref name="key"/>, or null when there are none.</summary>
    /// <exception cref="TokenStoreException">The entry exists but cannot be read (wrong key, tampered, corrupt).</exception>
    Task<SmartTokens?> LoadAsync(TokenStoreKey key, CancellationToken cancellationToken = default);

    /// <summary>Saves (replaces) the tokens of <paramref name="key"/>; returns once they are durably stored.</summary>
    Task SaveAsync(TokenStoreKey key, SmartTokens tokens, CancellationToken cancellationToken = default);

    /// <summary>Deletes the tokens of <paramref name="key"/>; no error when there are none.</summary>
    Task DeleteAsync(TokenStoreKey key, CancellationToken cancellationToken = default);

    /// <summary>The keys that have saved tokens (entries that cannot be read are left out).</summary>
    Task<IReadOnlyList<TokenStoreKey>> ListAsync(CancellationToken cancellationToken = default);
}

/// <summary>A store that keeps tokens in memory only: for apps that must not persist them, and for tests.</summary>
public sealed class InMemoryTokenStore : ITokenStore
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<TokenStoreKey, SmartTokens> _entries = new();

    /// <inheritdoc />
    public Task<SmartTokens?> LoadAsync(TokenStoreKey key, CancellationToken cancellationToken = default) =>
        Task.FromResult(_entries.TryGetValue(key, out var tokens) ? tokens : null);

    /// <inheritdoc />
    public Task SaveAsync(TokenStoreKey key, SmartTokens tokens, CancellationToken cancellationToken = default)
    {
        _entries[key] = tokens;
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task DeleteAsync(TokenStoreKey key, CancellationToken cancellationToken = default)
    {
        _entries.TryRemove(key, out _);
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public Task<IReadOnlyList<TokenStoreKey>> ListAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<TokenStoreKey>>([.. _entries.Keys]);
}
