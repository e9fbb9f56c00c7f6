using Ignis.Server.Data;
using Ignis.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.Extensions.DependencyInjection;

namespace Ignis.Server.Tests.Scim;

/// <summary>The Scim migration upgrades a database whose users predate it: they stay active, with a version and dates.</summary>
public sealed class ScimMigrationTests
{
    [Fact]
    public async Task Users_and_roles_from_before_the_migration_are_active_and_versioned_after_it()
    {
        // The SQLite migrations' upgrade path (databases in the field); PostgreSQL started with the Scim columns.
        await using var server = await IgnisServer.StartAsync("--Ignis:Storage:Provider=sqlite");
        using var scope = server.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var migrator = db.GetInfrastructure().GetRequiredService<IMigrator>();
        var migrations = db.Database.GetMigrations().ToList();
        var scim = migrations.Single(m => m.EndsWith("_Scim", StringComparison.Ordinal));
        var before = migrations[migrations.IndexOf(scim) - 1];

        await migrator.MigrateAsync(before);
        await db.Database.ExecuteSqlRawAsync("""
            INSERT INTO AspNetUsers (Id, UserName, NormalizedUserName, EmailConfirmed, PhoneNumberConfirmed, TwoFactorEnabled, LockoutEnabled, AccessFailedCount)
            VALUES ('old-user', 'old', 'OLD', 0, 0, 0, 1, 0);
            INSERT INTO AspNetRoles (Id, Name, NormalizedName) VALUES ('old-role', 'admin', 'ADMIN');
            """);
        await migrator.MigrateAsync();

        var user = await db.Users.AsNoTracking().SingleAsync(u => u.Id == "old-user");
        user.Active.ShouldBeTrue();
        user.Version.ShouldBe(1);
        user.Created.ShouldBe(DateTime.UtcNow, TimeSpan.FromMinutes(5));
        user.Modified.ShouldBe(user.Created);
        var role = await db.Roles.SingleAsync(r => r.Id == "old-role");
        db.Entry(role).Property<long>(UserVersioning.RoleVersion).CurrentValue.ShouldBe(1);
        db.Entry(role).Property<DateTime>(UserVersioning.RoleCreated).CurrentValue.ShouldBe(DateTime.UtcNow, TimeSpan.FromMinutes(5));
        (await scope.ServiceProvider.GetRequiredService<SignInManager<IgnisUser>>().CanSignInAsync(user)).ShouldBeTrue();
    }
}
