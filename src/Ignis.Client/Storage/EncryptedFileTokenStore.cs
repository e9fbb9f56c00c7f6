using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace Ignis.Client.Storage;

/// <summary>
/// The default token store: one file per (server, user) in a folder of the OS user's profile, each encrypted with
/// AES-256-GCM under a key the OS protects (<see cref="StoreKeys.Default"/>). The file name is a hash of the key, and
/// the encrypted entry names its (server, user), so a file copied over another user's entry is refused. Writes go to a temporary file that is flushed to disk and then renamed over the old one, so a crash
/// leaves either the old or the new tokens.
/// </summary>
public sealed class EncryptedFileTokenStore : ITokenStore
{
    private static readonly byte[] Magic = "IGT1"u8.ToArray();
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private const string Extension = ".token";

    private readonly IStoreKeyProvider _keys;
    private readonly Lazy<byte[]> _key;
    private readonly SemaphoreSlim _write = new(1, 1);

    /// <summary>A store in <paramref name="directory"/> whose files are encrypted with the key <paramref name="keys"/> provides.</summary>
    public EncryptedFileTokenStore(string directory, IStoreKeyProvider keys)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory = Path.GetFullPath(directory);
        _keys = keys ?? throw new ArgumentNullException(nameof(keys));
        _key = new Lazy<byte[]>(() =>
        {
            var key = _keys.GetOrCreateKey();
            if (key.Length != 32) throw new TokenStoreException($"The token store key from {_keys.Description} is not 256 bits.");
            return key;
        }, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    /// <summary>
    /// The store of the current OS user in its default folder (<see cref="DefaultDirectory"/>) with the OS's key
    /// protection (<see cref="StoreKeys.Default"/>).
    /// </summary>
    public static EncryptedFileTokenStore CreateDefault(string? directory = null)
    {
        var dir = directory ?? DefaultDirectory;
        return new EncryptedFileTokenStore(dir, StoreKeys.Default(dir));
    }

    /// <summary>
    /// <c>Ignis/tokens</c> under the user's local application data: <c>%LOCALAPPDATA%</c> on Windows,
    /// <c>~/Library/Application Support</c> on macOS, <c>$XDG_DATA_HOME</c> or <c>~/.local/share</c> on Linux.
    /// </summary>
    public static string DefaultDirectory =>
        Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "Ignis", "tokens");

    /// <summary>The folder the token files are in.</summary>
    public string Directory { get; }

    /// <summary>Where the encryption key is kept, in words (for diagnostics and docs).</summary>
    public string KeyDescription => _keys.Description;

