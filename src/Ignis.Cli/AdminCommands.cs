using System.Globalization;
using System.Text.Json.Nodes;
using Ignis.Fhir.Storage;
using Ignis.Server.Auth;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Ignis.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Cli;

/// <summary>
/// The server's own services over its database, built from the same configuration the server reads (appsettings.json,
/// <c>Ignis__...</c> variables, <c>--data</c>, <c>--setting Key=Value</c>): users through ASP.NET Core Identity, clients
/// through OpenIddict, revocation through <see cref="GrantRevocation"/>. Nothing listens.
/// </summary>
internal sealed class AdminHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private AdminHost(WebApplication app, AsyncServiceScope scope)
    {
        _app = app;
        Scope = scope;
    }

    public AsyncServiceScope Scope { get; }
    public IServiceProvider Services => Scope.ServiceProvider;
    public T Get<T>() where T : notnull => Services.GetRequiredService<T>();

    public AsyncServiceScope NewScope() => _app.Services.CreateAsyncScope();

    public static WebApplication Build(string dataDirectory, string[] settings)
    {
        var args = new List<string> { "--data", dataDirectory, "--Logging:LogLevel:Default=Warning", "--Logging:LogLevel:Microsoft=Warning" };
        foreach (var setting in settings)
        {
            if (!setting.Contains('=')) throw new CliException(ExitCodes.Usage, $"--setting '{setting}' must be Key=Value, e.g. Ignis:Storage:ConnectionString=/srv/ignis.db");
            args.Add("--" + setting);
        }
        var builder = WebApplication.CreateBuilder(CommandLine.Normalize([.. args]));
        builder.AddIgnisHosting();
        builder.Services.AddIgnisFhir();
        builder.AddIgnisAuth();
        return builder.Build();
    }

    /// <summary>Opens an existing database (upgrading its schema as the server does at start-up).</summary>
    public static async Task<AdminHost> OpenAsync(string dataDirectory, string[] settings, CancellationToken ct)
    {
        var app = Build(dataDirectory, settings);
        if (!app.Services.GetRequiredService<AuthDatabase>().IsPostgres && app.Services.GetRequiredService<FhirDatabase>().Path is var path && !File.Exists(path))
        {
            await app.DisposeAsync();
            throw new CliException(ExitCodes.Usage, $"no Ignis database at {Path.GetFullPath(path)}; pass --data DIR (the server's data folder), or create one with 'ignis db migrate --data DIR'");
        }
        await MigrateAsync(app, ct);
        return new AdminHost(app, app.Services.CreateAsyncScope());
    }

    /// <summary>Creates or upgrades the FHIR schema and the auth tables; returns (FHIR version found, auth migrations applied).</summary>
    public static async Task<(int From, int Applied)> MigrateAsync(WebApplication app, CancellationToken ct)
    {
        // PostgreSQL: the nodes migrate under the same lock at start-up.
        await using var turn = await app.Services.GetRequiredService<AuthDatabase>().LockAsync(ClusterLock.Startup, ct);
        var from = app.Services.GetRequiredService<IFhirStore>().Migrate();
        await using var scope = app.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var pending = (await db.Database.GetPendingMigrationsAsync(ct)).Count();
        if (pending > 0) await db.Database.MigrateAsync(ct);
        return (from, pending);
    }

    public async ValueTask DisposeAsync()
    {
        await Scope.DisposeAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }
}

