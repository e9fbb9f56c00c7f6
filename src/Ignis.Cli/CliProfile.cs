using System.Text.Json;
using Ignis.Client;
using Ignis.Client.Storage;

namespace Ignis.Cli;

/// <summary>The server and user that app-side commands use (<c>cli.json</c> in the home folder), and their session.</summary>
internal sealed record CliProfile(string Server, string User, string ClientId, string? ClientSecret = null)
{
    private const string FileName = "cli.json";

    public static CliProfile? Load(CliEnvironment env)
    {
        var path = Path.Combine(env.Home, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(path), CliJson.Default.CliProfile);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    public void Save(CliEnvironment env)
    {
        Directory.CreateDirectory(env.Home);
        var path = Path.Combine(env.Home, FileName);
        var temp = path + ".tmp";
        File.WriteAllText(temp, JsonSerializer.Serialize(this, CliJson.Default.CliProfile));
        File.Move(temp, path, overwrite: true);
    }

    public static void Clear(CliEnvironment env) => File.Delete(Path.Combine(env.Home, FileName));

    public static ITokenStore Store(CliEnvironment env) => EncryptedFileTokenStore.CreateDefault(Path.Combine(env.Home, "tokens"));

    public SmartClient Client(CliEnvironment env, Ignis.Client.Login.IBrowserLauncher? browser = null, string? scope = null) => new(new SmartClientOptions
    {
        FhirBaseUrl = Server,
        ClientId = ClientId,
        ClientSecret = ClientSecret,
        TokenStore = Store(env),
        Browser = browser ?? env.Browser ?? new Ignis.Client.Login.SystemBrowserLauncher(),
        BackchannelHandler = env.NewHandler(),
        AppName = "the ignis command line",
        Scope = scope ?? CliDefaults.Scope,
    });

    /// <summary>The signed-in session of the current profile.</summary>
    /// <exception cref="CliException">Not signed in.</exception>
    public static async Task<(CliProfile Profile, SmartClient Client, SmartSession Session)> SessionAsync(CliEnvironment env, CancellationToken ct)
    {
        var profile = Load(env) ?? throw new CliException(ExitCodes.SignInRequired, "not signed in; run 'ignis login <fhir-base>'");
        var client = profile.Client(env);
        SmartSession? session;
        try
        {
            session = await client.RestoreAsync(profile.User, ct);
        }
        catch (TokenStoreException e)
        {
            throw new CliException(ExitCodes.SignInRequired, e.Message);
        }
        if (session is null)
            throw new CliException(ExitCodes.SignInRequired, $"not signed in at {profile.Server}; run 'ignis login {profile.Server}'");
        return (profile, client, session);
    }
}

internal static class CliDefaults
{
    public const string ClientId = "demo-app";
    public const string Scope = "openid fhirUser offline_access user/*.cruds";
}

[System.Text.Json.Serialization.JsonSerializable(typeof(CliProfile))]
[System.Text.Json.Serialization.JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = System.Text.Json.Serialization.JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class CliJson : System.Text.Json.Serialization.JsonSerializerContext;
