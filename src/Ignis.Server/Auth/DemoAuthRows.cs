using System.Data.Common;
using Ignis.Server.Data;
using OpenIddict.EntityFrameworkCore.Models;

namespace Ignis.Server.Auth;

/// <summary>
/// Writes the demo roles, users and clients (<see cref="DemoAuthData"/>) as plain rows in one transaction: the values
/// those of Identity's and OpenIddict's managers (normalized names, stamps, password and secret hashes, the clients'
/// JSON columns from OpenIddict's own store), and the versions <see cref="UserVersioning"/> gives a user created and
/// then added to a role. Through the managers, EF Core's change tracking compiled several hundred expression trees
/// for five entity types on the first start only, and they stayed resident (docs/benchmarks.md, "Session 6: idle
/// memory").
/// </summary>
internal static class DemoAuthRows
{
    public sealed record Role(string Id, string Name, string NormalizedName, string ConcurrencyStamp, long Version);

    public sealed record User(string Id, string UserName, string NormalizedUserName, string PasswordHash, string SecurityStamp,
        string ConcurrencyStamp, string? FhirUser, string RoleId);

    public static async Task WriteAsync(AuthDatabase database, IReadOnlyList<Role> roles, IReadOnlyList<User> users,
        IReadOnlyList<OpenIddictEntityFrameworkCoreApplication> applications, DateTime now, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var transaction = await connection.BeginTransactionAsync(ct);
        foreach (var role in roles)
            await ExecuteAsync(connection, transaction,
                "INSERT INTO \"AspNetRoles\" (\"Id\", \"Name\", \"NormalizedName\", \"ConcurrencyStamp\", \"ScimCreated\", \"ScimModified\", \"ScimVersion\") " +
                "VALUES (@id, @name, @normalized, @stamp, @now, @now, @version)", ct,
                ("@id", role.Id), ("@name", role.Name), ("@normalized", role.NormalizedName), ("@stamp", role.ConcurrencyStamp),
                ("@now", now), ("@version", role.Version));
        foreach (var user in users)
        {
            // A user created (version 1) and then added to a role (version 2), as UserManager.CreateAsync and AddToRoleAsync leave it.
            await ExecuteAsync(connection, transaction,
                "INSERT INTO \"AspNetUsers\" (\"Id\", \"UserName\", \"NormalizedUserName\", \"PasswordHash\", \"SecurityStamp\", \"ConcurrencyStamp\", " +
                "\"FhirUser\", \"Active\", \"AccessFailedCount\", \"EmailConfirmed\", \"PhoneNumberConfirmed\", \"TwoFactorEnabled\", \"LockoutEnabled\", " +
                "\"Created\", \"Modified\", \"Version\") " +
                "VALUES (@id, @name, @normalized, @hash, @security, @stamp, @fhirUser, @true, 0, @false, @false, @false, @true, @now, @now, 2)", ct,
                ("@id", user.Id), ("@name", user.UserName), ("@normalized", user.NormalizedUserName), ("@hash", user.PasswordHash),
                ("@security", user.SecurityStamp), ("@stamp", user.ConcurrencyStamp), ("@fhirUser", user.FhirUser), ("@true", true),
                ("@false", false), ("@now", now));
            await ExecuteAsync(connection, transaction, "INSERT INTO \"AspNetUserRoles\" (\"UserId\", \"RoleId\") VALUES (@user, @role)", ct,
                ("@user", user.Id), ("@role", user.RoleId));
        }
        foreach (var a in applications)
            await ExecuteAsync(connection, transaction,
                "INSERT INTO \"OpenIddictApplications\" (\"Id\", \"ApplicationType\", \"ClientId\", \"ClientSecret\", \"ClientType\", \"ConcurrencyToken\", " +
                "\"ConsentType\", \"DisplayName\", \"DisplayNames\", \"JsonWebKeySet\", \"Permissions\", \"PostLogoutRedirectUris\", \"Properties\", " +
                "\"RedirectUris\", \"Requirements\", \"Settings\") " +
                "VALUES (@id, @applicationType, @clientId, @clientSecret, @clientType, @concurrency, @consentType, @displayName, @displayNames, " +
                "@jwks, @permissions, @postLogout, @properties, @redirects, @requirements, @settings)", ct,
                ("@id", a.Id), ("@applicationType", a.ApplicationType), ("@clientId", a.ClientId), ("@clientSecret", a.ClientSecret),
                ("@clientType", a.ClientType), ("@concurrency", a.ConcurrencyToken), ("@consentType", a.ConsentType), ("@displayName", a.DisplayName),
                ("@displayNames", a.DisplayNames), ("@jwks", a.JsonWebKeySet), ("@permissions", a.Permissions), ("@postLogout", a.PostLogoutRedirectUris),
                ("@properties", a.Properties), ("@redirects", a.RedirectUris), ("@requirements", a.Requirements), ("@settings", a.Settings));
        await transaction.CommitAsync(ct);
    }

    /// <summary>Whether the auth tables hold no user and no client yet (the demo users and clients only go into empty tables).</summary>
    public static async Task<bool> NoUsersNorClientsAsync(AuthDatabase database, CancellationToken ct = default)
    {
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT (SELECT count(*) FROM \"AspNetUsers\") + (SELECT count(*) FROM \"OpenIddictApplications\")";
        return Convert.ToInt64(await command.ExecuteScalarAsync(ct), System.Globalization.CultureInfo.InvariantCulture) == 0;
    }

    private static async Task ExecuteAsync(DbConnection connection, DbTransaction transaction, string sql, CancellationToken ct,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            parameter.Value = value ?? DBNull.Value;
            command.Parameters.Add(parameter);
        }
        await command.ExecuteNonQueryAsync(ct);
    }
}