/// <summary>The admin commands: they work on an Ignis server's database (the server may be running).</summary>
internal static class AdminCommands
{
    public static async Task<int> DbMigrateAsync(CliEnvironment env, string data, string[] settings, bool json, CancellationToken ct)
    {
        await using var app = AdminHost.Build(data, settings);
        var store = app.Services.GetRequiredService<IFhirStore>();
        var postgres = app.Services.GetRequiredService<AuthDatabase>().IsPostgres;
        // SQLite: the file; PostgreSQL: the store's description of the database (never the password).
        var path = postgres ? store.Location : Path.GetFullPath(app.Services.GetRequiredService<FhirDatabase>().Path);
        var existed = postgres || File.Exists(path);
        var (from, applied) = await AdminHost.MigrateAsync(app, ct);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (json)
            Output.Json(env.Out, new JsonObject { ["database"] = path, ["created"] = !existed, ["fhirSchemaFrom"] = from, ["fhirSchema"] = store.LatestSchemaVersion, ["authMigrationsApplied"] = applied });
        else
            env.Out.WriteLine($"{(existed ? "Upgraded" : "Created")} {path}: FHIR schema {from} -> {store.LatestSchemaVersion}, {applied} auth migration(s) applied");
        return ExitCodes.Ok;
    }

    // ---- users

