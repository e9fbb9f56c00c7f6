using System.Runtime.InteropServices;
using System.Runtime.Versioning;
using System.Security.Cryptography;

namespace Ignis.Client.Storage;

/// <summary>
/// Linux: the key in the user's keyring through libsecret (the freedesktop Secret Service, e.g. GNOME Keyring or
/// KWallet), stored under the schema <c>org.ignis.TokenStore</c> with the attribute <c>store</c> = the store folder.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LibSecretKeyProvider(string storeId) : IStoreKeyProvider
{
    private const string SchemaName = "org.ignis.TokenStore";

    /// <inheritdoc />
    public string Description => $"libsecret (Secret Service), item '{SchemaName}' store={storeId}";

    /// <summary>
    /// True when libsecret is installed, a D-Bus session bus is set (without one libsecret would try to start one)
    /// and a keyring answers a lookup.
    /// </summary>
    public static bool IsAvailable()
    {
        if (!OperatingSystem.IsLinux() || string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS"))) return false;
        try
        {
            Native.Lookup("ignis-availability-probe", out var error);
            return error is null;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or BadImageFormatException)
        {
            return false;
        }
    }

    /// <inheritdoc />
    public byte[] GetOrCreateKey()
    {
        var existing = Native.Lookup(storeId, out var error);
        if (error is not null) throw new TokenStoreException($"The keyring could not be read through libsecret: {error}");
        if (existing is not null)
        {
            try
            {
                var key = Convert.FromBase64String(existing);
                if (key.Length == 32) return key;
            }
            catch (FormatException) { }
            throw new TokenStoreException($"The keyring item '{SchemaName}' store={storeId} is not a token store key; delete it and sign in again.");
        }
        var fresh = RandomNumberGenerator.GetBytes(32);
        if (!Native.Store(storeId, "Ignis token store key", Convert.ToBase64String(fresh), out error))
            throw new TokenStoreException($"The keyring could not be written through libsecret: {error}");
        return fresh;
    }

    /// <summary>Removes the key from the keyring (the token files become unreadable).</summary>
    public void Delete() => Native.Clear(storeId, out _);

    /// <summary>
    /// The non-variadic libsecret calls (<c>secret_password_lookupv_sync</c>, <c>storev</c>, <c>clearv</c>) with a
    /// GHashTable of attributes and a SecretSchema built in unmanaged memory.
    /// </summary>
    private static class Native
    {
        private const string LibSecret = "libsecret-1.so.0";
        private const string GLib = "libglib-2.0.so.0";

        [DllImport(LibSecret)] private static extern IntPtr secret_password_lookupv_sync(IntPtr schema, IntPtr attributes, IntPtr cancellable, out IntPtr error);
        [DllImport(LibSecret)] private static extern int secret_password_storev_sync(IntPtr schema, IntPtr attributes, IntPtr collection, IntPtr label, IntPtr password, IntPtr cancellable, out IntPtr error);
        [DllImport(LibSecret)] private static extern int secret_password_clearv_sync(IntPtr schema, IntPtr attributes, IntPtr cancellable, out IntPtr error);
        [DllImport(LibSecret)] private static extern void secret_password_free(IntPtr password);
        [DllImport(GLib)] private static extern IntPtr g_hash_table_new(IntPtr hash, IntPtr equal);
        [DllImport(GLib)] private static extern int g_hash_table_insert(IntPtr table, IntPtr key, IntPtr value);
        [DllImport(GLib)] private static extern void g_hash_table_unref(IntPtr table);
        [DllImport(GLib)] private static extern void g_error_free(IntPtr error);

        // struct SecretSchema { const gchar *name; SecretSchemaFlags flags; SecretSchemaAttribute attributes[32];
        //                       gint reserved; gpointer reserved1..7; }, SecretSchemaAttribute { const gchar *name; int type; }
        private const int SchemaSize = 8 + 8 + 32 * 16 + 8 + 7 * 8;

        public static string? Lookup(string store, out string? error)
        {
            using var call = new Call(store);
            var result = secret_password_lookupv_sync(call.Schema, call.Attributes, IntPtr.Zero, out var e);
            error = TakeError(e);
            if (result == IntPtr.Zero) return null;
            try { return Marshal.PtrToStringUTF8(result); }
            finally { secret_password_free(result); }
        }

        public static bool Store(string store, string label, string password, out string? error)
        {
            using var call = new Call(store);
            var l = call.Utf8(label);
            var p = call.Utf8(password);
            var ok = secret_password_storev_sync(call.Schema, call.Attributes, IntPtr.Zero, l, p, IntPtr.Zero, out var e) != 0;
            error = TakeError(e);
            return ok && error is null;
        }

        public static void Clear(string store, out string? error)
        {
            using var call = new Call(store);
            secret_password_clearv_sync(call.Schema, call.Attributes, IntPtr.Zero, out var e);
            error = TakeError(e);
        }

        private static string? TakeError(IntPtr error)
        {
            if (error == IntPtr.Zero) return null;
            // struct GError { GQuark domain; gint code; gchar *message; }
            var message = Marshal.PtrToStringUTF8(Marshal.ReadIntPtr(error, 8));
            g_error_free(error);
            return message ?? "unknown error";
        }

        /// <summary>The unmanaged memory of one call: the schema, the attribute table and the strings they point to.</summary>
        private sealed class Call : IDisposable
        {
            private readonly List<IntPtr> _strings = [];

            public Call(string store)
            {
                Schema = Marshal.AllocHGlobal(SchemaSize);
                for (var i = 0; i < SchemaSize; i += 8) Marshal.WriteInt64(Schema, i, 0);
                Marshal.WriteIntPtr(Schema, 0, Utf8(SchemaName));
                Marshal.WriteIntPtr(Schema, 16, Utf8("store")); // attributes[0].name; .type = SECRET_SCHEMA_ATTRIBUTE_STRING (0)
                var glib = NativeLibrary.Load(GLib);
                Attributes = g_hash_table_new(NativeLibrary.GetExport(glib, "g_str_hash"), NativeLibrary.GetExport(glib, "g_str_equal"));
                g_hash_table_insert(Attributes, Utf8("store"), Utf8(store));
            }

            public IntPtr Schema { get; }
            public IntPtr Attributes { get; }

            public IntPtr Utf8(string s)
            {
                var p = Marshal.StringToCoTaskMemUTF8(s);
                _strings.Add(p);
                return p;
            }

            public void Dispose()
            {
                g_hash_table_unref(Attributes);
                Marshal.FreeHGlobal(Schema);
                foreach (var p in _strings) Marshal.ZeroFreeCoTaskMemUTF8(p);
            }
        }
    }
}
