using Ignis.Server.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Data;

public static class AuthDatabaseExtensions
{
    private static readonly AuthConnectionSettings SqliteSettings = new();

    /// <summary>
    /// The auth tables' <see cref="AuthDbContext"/> on the configured provider (Ignis:Storage:Provider), and the
    /// <see cref="AuthDatabase"/> for hand-written statements and cluster locks.
    /// </summary>
    public static WebApplicationBuilder AddAuthDatabase(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(sp => AuthDatabase.Create(sp.GetRequiredService<IOptions<IgnisOptions>>().Value));
        var provider = AuthDatabase.ParseProvider(builder.Configuration[$"{IgnisOptions.Section}:Storage:Provider"]);
        // Pooled: every OAuth request uses a context (OpenIddict, Identity); creating one each time cost ~7 % of a
        // backend-services token request's CPU.
        if (provider == StorageProvider.Postgres)
            services.AddDbContextPool<AuthDbContext, PostgresAuthDbContext>((sp, o) =>
            {
                o.UseNpgsql(sp.GetRequiredService<AuthDatabase>().DataSource!);
                o.UseOpenIddict();
                // What the rest of the server configures for AuthDbContext (ConfigureDbContext<AuthDbContext>, e.g. the
                // SCIM versioning interceptor) applies to the PostgreSQL context too.
                foreach (var configuration in sp.GetServices<IDbContextOptionsConfiguration<AuthDbContext>>()) configuration.Configure(sp, o);
            });
        else
            services.AddDbContextPool<AuthDbContext>((sp, o) =>
            {
                o.UseSqlite(sp.GetRequiredService<AuthDatabase>().ConnectionString);
                o.AddInterceptors(SqliteSettings);
                o.UseOpenIddict();
            });
        return builder;
    }
}
