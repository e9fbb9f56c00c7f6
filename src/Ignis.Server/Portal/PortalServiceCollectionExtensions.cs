using Ignis.Server.Audit;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Portal;

public static class PortalServiceCollectionExtensions
{
    public const string AdminPolicy = "admin";
    public const string DeveloperPolicy = "developer";
    public const string ClinicianPolicy = "clinician";
    public const string DeniedPath = "/account/denied";

    /// <summary>
    /// The pages people use (account, connected apps, developer portal, admin, launcher), their services and
    /// who may open them; the security log that records what happens on them and at the OAuth endpoints.
    /// </summary>
    public static WebApplicationBuilder AddIgnisPortal(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<SecurityLog>();
        services.AddOptions<SecurityLogOptions>().Bind(builder.Configuration.GetSection(SecurityLogOptions.Section));
        services.AddHostedService<SecurityLogWriter>();
        services.AddScoped<SecurityLogQuery>();
        services.AddOpenIddict().AddServer(o =>
        {
            foreach (var handler in SecurityLogHandlers.All) o.AddEventHandler(handler);
        });

        services.AddScoped<SessionService>();
        services.AddScoped<ConnectedApps>();
        services.AddScoped<AccountService>();
        services.AddScoped<UserAdministration>();
        services.AddScoped<AdminOverview>();
        services.AddScoped<Launcher>();
        services.AddScoped<ClientUsage>();
        services.AddScoped<DeveloperApps>();
        services.AddScoped<ClientAdministration>();
        services.AddScoped<LaunchTester>();
        services.AddHttpClient(LaunchTester.HttpClientName, c => c.Timeout = TimeSpan.FromSeconds(30))
            .ConfigurePrimaryHttpMessageHandler(() => new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false });

        services.AddAuthorizationBuilder()
            .AddPolicy(AdminPolicy, p => p.RequireRole(IgnisRoles.Admin))
            .AddPolicy(DeveloperPolicy, p => p.RequireRole(IgnisRoles.Developer, IgnisRoles.Admin))
            .AddPolicy(ClinicianPolicy, p => p.RequireRole(IgnisRoles.Clinician));
        services.Configure<RazorPagesOptions>(o =>
        {
            o.Conventions.AuthorizeFolder("/Account");
            o.Conventions.AuthorizeFolder("/Admin", AdminPolicy);
            o.Conventions.AuthorizeFolder("/Developer", DeveloperPolicy);
            o.Conventions.AuthorizeFolder("/Launcher");
            o.Conventions.AuthorizePage("/Launcher/Index", ClinicianPolicy);
            o.Conventions.AuthorizePage("/Launcher/Standalone", DeveloperPolicy);
        });
        services.PostConfigure<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme, o => o.AccessDeniedPath = DeniedPath);
        services.PostConfigure<Microsoft.AspNetCore.Antiforgery.AntiforgeryOptions>(o => o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest);
        return builder;
    }
}
