using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Ignis.Server.Data;

/// <summary>The columns SCIM adds to users and roles (see <see cref="UserVersioning"/>).</summary>
public static class ScimModel
{
    public static void Configure(ModelBuilder builder)
    {
        builder.Entity<IgnisUser>(e =>
        {
            e.Property(u => u.ExternalId).HasMaxLength(256);
            e.HasIndex(u => u.ExternalId);
            e.Property(u => u.DisplayName).HasMaxLength(256);
            e.Property(u => u.FormattedName).HasMaxLength(512);
            e.Property(u => u.GivenName).HasMaxLength(256);
            e.Property(u => u.FamilyName).HasMaxLength(256);
            e.Property(u => u.MiddleName).HasMaxLength(256);
            e.Property(u => u.HonorificPrefix).HasMaxLength(64);
            e.Property(u => u.HonorificSuffix).HasMaxLength(64);
        });
        builder.Entity<IdentityRole>(e =>
        {
            e.Property<DateTime>(UserVersioning.RoleCreated);
            e.Property<DateTime>(UserVersioning.RoleModified);
            e.Property<long>(UserVersioning.RoleVersion).IsConcurrencyToken();
        });
    }
}
