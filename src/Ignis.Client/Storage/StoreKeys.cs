using System.Runtime.Versioning;
using System.Security.Cryptography;

namespace Ignis.Client.Storage;

/// <summary>Supplies the 256-bit key that encrypts the token files, kept where the OS protects it.</summary>
public interface IStoreKeyProvider
{
    /// <summary>Where the key is kept, in words, e.g. "libsecret (Secret Service)".</summary>
    string Description { get; }

    /// <summary>Returns the key, creating and saving a random one the first time.</summary>
    /// <exception cref="TokenStoreException">The key exists but cannot be read.</exception>
    byte[] GetOrCreateKey();
}

/// <summary>Chooses the key protection for the current OS.</summary>
public static class StoreKeys
{
    /// <summary>The name of the key file in the store folder.</summary>
    public const string KeyFileName = "store.key";

    /// <summary>
    /// Windows: a key file encrypted with DPAPI for the current user. Linux: a key file with mode 0600 when one
    /// exists already, else the Secret Service through libsecret when a session bus and a keyring answer, else a new
    /// 0600 key file. macOS and others: the 0600 key file (the Keychain is not used).
    /// </summary>
    public static IStoreKeyProvider Default(string storeDirectory)
    {
        var keyFile = Path.Combine(storeDirectory, KeyFileName);
        if (OperatingSystem.IsWindows()) return new DpapiKeyProvider(keyFile);
        if (OperatingSystem.IsLinux() && !File.Exists(keyFile) && LibSecretKeyProvider.IsAvailable())
            return new LibSecretKeyProvider(Path.GetFullPath(storeDirectory));
        return new KeyFileKeyProvider(keyFile);
    }

    internal static void WriteNew(string path, byte[] content)
    {
        var directory = Path.GetDirectoryName(Path.GetFullPath(path))!;
        if (OperatingSystem.IsWindows()) Directory.CreateDirectory(directory);
        else Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using var stream = new FileStream(path, options);
        stream.Write(content);
        stream.Flush(flushToDisk: true);
    }
}

/// <summary>
/// The key in a file only its owner can read (mode 0600 in a 0700 folder). It protects the tokens from other OS
/// users and from copies of the token files alone, not from programs running as the same user.
/// </summary>
public sealed class KeyFileKeyProvider(string path) : IStoreKeyProvider
{
    /// <summary>The key file.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <inheritdoc />
    public string Description => $"the key file {Path} (readable by its owner only)";

    /// <inheritdoc />
    public byte[] GetOrCreateKey()
    {
        for (var attempt = 0; ; attempt++)
        {
            if (File.Exists(Path)) return Read();
            try
            {
                StoreKeys.WriteNew(Path, RandomNumberGenerator.GetBytes(32));
            }
            catch (IOException) when (File.Exists(Path) && attempt == 0)
            {
                // Another process made it first: use theirs.
            }
        }
    }

    private byte[] Read()
    {
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(Path);
            if ((mode & (UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.OtherRead | UnixFileMode.OtherWrite)) != 0)
                throw new TokenStoreException($"{Path} can be read by other users; run 'chmod 600 {Path}' (and sign in again if someone may have copied it).");
        }
        var key = File.ReadAllBytes(Path);
        if (key.Length != 32) throw new TokenStoreException($"{Path} is not a token store key (expected 32 bytes); delete it and sign in again.");
        return key;
    }
}

/// <summary>Windows: the key file's content encrypted with DPAPI for the current user (<c>CurrentUser</c> scope).</summary>
[SupportedOSPlatform("windows")]
public sealed class DpapiKeyProvider(string path) : IStoreKeyProvider
{
    private static readonly byte[] Entropy = "Ignis.Client token store"u8.ToArray();

    /// <summary>The DPAPI-protected key file.</summary>
    public string Path { get; } = System.IO.Path.GetFullPath(path);

    /// <inheritdoc />
    public string Description => $"DPAPI (current user), in {Path}";

    /// <inheritdoc />
    public byte[] GetOrCreateKey()
    {
        if (!File.Exists(Path))
        {
            var fresh = RandomNumberGenerator.GetBytes(32);
            try
            {
                StoreKeys.WriteNew(Path, ProtectedData.Protect(fresh, Entropy, DataProtectionScope.CurrentUser));
                return fresh;
            }
            catch (IOException) when (File.Exists(Path)) { }
        }
        try
        {
            return ProtectedData.Unprotect(File.ReadAllBytes(Path), Entropy, DataProtectionScope.CurrentUser);
        }
        catch (CryptographicException e)
        {
            throw new TokenStoreException($"{Path} cannot be decrypted by this Windows user; delete it and sign in again.", e);
        }
    }
}
