using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Ignis.Server.Data;

/// <summary>
/// The authorization server's tables (Identity, OpenIddict, DataProtection keys, launches, sessions) in the
/// same database file as the FHIR store. The FHIR tables belong to Ignis.Fhir's own SQL migrations; these
/// tables are created and upgraded by the EF Core migrations in Data/Migrations.
/// </summary>
public sealed class AuthDbContext(DbContextOptions<AuthDbContext> options)
    : IdentityDbContext<IgnisUser>(options), IDataProtectionKeyContext
{
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<LaunchContext> Launches => Set<LaunchContext>();
    public DbSet<UserSession> Sessions => Set<UserSession>();

    protected override void OnModelCreating(ModelBuilder builder)
    {
        base.OnModelCreating(builder);
        builder.UseOpenIddict();
        builder.Entity<IgnisUser>().Property(u => u.FhirUser).HasMaxLength(256);
        ScimModel.Configure(builder);
        builder.Entity<LaunchContext>(e =>
        {
            e.ToTable("AuthLaunches");
            e.HasKey(l => l.Id);
            e.Property(l => l.Id).HasMaxLength(64);
            e.Property(l => l.UserId).HasMaxLength(450);
            e.Property(l => l.ClientId).HasMaxLength(256);
            e.HasIndex(l => l.ExpiresAt);
        });
        builder.Entity<UserSession>(e =>
        {
            e.ToTable("AuthSessions");
            e.HasKey(s => s.Id);
            e.Property(s => s.Id).HasMaxLength(64);
            e.Property(s => s.IpAddress).HasMaxLength(64);
            e.Property(s => s.UserAgent).HasMaxLength(256);
            e.HasIndex(s => s.UserId);
        });
        builder.ApplyConfiguration(new Auth.ClientAuthentication.UsedClientAssertionConfiguration());
    }
}

/// <summary>Lets dotnet-ef build the model without starting the server.</summary>
internal sealed class AuthDbContextDesignFactory : IDesignTimeDbContextFactory<AuthDbContext>
{
    public AuthDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AuthDbContext>().UseSqlite("Data Source=design.db").UseOpenIddict().Options);
}