    public static async Task<int> UsersAddAsync(CliEnvironment env, string data, string[] settings, string name, string? password, bool passwordStdin,
        string role, string? fhirUser, bool json, CancellationToken ct)
    {
        if (passwordStdin) password = (await env.In.ReadLineAsync(ct))?.TrimEnd('\r', '\n');
        if (string.IsNullOrEmpty(password)) throw new CliException(ExitCodes.Usage, "give the password with --password or --password-stdin");
        if (!IgnisRoles.All.Contains(role)) throw new CliException(ExitCodes.Usage, $"--role must be one of {string.Join(", ", IgnisRoles.All)}");
        if (fhirUser is not null && !System.Text.RegularExpressions.Regex.IsMatch(fhirUser, "^(Patient|Practitioner|PractitionerRole|RelatedPerson|Person)/[A-Za-z0-9\\-.]{1,64}$"))
            throw new CliException(ExitCodes.Usage, "--fhir-user must be a relative reference such as Patient/alice or Practitioner/carol");
        await using var host = await AdminHost.OpenAsync(data, settings, ct);
        var users = host.Get<UserManager<IgnisUser>>();
        var roles = host.Get<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(role)) Check(await roles.CreateAsync(new IdentityRole(role)), "the role");
        var user = new IgnisUser { UserName = name, FhirUser = fhirUser };
        Check(await users.CreateAsync(user, password), $"user {name}");
        Check(await users.AddToRoleAsync(user, role), $"user {name}");
        if (json) Output.Json(env.Out, new JsonObject { ["id"] = user.Id, ["name"] = name, ["role"] = role, ["fhirUser"] = fhirUser });
        else env.Out.WriteLine($"Added user {name} ({role}{(fhirUser is null ? "" : ", " + fhirUser)})");
        return ExitCodes.Ok;
    }

    public static async Task<int> UsersListAsync(CliEnvironment env, string data, string[] settings, bool json, CancellationToken ct)
    {
        await using var host = await AdminHost.OpenAsync(data, settings, ct);
        var users = host.Get<UserManager<IgnisUser>>();
        var rows = new List<(IgnisUser User, IList<string> Roles)>();
        foreach (var user in await users.Users.OrderBy(u => u.UserName).ToListAsync(ct)) rows.Add((user, await users.GetRolesAsync(user)));
        var now = DateTimeOffset.UtcNow;
        string? Locked(IgnisUser u) => u.LockoutEnd is { } end && end > now ? (end.Year >= 9999 ? "yes" : "until " + end.ToString("u", CultureInfo.InvariantCulture)) : null;
        if (json)
            Output.Json(env.Out, new JsonArray([.. rows.Select(r => (JsonNode?)new JsonObject
            {
                ["id"] = r.User.Id, ["name"] = r.User.UserName, ["roles"] = new JsonArray([.. r.Roles.Select(x => (JsonNode?)x)]),
                ["fhirUser"] = r.User.FhirUser, ["active"] = r.User.Active, ["locked"] = Locked(r.User) is not null,
            })]));
        else
            Output.Table(env.Out, ["name", "roles", "fhir user", "active", "locked", "id"],
                rows.Select(r => (IReadOnlyList<string?>)[r.User.UserName, string.Join(",", r.Roles), r.User.FhirUser, r.User.Active ? "yes" : "no", Locked(r.User) ?? "", r.User.Id]));
        return ExitCodes.Ok;
    }

    public static async Task<int> UsersLockAsync(CliEnvironment env, string data, string[] settings, string name, bool unlock, bool json, CancellationToken ct)
    {
        await using var host = await AdminHost.OpenAsync(data, settings, ct);
        var users = host.Get<UserManager<IgnisUser>>();
        var user = await FindUserAsync(users, name);
        long revoked = 0;
        if (unlock)
        {
            Check(await users.SetLockoutEndDateAsync(user, null), $"user {name}");
            Check(await users.ResetAccessFailedCountAsync(user), $"user {name}");
        }
        else
        {
            Check(await users.SetLockoutEnabledAsync(user, true), $"user {name}");
            Check(await users.SetLockoutEndDateAsync(user, DateTimeOffset.MaxValue), $"user {name}");
            // A locked account keeps no way in: its tokens and browser sessions end too.
            revoked = await host.Get<GrantRevocation>().SignOutEverywhereAsync(user.Id, ct);
        }
        if (json) Output.Json(env.Out, new JsonObject { ["name"] = name, ["locked"] = !unlock, ["tokensRevoked"] = revoked });
        else env.Out.WriteLine(unlock ? $"Unlocked user {name}" : $"Locked user {name}; revoked {revoked} token(s) and ended their sessions");
        return ExitCodes.Ok;
    }

    public static async Task<int> UsersDeleteAsync(CliEnvironment env, string data, string[] settings, string name, bool json, CancellationToken ct)
    {
        await using var host = await AdminHost.OpenAsync(data, settings, ct);
        var users = host.Get<UserManager<IgnisUser>>();
        var user = await FindUserAsync(users, name);
        var revoked = await host.Get<GrantRevocation>().SignOutEverywhereAsync(user.Id, ct);
        Check(await users.DeleteAsync(user), $"user {name}");
        if (json) Output.Json(env.Out, new JsonObject { ["name"] = name, ["deleted"] = true, ["tokensRevoked"] = revoked });
        else env.Out.WriteLine($"Deleted user {name}; revoked {revoked} token(s)");
        return ExitCodes.Ok;
    }

    private static async Task<IgnisUser> FindUserAsync(UserManager<IgnisUser> users, string name) =>
        await users.FindByNameAsync(name) ?? throw new CliException(ExitCodes.Refused, $"no user named {name}");

    private static void Check(IdentityResult result, string what)
    {
        if (!result.Succeeded) throw new CliException(ExitCodes.Refused, $"{what}: {string.Join(" ", result.Errors.Select(e => e.Description))}");
    }

    // ---- clients

    public static async Task<int> ClientsAddAsync(CliEnvironment env, string data, string[] settings, string name, bool isPublic,
        string[] redirectUris, bool secret, string? jwksFile, string? jwksUri, string[] scopes, string[] grants, string? launchUri, bool json, CancellationToken ct)
    {
        if (new[] { isPublic, secret, jwksFile is not null || jwksUri is not null }.Count(b => b) != 1)
            throw new CliException(ExitCodes.Usage, "say how the client authenticates: --public (none, PKCE), --secret (a generated client secret), or --jwks FILE / --jwks-uri URL (private_key_jwt)");
        JsonObject? jwks = null;
        if (jwksFile is not null)
        {
            if (!File.Exists(jwksFile)) throw new CliException(ExitCodes.Usage, $"{jwksFile}: no such file");
            try { jwks = JsonNode.Parse(await File.ReadAllTextAsync(jwksFile, ct)) as JsonObject; }
            catch (System.Text.Json.JsonException e) { throw new CliException(ExitCodes.Usage, $"{jwksFile}: not JSON ({e.Message})"); }
            if (jwks is null) throw new CliException(ExitCodes.Usage, $"{jwksFile}: not a JWK Set");
        }
        var metadata = new ClientMetadata
        {
            ClientName = name,
            RedirectUris = redirectUris,
            GrantTypes = grants.Length > 0 ? grants : isPublic ? ["authorization_code", "refresh_token"] : ["client_credentials"],
            TokenEndpointAuthMethod = isPublic ? ClientMetadataValidator.AuthNone
                : secret ? ClientMetadataValidator.AuthSecretBasic : ClientMetadataValidator.AuthPrivateKeyJwt,
            Scope = scopes.Length > 0 ? string.Join(' ', scopes.SelectMany(x => x.Split(' ', StringSplitOptions.RemoveEmptyEntries))) : null,
            Jwks = jwks,
            JwksUri = jwksUri,
            LaunchUri = launchUri,
        };

        await using var host = await AdminHost.OpenAsync(data, settings, ct);
        // The same registry as RFC 7591 registration and the portals, acting as an administrator: no approval needed.
        var result = await host.Get<ClientRegistry>().RegisterAsync(metadata, new Registrant(RegistrantKind.Administrator), ct);
        if (!result.Succeeded) throw new CliException(ExitCodes.Refused, $"{result.Error!.Code}: {result.Error.Description}");
        var client = result.Client!;
        if (json)
            Output.Json(env.Out, new JsonObject
            {
                ["clientId"] = client.ClientId, ["name"] = client.Metadata.ClientName, ["status"] = client.Status.ToString(),
                ["tokenEndpointAuthMethod"] = client.Metadata.TokenEndpointAuthMethod,
                ["grants"] = new JsonArray([.. client.Metadata.GrantTypes!.Select(g => (JsonNode?)g)]),
                ["scope"] = client.Metadata.Scope,
                ["clientSecret"] = result.ClientSecret,
                ["registrationAccessToken"] = result.RegistrationAccessToken,
            });
        else
        {
            Output.Fields(env.Out,
            [
                ("client id", client.ClientId),
                ("name", client.Metadata.ClientName),
                ("authentication", client.Metadata.TokenEndpointAuthMethod),
                ("grants", string.Join(", ", client.Metadata.GrantTypes!)),
                ("scope", client.Metadata.Scope),
                ("redirect uris", string.Join(" ", client.Metadata.RedirectUris)),
                ("status", client.Status.ToString()),
                ("client secret", result.ClientSecret is null ? null : result.ClientSecret + "  (shown once: store it now)"),
            ]);
        }
        return ExitCodes.Ok;
    }

    public static async Task<int> ClientsListAsync(CliEnvironment env, string data, string[] settings, bool json, CancellationToken ct)
    {
        await using var host = await AdminHost.OpenAsync(data, settings, ct);
        var clients = new List<RegisteredClient>();
        await foreach (var client in host.Get<ClientRegistry>().ListAsync(ct: ct)) clients.Add(client);
        clients.Sort((a, b) => string.CompareOrdinal(a.ClientId, b.ClientId));
        if (json)
            Output.Json(env.Out, new JsonArray([.. clients.Select(c => (JsonNode?)new JsonObject
            {
                ["clientId"] = c.ClientId, ["name"] = c.Metadata.ClientName, ["type"] = c.IsPublic ? "public" : "confidential",
                ["tokenEndpointAuthMethod"] = c.Metadata.TokenEndpointAuthMethod, ["status"] = c.Status.ToString(),
                ["grants"] = new JsonArray([.. (c.Metadata.GrantTypes ?? []).Select(x => (JsonNode?)x)]),
                ["redirectUris"] = new JsonArray([.. c.Metadata.RedirectUris.Select(x => (JsonNode?)x)]),
                ["scope"] = c.Metadata.Scope,
            })]));
        else
            Output.Table(env.Out, ["client id", "name", "auth", "grants", "status", "redirect uris"],
                clients.Select(c => (IReadOnlyList<string?>)[c.ClientId, c.Metadata.ClientName, c.Metadata.TokenEndpointAuthMethod,
                    string.Join(",", c.Metadata.GrantTypes ?? []), c.Status.ToString(), string.Join(" ", c.Metadata.RedirectUris)]));
        return ExitCodes.Ok;
    }

    public static async Task<int> ClientsDeleteAsync(CliEnvironment env, string data, string[] settings, string clientId, bool json, CancellationToken ct)
    {
        await using var host = await AdminHost.OpenAsync(data, settings, ct);
        // The registry revokes every token and authorization of the client, then deletes it.
        var result = await host.Get<ClientRegistry>().DeleteAsync(clientId, ct);
        if (!result.Succeeded) throw new CliException(ExitCodes.Refused, result.Error!.Description);
        if (json) Output.Json(env.Out, new JsonObject { ["clientId"] = clientId, ["deleted"] = true });
        else env.Out.WriteLine($"Deleted client {clientId}; its tokens and authorizations are revoked");
        return ExitCodes.Ok;
    }

    // ---- keys

    public static async Task<int> KeysRotateAsync(CliEnvironment env, string data, string[] settings, int keep, TimeSpan? activateAfter, bool json, CancellationToken ct)
    {
        await using var app = AdminHost.Build(data, settings);
        if (app.Services.GetRequiredService<AuthDatabase>().IsPostgres) return await KeysRotateInDatabaseAsync(env, app, activateAfter, json, ct);
        var ignis = app.Services.GetRequiredService<IOptions<IgnisOptions>>().Value;
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var directory = Path.GetFullPath(auth.KeyDirectory ?? Path.Combine(ignis.DataDirectory, "keys"));
        if (!File.Exists(Path.Combine(directory, "signing-rsa.pem")))
            throw new CliException(ExitCodes.Usage, $"no signing key in {directory}; pass the server's --data DIR (keys are made at the server's first start)");
        var (old, fresh, deleted) = SigningKeys.Rotate(directory, keep);
        await Task.CompletedTask;
        if (json)
            Output.Json(env.Out, new JsonObject { ["keyDirectory"] = directory, ["retiredKeyId"] = old, ["newKeyId"] = fresh, ["deleted"] = new JsonArray([.. deleted.Select(d => (JsonNode?)d)]) });
        else
        {
            env.Out.WriteLine($"New signing key {fresh} in {directory}; {old} is retired (still published and accepted).");
            if (deleted.Count > 0) env.Out.WriteLine($"Deleted older retired keys: {string.Join(", ", deleted)}");
            env.Out.WriteLine("Restart the server (every node) to sign with the new key.");
        }
        return ExitCodes.Ok;
    }

    /// <summary>
    /// PostgreSQL: the keys are rows every node reads. The new key is published at once and starts signing after
    /// <paramref name="activateAfter"/> (default twice Ignis:Auth:KeyRefreshInterval: every node knows it by then);
    /// no restart is needed.
    /// </summary>
    private static async Task<int> KeysRotateInDatabaseAsync(CliEnvironment env, WebApplication app, TimeSpan? activateAfter, bool json, CancellationToken ct)
    {
        await AdminHost.MigrateAsync(app, ct);
        var auth = app.Services.GetRequiredService<IOptions<AuthOptions>>().Value;
        var (old, fresh, activates, deleted) = await app.Services.GetRequiredService<KeyRing>().RotateAsync(activateAfter ?? auth.KeyRefreshInterval * 2, ct);
        if (json)
            Output.Json(env.Out, new JsonObject
            {
                ["retiredKeyId"] = old, ["newKeyId"] = fresh, ["activatesAt"] = activates.ToString("O", CultureInfo.InvariantCulture),
                ["deleted"] = new JsonArray([.. deleted.Select(d => (JsonNode?)d)]),
            });
        else
        {
            env.Out.WriteLine($"New signing key {fresh}, published now, signing from {activates.ToString("u", CultureInfo.InvariantCulture)}; {old} stays published until the tokens it signed have expired.");
            if (deleted.Count > 0) env.Out.WriteLine($"Deleted keys no token needs any more: {string.Join(", ", deleted)}");
        }
        return ExitCodes.Ok;
    }
}
