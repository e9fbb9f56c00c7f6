using Ignis.Server.Hosting;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.Clients;

public static class ClientsServiceCollectionExtensions
{
    /// <summary>
    /// The client registry (with OpenIddict's application manager replaced by <see cref="IgnisApplicationManager"/>),
    /// dynamic registration, the legacy grants (switched on server-wide by Ignis:Auth:LegacyGrants) and the lockout settings.
    /// </summary>
    public static WebApplicationBuilder AddIgnisClients(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>()
            .PostConfigure<IOptions<IgnisOptions>>((o, ignis) => o.Registration.Open ??= ignis.Value.Demo)
            .Validate(o => o.Registration.InitialAccessTokens.All(t => t.Length >= 20),
                "Ignis:Auth:Registration:InitialAccessTokens: each token must be at least 20 characters (use long random strings).")
            .Validate(o => o.Registration.SecretRotationGracePeriod >= TimeSpan.Zero,
                "Ignis:Auth:Registration:SecretRotationGracePeriod cannot be negative, e.g. 1.00:00:00.")
            .Validate(o => o.Registration.ClientSecretLifetime is null || o.Registration.ClientSecretLifetime > TimeSpan.Zero,
                "Ignis:Auth:Registration:ClientSecretLifetime must be positive (e.g. 365.00:00:00) or unset for secrets that do not expire.")
            .Validate(o => o.LegacyGrants.PasswordRateLimit > 0, "Ignis:Auth:LegacyGrants:PasswordRateLimit must be at least 1.")
            .Validate(o => o.LegacyGrants.PasswordRateWindow > TimeSpan.Zero, "Ignis:Auth:LegacyGrants:PasswordRateWindow must be positive, e.g. 00:01:00.")
            .Validate(o => o.Lockout.MaxFailedAttempts > 0, "Ignis:Auth:Lockout:MaxFailedAttempts must be at least 1.")
            .Validate(o => o.Lockout.Duration > TimeSpan.Zero, "Ignis:Auth:Lockout:Duration must be positive, e.g. 00:05:00.")
            .Validate(o => o.Lockout.Window > TimeSpan.Zero, "Ignis:Auth:Lockout:Window must be positive, e.g. 00:15:00.");

        // The legacy grants exist server-wide only when switched on; each client still needs an administrator to enable it.
        services.AddOptions<OpenIddictServerOptions>().Configure<IOptions<AuthOptions>>((o, auth) =>
        {
            if (auth.Value.LegacyGrants.Password) o.GrantTypes.Add(GrantTypes.Password);
            if (auth.Value.LegacyGrants.Implicit)
            {
                o.GrantTypes.Add(GrantTypes.Implicit);
                o.ResponseTypes.Add(ResponseTypes.Token);
            }
        });
        services.AddOptions<IdentityOptions>().Configure<IOptions<AuthOptions>>((o, auth) =>
        {
            o.Lockout.MaxFailedAccessAttempts = auth.Value.Lockout.MaxFailedAttempts;
            o.Lockout.DefaultLockoutTimeSpan = auth.Value.Lockout.Duration;
        });

        services.AddOpenIddict()
            .AddCore(o => o.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication, IgnisApplicationManager>())
            .AddServer(o =>
            {
                foreach (var handler in ClientServerHandlers.All) o.AddEventHandler(handler);
            });
        services.AddScoped(sp => (IgnisApplicationManager)sp.GetRequiredService<OpenIddict.Core.OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>>());
        services.AddScoped<ClientRegistry>();
        services.AddScoped<RegistrationEndpoint>();
        services.AddScoped<PasswordGrant>();
        services.AddSingleton<PasswordGrantLimiter>();
        return builder;
    }

    /// <summary>RFC 7591 registration and RFC 7592 management.</summary>
    public static IEndpointRouteBuilder MapClientRegistration(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup(RegistrationEndpoint.Path).DisableAntiforgery();
        group.MapPost("", (HttpContext http, RegistrationEndpoint endpoint) => endpoint.RegisterAsync(http));
        group.MapGet("/{clientId}", (HttpContext http, string clientId, RegistrationEndpoint endpoint) => endpoint.ReadAsync(http, clientId));
        group.MapPut("/{clientId}", (HttpContext http, string clientId, RegistrationEndpoint endpoint) => endpoint.UpdateAsync(http, clientId));
        group.MapDelete("/{clientId}", (HttpContext http, string clientId, RegistrationEndpoint endpoint) => endpoint.DeleteAsync(http, clientId));
        return app;
    }
}
