using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Ignis.Server.Data;

/// <summary>
/// The authorization server's tables (Identity, OpenIddict, DataProtection keys, launches, sessions) in the
/// same database file as the FHIR store. The FHIR tables belong to Ignis.Fhir's own SQL migrations; these
/// tables are created and upgraded by the EF Core migrations in Data/Migrations (SQLite) and, on PostgreSQL, by
/// those of <see cref="PostgresAuthDbContext"/> in Data/Migrations/Postgres.
/// </summary>
public class AuthDbContext : IdentityDbContext<IgnisUser>, IDataProtectionKeyContext
{
    public AuthDbContext(DbContextOptions<AuthDbContext> options) : base(options) { }

    /// <summary>For the provider-specific subclasses, each with its own migrations.</summary>
    protected AuthDbContext(DbContextOptions options) : base(options) { }

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
        ClusterModel.Configure(builder);
    }
}

/// <summary>
/// The same model on PostgreSQL. EF Core keeps one migration set per context type ("Migrations with multiple
/// providers" in the EF Core docs); SQLite databases in the field keep upgrading through AuthDbContext's.
/// </summary>
public sealed class PostgresAuthDbContext(DbContextOptions<PostgresAuthDbContext> options) : AuthDbContext(options);

/// <summary>Lets dotnet-ef build the PostgreSQL model without a server (migrations are made offline).</summary>
internal sealed class PostgresAuthDbContextDesignFactory : IDesignTimeDbContextFactory<PostgresAuthDbContext>
{
    public PostgresAuthDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAuthDbContext>().UseNpgsql("Host=localhost;Database=ignis_design").UseOpenIddict().Options);
}

/// <summary>Lets dotnet-ef build the model without starting the server.</summary>
internal sealed class AuthDbContextDesignFactory : IDesignTimeDbContextFactory<AuthDbContext>
{
    public AuthDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AuthDbContext>().UseSqlite("Data Source=design.db").UseOpenIddict().Options);
}
