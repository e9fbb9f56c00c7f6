using System.Net;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace Ignis.Server.Auth.ClientAuthentication;

public static class ClientAuthenticationExtensions
{
    /// <summary>private_key_jwt client authentication: options, key resolution (jwks_uri), the jti replay cache and the OpenIddict steps.</summary>
    public static WebApplicationBuilder AddIgnisClientAssertions(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<ClientAssertionOptions>().Bind(builder.Configuration.GetSection(ClientAssertionOptions.Section))
            .Validate(o => o.MaxLifetime > TimeSpan.Zero, ClientAssertionOptions.Section + ":MaxLifetime must be positive, e.g. 00:05:00.")
            .Validate(o => o.ClockSkew >= TimeSpan.Zero, ClientAssertionOptions.Section + ":ClockSkew must not be negative, e.g. 00:00:30.")
            .Validate(o => o.JwksUriTimeout > TimeSpan.Zero, ClientAssertionOptions.Section + ":JwksUriTimeout must be positive, e.g. 00:00:05.")
            .Validate(o => o.JwksUriMaxBytes > 0, ClientAssertionOptions.Section + ":JwksUriMaxBytes must be positive.")
            .Validate(o => o.ReplayPruneInterval > TimeSpan.Zero, ClientAssertionOptions.Section + ":ReplayPruneInterval must be positive, e.g. 00:01:00.")
            .ValidateOnStart();
        // No redirects: the registered URL is the one trusted, and a redirect could lead anywhere.
        services.AddHttpClient(ClientKeyResolver.HttpClientName)
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                AllowAutoRedirect = false,
                AutomaticDecompression = DecompressionMethods.All,
                UseCookies = false,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            });
        services.AddSingleton<ClientKeyResolver>();
        services.AddHttpContextAccessor();
        services.AddSingleton<BackendClientCache>();
        services.AddScoped<IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication>, BackendClientAwareApplicationCache>();
        services.AddSingleton<AuthWriteBatcher>();
        services.AddHostedService(sp => sp.GetRequiredService<AuthWriteBatcher>());
        services.AddSingleton<AssertionReplayCache>();
        services.AddHostedService(sp => sp.GetRequiredService<AssertionReplayCache>());
        services.AddOpenIddict().AddServer(o =>
        {
            foreach (var handler in ClientAssertionHandlers.All) o.AddEventHandler(handler);
            o.AddEventHandler(StoreClientCredentialsAccessToken.Descriptor);
        });
        return builder;
    }
}

/// <summary>Table AuthClientAssertionJtis: used assertion ids, one row each, until their assertion expires.</summary>
public sealed class UsedClientAssertionConfiguration : IEntityTypeConfiguration<UsedClientAssertion>
{
    public void Configure(EntityTypeBuilder<UsedClientAssertion> e)
    {
        e.ToTable("AuthClientAssertionJtis");
        e.HasKey(u => u.Key);
        e.Property(u => u.Key).HasMaxLength(64);
        e.HasIndex(u => u.ExpiresAt);
    }
}
