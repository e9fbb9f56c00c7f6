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

    public static async Task SeedAsync(IServiceProvider services)
    {
        var roles = services.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in IgnisRoles.All)
            if (!await roles.RoleExistsAsync(role)) Check(await roles.CreateAsync(new IdentityRole(role)));

        var users = services.GetRequiredService<UserManager<IgnisUser>>();
        // Each password hash is a deliberately slow PBKDF2 (~80 ms): hashed on every core at once, each password
        // checked by the same validators UserManager.CreateAsync(user, password) runs.
        var accounts = Users.Select(u => (u.Role, User: new IgnisUser { UserName = u.Name, FhirUser = u.FhirUser }, u.Password)).ToList();
        foreach (var (_, user, password) in accounts)
            foreach (var validator in users.PasswordValidators)
                Check(await validator.ValidateAsync(users, user, password));
        Parallel.ForEach(accounts, a => a.User.PasswordHash = users.PasswordHasher.HashPassword(a.User, a.Password));
        foreach (var (role, user, _) in accounts)
        {
            Check(await users.CreateAsync(user));
            Check(await users.AddToRoleAsync(user, role));
        }

        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        await applications.CreateAsync(new OpenIddictApplicationDescriptor
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
        });
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
        await applications.CreateAsync(backend);
    }

    private static void Check(IdentityResult result)
    {
        if (!result.Succeeded)
            throw new InvalidOperationException("Seeding the demo users failed: " + string.Join("; ", result.Errors.Select(e => e.Description)));
    }
}
