using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Scim.Groups;
using Ignis.Server.Scim.Users;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace Ignis.Server.Scim;

public static class ScimServiceCollectionExtensions
{
    /// <summary>The SCIM 2.0 service and what it relies on in the user store. Call after AddIgnisAuth.</summary>
    public static WebApplicationBuilder AddIgnisScim(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ScimOptions>().Bind(builder.Configuration.GetSection(ScimOptions.Section))
            .Validate(o => o.MaxResults > 0, "Ignis:Scim:MaxResults must be a positive number, e.g. 200.")
            .Validate(o => o.MaxFilterCandidates > 0, "Ignis:Scim:MaxFilterCandidates must be a positive number, e.g. 10000.")
            .Validate(o => o.MaxBodyBytes > 0, "Ignis:Scim:MaxBodyBytes must be a positive number of bytes.")
            .ValidateOnStart();
        services.AddScoped<ScimUserService>();
        services.AddScoped<ScimGroupService>();
        services.AddScoped<ScimRoles>();

        // Created, Modified and Version of users and roles, whoever changes them.
        services.AddSingleton<UserVersioning>();
        services.ConfigureDbContext<AuthDbContext>((sp, o) => o.AddInterceptors(sp.GetRequiredService<UserVersioning>()));
        // A disabled account (SCIM active=false) cannot sign in or refresh: Identity asks IUserConfirmation first.
        services.Configure<IdentityOptions>(o => o.SignIn.RequireConfirmedAccount = true);
        services.AddScoped<IUserConfirmation<IgnisUser>, ActiveUserConfirmation>();
        // Tokens granted the scim scope name the SCIM service in their audience.
        services.AddOpenIddict().AddServer(o => o.AddEventHandler(ScimTokenAudience.Descriptor));
        return builder;
    }
}
