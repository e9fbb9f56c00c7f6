using System.Data.Common;
using System.Globalization;
using Ignis.Server.Auth;
using Ignis.Server.Auth.Clients;
using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace Ignis.Server.Tests.Data;

/// <summary>
/// --demo writes the demo roles, users and clients as plain rows (DemoAuthRows). They must be the rows Identity's
/// RoleManager/UserManager and OpenIddict's application manager write for the same demo data: here a server without
/// --demo is seeded through the managers, the way DemoAuthData seeded before, and every column of both is compared
/// (random values — ids, stamps, salts, times — by what they must satisfy instead).
/// </summary>
public sealed class DemoAuthSeedingTests
{
    private static readonly (string Name, string Password, string Role, string? FhirUser)[] Demo =
    [
        ("admin", "admin-demo-pass", IgnisRoles.Admin, null),
        ("bob", "bob-demo-pass", IgnisRoles.Developer, null),
        ("carol", "carol-demo-pass", IgnisRoles.Clinician, "Practitioner/carol"),
        ("alice", "alice-demo-pass", IgnisRoles.Patient, "Patient/alice"),
        ("dave", "dave-demo-pass", IgnisRoles.Patient, "Patient/dave"),
    ];

    [Fact]
    public async Task The_demo_users_roles_and_clients_are_the_rows_the_Identity_and_OpenIddict_managers_write()
    {
        await using var seeded = await IgnisServer.StartAsync("--demo");
        await using var reference = await IgnisServer.StartAsync();
        await SeedThroughManagersAsync(reference.Services);

        var roles = await RowsAsync(seeded, "AspNetRoles", "Name");
        var expectedRoles = await RowsAsync(reference, "AspNetRoles", "Name");
        Same(roles, expectedRoles, "Id", "ConcurrencyStamp", "ScimCreated", "ScimModified");
        roles.Keys.ShouldBe(IgnisRoles.All.Order(StringComparer.Ordinal), ignoreOrder: true);

        var users = await RowsAsync(seeded, "AspNetUsers", "UserName");
        var expectedUsers = await RowsAsync(reference, "AspNetUsers", "UserName");
        Same(users, expectedUsers, "Id", "ConcurrencyStamp", "SecurityStamp", "PasswordHash", "Created", "Modified");
        users.Keys.ShouldBe(Demo.Select(d => d.Name), ignoreOrder: true);

        // Each user in its role, by name.
        (await UserRolesAsync(seeded)).ShouldBe(await UserRolesAsync(reference), ignoreOrder: true);
        (await UserRolesAsync(seeded)).ShouldBe(Demo.Select(d => $"{d.Name}:{d.Role}"), ignoreOrder: true);

        var clients = await RowsAsync(seeded, "OpenIddictApplications", "ClientId");
        var expectedClients = await RowsAsync(reference, "OpenIddictApplications", "ClientId");
        Same(clients, expectedClients, "Id", "ConcurrencyToken", "ClientSecret");
        clients.Keys.ShouldBe([DemoAuthData.PublicClientId, DemoAuthData.BackendClientId], ignoreOrder: true);

        // The random values: unique ids and stamps of the usual shape, hashes that verify the demo passwords and secret.
        await using var scope = seeded.Services.CreateAsyncScope();
        var userManager = scope.ServiceProvider.GetRequiredService<UserManager<IgnisUser>>();
        foreach (var (name, password, role, _) in Demo)
        {
            var user = (await userManager.FindByNameAsync(name)).ShouldNotBeNull();
            user.Id.ShouldBe(users[name]["Id"]);
            Guid.TryParse(user.Id, out _).ShouldBeTrue();
            Guid.TryParse(user.ConcurrencyStamp, out _).ShouldBeTrue();
            user.SecurityStamp.ShouldNotBeNull().Length.ShouldBe(expectedUsers[name]["SecurityStamp"]!.Length);
            user.Created.ShouldNotBe(default);
            user.Modified.ShouldBeGreaterThanOrEqualTo(user.Created);
            (await userManager.CheckPasswordAsync(user, password)).ShouldBeTrue(name);
            (await userManager.IsInRoleAsync(user, role)).ShouldBeTrue(name);
        }
        users.Values.Select(u => u["Id"]).Distinct().Count().ShouldBe(Demo.Length);
        users.Values.Select(u => u["SecurityStamp"]).Distinct().Count().ShouldBe(Demo.Length);

        var applications = scope.ServiceProvider.GetRequiredService<IgnisApplicationManager>();
        foreach (var clientId in clients.Keys)
        {
            var application = (await applications.FindByClientIdAsync(clientId)).ShouldNotBeNull();
            // Valid by OpenIddict's own rules, as CreateAsync would have checked.
            (await applications.ValidateAsync(application).ToListAsync()).ShouldBeEmpty(clientId);
            Guid.TryParse(application.Id, out _).ShouldBeTrue();
        }
        var backend = (await applications.FindByClientIdAsync(DemoAuthData.BackendClientId)).ShouldNotBeNull();
        (await applications.ValidateClientSecretAsync(backend, "demo-backend-secret")).ShouldBeTrue();
        (await applications.ValidateClientSecretAsync(backend, "demo-backend-secret2")).ShouldBeFalse();
        clients[DemoAuthData.BackendClientId]["ClientSecret"]!.Length.ShouldBe(expectedClients[DemoAuthData.BackendClientId]["ClientSecret"]!.Length);
        clients[DemoAuthData.PublicClientId]["ClientSecret"].ShouldBeNull();
    }

