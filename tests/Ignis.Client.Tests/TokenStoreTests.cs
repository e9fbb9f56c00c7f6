using System.Net;
using System.Text;
using Ignis.Client.Storage;
using Ignis.Client.Tests.Infrastructure;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Client.Tests;

/// <summary>The default encrypted token store: per-user isolation, encryption at rest, atomic replacement.</summary>
public sealed class TokenStoreTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private IgnisServer Server => fixture.Server;

    private static async Task<SmartSession> LoginAsync(Sdk sdk, string user) =>
        await sdk.Client(new FormBrowserLauncher(sdk.Server, user, $"{user}-demo-pass")).LoginAsync(new LoginOptions { User = user });

    [Fact]
    public async Task Two_people_signed_in_on_one_device_each_get_back_only_their_own_session()
    {
        using var sdk = new Sdk(Server);
        var alice = await LoginAsync(sdk, "alice");
        var dave = await LoginAsync(sdk, "dave");

        using var client = sdk.Client(new FormBrowserLauncher(Server, "nobody", "none"));
        (await client.ListUsersAsync()).ShouldBe(["alice", "dave"], ignoreOrder: true);
        var restoredAlice = (await client.RestoreAsync("alice"))!;
        var restoredDave = (await client.RestoreAsync("dave"))!;
        restoredAlice.Tokens.RefreshToken.ShouldBe(alice.Tokens.RefreshToken);
        restoredDave.Tokens.RefreshToken.ShouldBe(dave.Tokens.RefreshToken);
        restoredAlice.Tokens.Patient.ShouldBe("alice");
        restoredDave.Tokens.Patient.ShouldBe("dave");

        using (var http = restoredDave.CreateHttpClient())
        {
            (await http.GetAsync("Patient/dave")).StatusCode.ShouldBe(HttpStatusCode.OK);
            (await http.GetAsync("Patient/alice")).StatusCode.ShouldBe(HttpStatusCode.NotFound);
        }
        await restoredAlice.SignOutAsync();
        (await client.RestoreAsync("alice")).ShouldBeNull();
        (await client.RestoreAsync("dave")).ShouldNotBeNull();
        (await client.RestoreAsync("carol")).ShouldBeNull();
    }

    [Fact]
    public async Task The_token_file_holds_no_token_in_clear_and_cannot_be_read_without_its_key()
    {
        using var sdk = new Sdk(Server);
        var session = await LoginAsync(sdk, "alice");
        var path = sdk.Store.PathOf(session.Key);
        var bytes = await File.ReadAllBytesAsync(path);
        var text = Encoding.Latin1.GetString(bytes);
        text.ShouldNotContain(session.Tokens.RefreshToken!);
        text.ShouldNotContain(session.Tokens.AccessToken[..40]);
        text.ShouldNotContain("alice");
        if (!OperatingSystem.IsWindows())
        {
            File.GetUnixFileMode(path).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.GetUnixFileMode(Path.Combine(sdk.StoreDirectory, StoreKeys.KeyFileName)).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // The same files with another key (a copy taken to another machine or account): refused, never garbage.
        var otherKeyDirectory = Directory.CreateTempSubdirectory("ignis-other-key-").FullName;
        try
        {
            var thief = new EncryptedFileTokenStore(sdk.StoreDirectory, new KeyFileKeyProvider(Path.Combine(otherKeyDirectory, "store.key")));
            var error = await Should.ThrowAsync<TokenStoreException>(() => thief.LoadAsync(session.Key));
            error.Message.ShouldContain("cannot be decrypted");
            (await thief.ListAsync()).ShouldBeEmpty();
        }
        finally
        {
            Directory.Delete(otherKeyDirectory, recursive: true);
        }
    }

    [Fact]
    public async Task A_token_file_copied_over_another_users_entry_is_refused()
    {
        using var sdk = new Sdk(Server);
        var alice = await LoginAsync(sdk, "alice");
        var dave = await LoginAsync(sdk, "dave");

        File.Copy(sdk.Store.PathOf(alice.Key), sdk.Store.PathOf(dave.Key), overwrite: true);

        var error = await Should.ThrowAsync<TokenStoreException>(() => sdk.Store.LoadAsync(dave.Key));
        error.Message.ShouldContain("another user's tokens");
    }

    [Fact]
    public async Task A_crash_before_the_new_file_replaces_the_old_one_keeps_the_previous_refresh_token()
    {
        using var sdk = new Sdk(Server);
        var session = await LoginAsync(sdk, "alice");
        var before = session.Tokens;
        sdk.Store.BeforeReplace = temp =>
        {
            // The new tokens are complete on disk next to the old file at this point.
            new FileInfo(temp).Length.ShouldBeGreaterThan(100);
            throw new IOException("simulated crash between write and rename");
        };

        await Should.ThrowAsync<IOException>(() => session.RefreshAsync());

        sdk.Store.BeforeReplace = null;
        var stored = await sdk.Store.LoadAsync(session.Key);
        stored!.RefreshToken.ShouldBe(before.RefreshToken);
        // The process still holds the rotated token, and the next refresh saves its successor.
        var rotated = session.Tokens.RefreshToken;
        rotated.ShouldNotBe(before.RefreshToken);
        await session.RefreshAsync();
        var after = (await sdk.Store.LoadAsync(session.Key))!.RefreshToken;
        after.ShouldBe(session.Tokens.RefreshToken);
        Directory.GetFiles(sdk.StoreDirectory, "*.tmp").ShouldBeEmpty();
        // A file left half-written by a real crash (no cleanup) is ignored too.
        await File.WriteAllBytesAsync(sdk.Store.PathOf(session.Key) + ".0badc0ffee00.tmp", [1, 2, 3]);
        (await sdk.Store.LoadAsync(session.Key))!.RefreshToken.ShouldBe(after);
        (await sdk.Store.ListAsync()).ShouldBe([session.Key]);
    }

    [Fact]
    public async Task A_key_file_other_users_can_read_is_refused_with_the_fix_in_the_message()
    {
        if (OperatingSystem.IsWindows()) return;
        using var sdk = new Sdk(Server);
        await LoginAsync(sdk, "alice");
        var keyFile = Path.Combine(sdk.StoreDirectory, StoreKeys.KeyFileName);
        File.SetUnixFileMode(keyFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.OtherRead);
        var reopened = new EncryptedFileTokenStore(sdk.StoreDirectory, new KeyFileKeyProvider(keyFile));

        var error = await Should.ThrowAsync<TokenStoreException>(() => reopened.LoadAsync(TokenStoreKey.For(Server.FhirBase, "alice")));
        error.Message.ShouldContain("chmod 600");
    }
}