    /// <summary>The file that holds the tokens of <paramref name="key"/> (whether or not it exists).</summary>
    public string PathOf(TokenStoreKey key) =>
        Path.Combine(Directory, Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key.FhirBaseUrl + "\n" + key.User)))[..40] + Extension);

    /// <inheritdoc />
    public async Task<SmartTokens?> LoadAsync(TokenStoreKey key, CancellationToken cancellationToken = default)
    {
        byte[] data;
        try
        {
            data = await File.ReadAllBytesAsync(PathOf(key), cancellationToken).ConfigureAwait(false);
        }
        catch (FileNotFoundException) { return null; }
        catch (DirectoryNotFoundException) { return null; }
        var tokens = Decrypt(data, key);
        return tokens;
    }

    /// <inheritdoc />
    public async Task SaveAsync(TokenStoreKey key, SmartTokens tokens, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        var data = Encrypt(JsonSerializer.SerializeToUtf8Bytes(new Entry(key.FhirBaseUrl, key.User, tokens), EntryJson.Default.Entry), key);
        EnsureDirectory();
        var path = PathOf(key);
        var temp = path + "." + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)) + ".tmp";
        await _write.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
            if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            await using (var stream = new FileStream(temp, options))
            {
                await stream.WriteAsync(data, cancellationToken).ConfigureAwait(false);
                stream.Flush(flushToDisk: true);
            }
            BeforeReplace?.Invoke(temp);
            // rename(2) replaces the old file atomically: readers see the old or the new tokens, never a mix or nothing.
            File.Move(temp, path, overwrite: true);
            FlushDirectory();
        }
        catch
        {
            try { File.Delete(temp); } catch (IOException) { } catch (UnauthorizedAccessException) { }
            throw;
        }
        finally
        {
            _write.Release();
        }
    }

    /// <summary>Test hook: runs after the new file is on disk and before it replaces the old one (a crash point).</summary>
    internal Action<string>? BeforeReplace { get; set; }

    /// <inheritdoc />
    public Task DeleteAsync(TokenStoreKey key, CancellationToken cancellationToken = default)
    {
        try { File.Delete(PathOf(key)); }
        catch (DirectoryNotFoundException) { }
        return Task.CompletedTask;
    }

    /// <inheritdoc />
    public async Task<IReadOnlyList<TokenStoreKey>> ListAsync(CancellationToken cancellationToken = default)
    {
        if (!System.IO.Directory.Exists(Directory)) return [];
        var keys = new List<TokenStoreKey>();
        foreach (var file in System.IO.Directory.EnumerateFiles(Directory, "*" + Extension))
        {
            try
            {
                var data = await File.ReadAllBytesAsync(file, cancellationToken).ConfigureAwait(false);
                var entry = DecryptEntry(data, expected: null);
                var key = new TokenStoreKey(entry.Server, entry.User);
                if (PathOf(key) == file) keys.Add(key);
            }
            catch (Exception e) when (e is TokenStoreException or IOException or UnauthorizedAccessException) { }
        }
        return keys;
    }

    private byte[] Encrypt(byte[] plaintext, TokenStoreKey key)
    {
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[TagSize];
        using (var aes = new AesGcm(_key.Value, TagSize))
            aes.Encrypt(nonce, plaintext, ciphertext, tag, AssociatedData);
        CryptographicOperations.ZeroMemory(plaintext);
        return [.. Magic, .. nonce, .. tag, .. ciphertext];
    }

    private SmartTokens Decrypt(byte[] data, TokenStoreKey key)
    {
        var entry = DecryptEntry(data, key);
        // The entry names the (server, user) it was written for: a file copied over another user's entry is refused.
        if (entry.Server != key.FhirBaseUrl || entry.User != key.User)
            throw new TokenStoreException($"The token file for {key.User} at {key.FhirBaseUrl} holds another user's tokens; it was moved or altered. Sign in again.");
        return entry.Tokens;
    }

    private Entry DecryptEntry(byte[] data, TokenStoreKey? expected)
    {
        var what = expected is null ? "A token file" : $"The saved tokens for {expected.User} at {expected.FhirBaseUrl}";
        if (data.Length < Magic.Length + NonceSize + TagSize || !data.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new TokenStoreException($"{what} are not in the Ignis token store format.");
        var nonce = data.AsSpan(Magic.Length, NonceSize);
        var tag = data.AsSpan(Magic.Length + NonceSize, TagSize);
        var ciphertext = data.AsSpan(Magic.Length + NonceSize + TagSize);
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using (var aes = new AesGcm(_key.Value, TagSize))
                aes.Decrypt(nonce, ciphertext, tag, plaintext, AssociatedData);
            return JsonSerializer.Deserialize(plaintext, EntryJson.Default.Entry) ?? throw new TokenStoreException($"{what} are empty.");
        }
        catch (AuthenticationTagMismatchException e)
        {
            throw new TokenStoreException(
                $"{what} cannot be decrypted with the key from {_keys.Description}: the key changed or the file was altered. Sign in again.", e);
        }
        catch (JsonException e)
        {
            throw new TokenStoreException($"{what} hold no tokens.", e);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }
    }

    private static readonly byte[] AssociatedData = "ignis-token-store/1"u8.ToArray();

    private void EnsureDirectory()
    {
        if (System.IO.Directory.Exists(Directory)) return;
        if (OperatingSystem.IsWindows()) System.IO.Directory.CreateDirectory(Directory);
        else System.IO.Directory.CreateDirectory(Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
    }

    /// <summary>fsync the folder so the rename itself survives a power cut (POSIX); Windows has no equivalent and needs none for NTFS renames.</summary>
    private void FlushDirectory()
    {
        if (OperatingSystem.IsWindows()) return;
        try
        {
            using var handle = File.OpenHandle(Directory, FileMode.Open, FileAccess.Read);
            RandomAccess.FlushToDisk(handle);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    internal sealed record Entry(string Server, string User, SmartTokens Tokens);
}

[System.Text.Json.Serialization.JsonSerializable(typeof(EncryptedFileTokenStore.Entry))]
internal sealed partial class EntryJson : System.Text.Json.Serialization.JsonSerializerContext;