    /// <summary>The demo data through the managers, as DemoAuthData wrote it before it wrote rows.</summary>
    private static async Task SeedThroughManagersAsync(IServiceProvider root)
    {
        await using var scope = root.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var roles = services.GetRequiredService<RoleManager<IdentityRole>>();
        foreach (var role in IgnisRoles.All) (await roles.CreateAsync(new IdentityRole(role))).Succeeded.ShouldBeTrue();
        var users = services.GetRequiredService<UserManager<IgnisUser>>();
        foreach (var (name, password, role, fhirUser) in Demo)
        {
            var user = new IgnisUser { UserName = name, FhirUser = fhirUser };
            (await users.CreateAsync(user, password)).Succeeded.ShouldBeTrue();
            (await users.AddToRoleAsync(user, role)).Succeeded.ShouldBeTrue();
        }
        var applications = services.GetRequiredService<IOpenIddictApplicationManager>();
        foreach (var descriptor in DemoAuthData.Clients()) await applications.CreateAsync(descriptor);
    }

    private static void Same(Dictionary<string, Dictionary<string, string?>> actual, Dictionary<string, Dictionary<string, string?>> expected,
        params string[] random)
    {
        actual.Keys.ShouldBe(expected.Keys, ignoreOrder: true);
        foreach (var (key, row) in expected)
        {
            actual[key].Keys.ShouldBe(row.Keys, ignoreOrder: true);
            foreach (var (column, value) in row)
            {
                if (random.Contains(column))
                {
                    (actual[key][column] is null).ShouldBe(value is null, $"{key}.{column}");
                    continue;
                }
                actual[key][column].ShouldBe(value, $"{key}.{column}");
            }
        }
    }

    private static async Task<Dictionary<string, Dictionary<string, string?>>> RowsAsync(IgnisServer server, string table, string key)
    {
        var rows = new Dictionary<string, Dictionary<string, string?>>();
        await using var connection = await server.Services.GetRequiredService<AuthDatabase>().OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM \"{table}\"";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync())
        {
            var row = new Dictionary<string, string?>();
            for (var i = 0; i < reader.FieldCount; i++) row[reader.GetName(i)] = Text(reader, i);
            rows.Add(row[key]!, row);
        }
        return rows;
    }

    private static async Task<List<string>> UserRolesAsync(IgnisServer server)
    {
        var pairs = new List<string>();
        await using var connection = await server.Services.GetRequiredService<AuthDatabase>().OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT u.\"UserName\", r.\"Name\" FROM \"AspNetUserRoles\" ur JOIN \"AspNetUsers\" u ON u.\"Id\" = ur.\"UserId\" " +
            "JOIN \"AspNetRoles\" r ON r.\"Id\" = ur.\"RoleId\"";
        await using var reader = await command.ExecuteReaderAsync();
        while (await reader.ReadAsync()) pairs.Add($"{reader.GetString(0)}:{reader.GetString(1)}");
        return pairs;
    }

    private static string? Text(DbDataReader reader, int i) =>
        reader.IsDBNull(i) ? null : Convert.ToString(reader.GetValue(i), CultureInfo.InvariantCulture);
}
