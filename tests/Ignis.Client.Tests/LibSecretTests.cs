using System.Diagnostics;
using System.Runtime.InteropServices;
using Ignis.Client.Storage;

namespace Ignis.Client.Tests;

[CollectionDefinition(nameof(SessionBusCollection), DisableParallelization = true)]
public sealed class SessionBusCollection;

/// <summary>
/// The Linux keyring path of the default token store, against a real GNOME Keyring on a private D-Bus session bus.
/// Runs alone: it sets DBUS_SESSION_BUS_ADDRESS for the whole process while it runs.
/// </summary>
[Collection(nameof(SessionBusCollection))]
public sealed class LibSecretTests
{
    [Fact]
    public async Task With_a_keyring_on_the_session_bus_the_store_key_lives_in_libsecret_and_not_in_a_file()
    {
        if (!OperatingSystem.IsLinux()) return;
        await using var keyring = await SessionKeyring.StartAsync();
        var directory = Directory.CreateTempSubdirectory("ignis-libsecret-").FullName;
        try
        {
            var provider = StoreKeys.Default(directory);
            provider.ShouldBeOfType<LibSecretKeyProvider>();
            provider.Description.ShouldContain("libsecret");
            var store = new EncryptedFileTokenStore(directory, provider);
            var key = TokenStoreKey.For("https://fhir.example.org/fhir", "alice");
            var tokens = new SmartTokens
            {
                FhirBaseUrl = key.FhirBaseUrl, ClientId = "app", TokenEndpoint = new Uri("https://fhir.example.org/oauth/token"),
                AccessToken = "access-" + Guid.NewGuid(), RefreshToken = "refresh-" + Guid.NewGuid(), Scope = "openid offline_access",
            };

            await store.SaveAsync(key, tokens);

            File.Exists(Path.Combine(directory, StoreKeys.KeyFileName)).ShouldBeFalse();
            var reopened = new EncryptedFileTokenStore(directory, StoreKeys.Default(directory));
            (await reopened.LoadAsync(key))!.RefreshToken.ShouldBe(tokens.RefreshToken);
            // Read back by another libsecret client: the key is the keyring item for this store folder.
            var secret = await keyring.RunAsync("secret-tool", "lookup", "store", Path.GetFullPath(directory));
            Convert.FromBase64String(secret.Trim()).Length.ShouldBe(32);

            // Without the keyring item the saved sessions cannot be read.
            ((LibSecretKeyProvider)provider).Delete();
            var afterDelete = new EncryptedFileTokenStore(directory, StoreKeys.Default(directory));
            await Should.ThrowAsync<TokenStoreException>(() => afterDelete.LoadAsync(key));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void Without_a_session_bus_the_default_store_uses_a_key_file()
    {
        if (!OperatingSystem.IsLinux() || !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS"))) return;
        var directory = Directory.CreateTempSubdirectory("ignis-keyfile-").FullName;
        try
        {
            var provider = StoreKeys.Default(directory);
            provider.ShouldBeOfType<KeyFileKeyProvider>();
            provider.GetOrCreateKey().Length.ShouldBe(32);
            File.GetUnixFileMode(Path.Combine(directory, StoreKeys.KeyFileName)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>A private dbus-daemon and an unlocked gnome-keyring-daemon on it; both stopped (by process id) on dispose.</summary>
    [System.Runtime.Versioning.SupportedOSPlatform("linux")]
    private sealed class SessionKeyring : IAsyncDisposable
    {
        private readonly Process _bus;
        private readonly Process _keyring;
        private readonly string _runtime;
        private readonly string? _previous;

        private SessionKeyring(Process bus, Process keyring, string address, string runtime, string? previous)
        {
            _bus = bus;
            _keyring = keyring;
            Address = address;
            _runtime = runtime;
            _previous = previous;
        }

        public string Address { get; }

        public static async Task<SessionKeyring> StartAsync()
        {
            foreach (var tool in new[] { "/usr/bin/dbus-daemon", "/usr/bin/gnome-keyring-daemon", "/usr/bin/secret-tool" })
                if (!File.Exists(tool))
                    throw new InvalidOperationException($"{tool} is missing: run scripts/test.sh, which installs dbus, gnome-keyring and libsecret-tools.");
            var runtime = Directory.CreateTempSubdirectory("ignis-keyring-").FullName;
            var bus = Process.Start(new ProcessStartInfo("/usr/bin/dbus-daemon", ["--session", "--nofork", "--print-address=1"])
            {
                RedirectStandardOutput = true, RedirectStandardError = true,
            })!;
            var address = (await bus.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10)))!.Trim();
            var start = new ProcessStartInfo("/usr/bin/gnome-keyring-daemon", ["--foreground", "--unlock", "--components=secrets"])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            start.Environment["DBUS_SESSION_BUS_ADDRESS"] = address;
            start.Environment["XDG_RUNTIME_DIR"] = runtime;
            start.Environment["HOME"] = runtime;
            var keyring = Process.Start(start)!;
            await keyring.StandardInput.WriteAsync("keyring-test-password");
            keyring.StandardInput.Close();
            var previous = Environment.GetEnvironmentVariable("DBUS_SESSION_BUS_ADDRESS");
            SetEnvironment("DBUS_SESSION_BUS_ADDRESS", address);
            var session = new SessionKeyring(bus, keyring, address, runtime, previous);
            // Wait until the keyring has made and unlocked its login collection (lookups answer earlier than that, and a
            // store before it exists asks for a prompt nobody can answer).
            var login = Path.Combine(runtime, ".local", "share", "keyrings", "login.keyring");
            for (var i = 0; i < 100 && !File.Exists(login) && !keyring.HasExited; i++) await Task.Delay(100);
            for (var i = 0; i < 50 && !keyring.HasExited && !await session.CanStoreAsync(); i++) await Task.Delay(100);
            if (keyring.HasExited)
                throw new InvalidOperationException($"gnome-keyring-daemon exited ({keyring.ExitCode}): {await keyring.StandardError.ReadToEndAsync()} {await keyring.StandardOutput.ReadToEndAsync()}");
            LibSecretKeyProvider.IsAvailable().ShouldBeTrue("gnome-keyring-daemon did not come up on the session bus");
            return session;
        }

        private async Task<bool> CanStoreAsync()
        {
            var start = new ProcessStartInfo("/usr/bin/secret-tool", ["store", "--label=ignis readiness probe", "ignis-probe", "1"])
            {
                RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true,
            };
            start.Environment["DBUS_SESSION_BUS_ADDRESS"] = Address;
            using var process = Process.Start(start)!;
            await process.StandardInput.WriteAsync("x");
            process.StandardInput.Close();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            return process.ExitCode == 0;
        }

        public async Task<string> RunAsync(string tool, params string[] args)
        {
            var start = new ProcessStartInfo(tool, args) { RedirectStandardOutput = true, RedirectStandardError = true };
            start.Environment["DBUS_SESSION_BUS_ADDRESS"] = Address;
            using var process = Process.Start(start)!;
            var output = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(20));
            return output;
        }

        /// <summary>Both the .NET copy of the environment and the native one libsecret reads with getenv.</summary>
        private static void SetEnvironment(string name, string? value)
        {
            Environment.SetEnvironmentVariable(name, value);
            if (value is null) unsetenv(name);
            else setenv(name, value, 1);
        }

        [DllImport("libc", SetLastError = true)] private static extern int setenv(string name, string value, int overwrite);
        [DllImport("libc", SetLastError = true)] private static extern int unsetenv(string name);

        public async ValueTask DisposeAsync()
        {
            SetEnvironment("DBUS_SESSION_BUS_ADDRESS", _previous);
            foreach (var process in new[] { _keyring, _bus })
            {
                try { if (!process.HasExited) process.Kill(); await process.WaitForExitAsync(); } catch (InvalidOperationException) { }
                process.Dispose();
            }
            try { Directory.Delete(_runtime, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
        }
    }
}
