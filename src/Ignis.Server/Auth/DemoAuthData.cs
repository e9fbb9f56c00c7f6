using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth;

/// <summary>The demo users and clients of DESIGN.md, seeded with --demo on an empty database only.</summary>
public static class DemoAuthData
{
    public const string PublicClientId = "demo-app";
    public const string PublicClientRedirectUri = "http://127.0.0.1/callback";
    public const string BackendClientId = "demo-backend";
    public const string TesterRedirectUri = "http://127.0.0.1/launcher/callback";
    public const string TesterRedirectUriLocalhost = "http://localhost/launcher/callback";

    private static readonly (string Name, string Password, string Role, string? FhirUser)[] Users =
    [
        ("admin", "admin-demo-pass", IgnisRoles.Admin, null),
        ("bob", "bob-demo-pass", IgnisRoles.Developer, null),
        ("carol", "carol-demo-pass", IgnisRoles.Clinician, "Practitioner/carol"),
        ("alice", "alice-demo-pass", IgnisRoles.Patient, "Patient/alice"),
        ("dave", "dave-demo-pass", IgnisRoles.Patient, "Patient/dave"),
    ];

    /// <summary>
    /// The demo roles, users and clients, written as rows (<see cref="DemoAuthRows"/>) with the values Identity's and
    /// OpenIddict's managers give them: names normalized, passwords checked by the password validators and hashed by
    /// the password hasher, the clients' columns filled by OpenIddict's store and the secret hashed as OpenIddict does.
    /// </summary>
    public static async Task SeedAsync(IServiceProvider services)
    {
        var users = services.GetRequiredService<UserManager<IgnisUser>>();
        var roleManager = services.GetRequiredService<RoleManager<IdentityRole>>();
        var roles = IgnisRoles.All.Select(name =>
        {
            var role = new IdentityRole(name);
            // Created (version 1), then one more version for each user added to it.
            return new DemoAuthRows.Role(role.Id, name, roleManager.NormalizeKey(name)!, role.ConcurrencyStamp!, 1 + Users.Count(u => u.Role == name));
        }).ToList();
        // Each password hash is a deliberately slow PBKDF2 (~80 ms): hashed on every core at once.
        var accounts = Users.Select(u => (u.Role, User: new IgnisUser { UserName = u.Name, FhirUser = u.FhirUser }, u.Password)).ToList();
        foreach (var (_, user, password) in accounts)
            foreach (var validator in users.PasswordValidators)
                Check(await validator.ValidateAsync(users, user, password));
        Parallel.ForEach(accounts, a => a.User.PasswordHash = users.PasswordHasher.HashPassword(a.User, a.Password));
        var userRows = accounts.Select(a => new DemoAuthRows.User(a.User.Id, a.User.UserName!, users.NormalizeName(a.User.UserName)!, a.User.PasswordHash!,
            // The security stamp UserManager.CreateAsync sets (GenerateNewAuthenticatorKey makes the same 20 random bytes in
            // base 32), and a new concurrency stamp, as AddToRoleAsync's update leaves it.
            users.GenerateNewAuthenticatorKey(), Guid.NewGuid().ToString(), a.User.FhirUser, roles.Single(r => r.Name == a.Role).Id)).ToList();

        var manager = services.GetRequiredService<Clients.IgnisApplicationManager>();
        var applications = new List<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>();
        foreach (var descriptor in Clients())
        {
            // The id EF Core would generate for the string key (a GUID), the columns from OpenIddict's own store setters.
            var application = new OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication { Id = Guid.NewGuid().ToString() };
            await manager.PopulateAsync(application, descriptor);
            if (application.ClientSecret is { Length: > 0 } secret) application.ClientSecret = await manager.HashSecretAsync(secret);
            applications.Add(application);
        }
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow().UtcDateTime;
        // Whole microseconds, as UserVersioning stamps them (PostgreSQL keeps no finer time).
        now = new DateTime(now.Ticks - now.Ticks % 10, DateTimeKind.Utc);
        await DemoAuthRows.WriteAsync(services.GetRequiredService<AuthDatabase>(), roles, userRows, applications, now);
    }

    internal static IEnumerable<OpenIddictApplicationDescriptor> Clients()
    {
        yield return new OpenIddictApplicationDescriptor
        {
            ClientId = PublicClientId,
            DisplayName = "Ignis demo app",
            ClientType = ClientTypes.Public,
            ApplicationType = ApplicationTypes.Native, // loopback redirect on any port (RFC 8252 §7.3)
            ConsentType = ConsentTypes.Explicit,
            // The launch tester's callback (/launcher/callback) as a loopback redirect, so the demo app can be tried there.
            RedirectUris = { new Uri(PublicClientRedirectUri), new Uri(TesterRedirectUri), new Uri(TesterRedirectUriLocalhost) },
            PostLogoutRedirectUris = { new Uri(PublicClientRedirectUri) },
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.Revocation,
                Permissions.Endpoints.EndSession,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
            },
            Requirements = { Requirements.Features.ProofKeyForCodeExchange },
        };
        var backend = new OpenIddictApplicationDescriptor
        {
            ClientId = BackendClientId,
            ClientSecret = "demo-backend-secret",
            DisplayName = "Ignis demo backend service",
            ClientType = ClientTypes.Confidential,
            Permissions =
            {
                Permissions.Endpoints.Token, Permissions.Endpoints.Introspection, Permissions.Endpoints.Revocation,
                Permissions.GrantTypes.ClientCredentials,
            },
        };
        foreach (var scope in (string[])["system/*.cruds", "system/*.*", "scim"]) backend.Permissions.Add(Permissions.Prefixes.Scope + scope);
        yield return backend;
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException("Seeding the demo users failed: " + string.Join("; ", result.Errors.Select(e => e.Description)));
    }
}
