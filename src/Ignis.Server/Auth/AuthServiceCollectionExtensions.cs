using System.Security.Claims;
using Ignis.Fhir.Storage;
using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Auth.Mtls;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Ignis.Server.Hosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth;

public static partial class AuthServiceCollectionExtensions
{
    /// <summary>The SMART authorization server: users, OpenIddict, keys, pages and their services.</summary>
    public static WebApplicationBuilder AddIgnisAuth(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>().Bind(builder.Configuration.GetSection(AuthOptions.Section))
            .Validate(o => o.AccessTokenLifetime > TimeSpan.Zero, "Ignis:Auth:AccessTokenLifetime must be positive, e.g. 01:00:00.")
            .Validate(o => o.OfflineRefreshTokenLifetime > TimeSpan.Zero, "Ignis:Auth:OfflineRefreshTokenLifetime must be positive, e.g. 90.00:00:00.")
            .Validate(o => o.OnlineRefreshTokenLifetime > TimeSpan.Zero, "Ignis:Auth:OnlineRefreshTokenLifetime must be positive, e.g. 12:00:00.")
            .Validate(o => o.PruneInterval > TimeSpan.Zero, "Ignis:Auth:PruneInterval must be positive, e.g. 01:00:00.")
            .Validate(o => o.AccessTokenSigningAlgorithm is SecurityAlgorithms.RsaSha256 or SecurityAlgorithms.EcdsaSha256,
                "Ignis:Auth:AccessTokenSigningAlgorithm must be RS256 or ES256.")
            .ValidateOnStart();
        services.TryAddSingletonTimeProvider();
        builder.Logging.AddFilter("Microsoft.EntityFrameworkCore", LogLevel.Warning);
        builder.Logging.AddFilter("OpenIddict", LogLevel.Warning);

        builder.AddAuthDatabase();
        // The key ring in the auth tables' DataProtectionKeys, through plain SQL (DataProtectionKeyRepository).
        services.AddDataProtection().SetApplicationName("Ignis");
        services.AddSingleton<IConfigureOptions<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>>(sp =>
            new ConfigureOptions<Microsoft.AspNetCore.DataProtection.KeyManagement.KeyManagementOptions>(
                o => o.XmlRepository = new DataProtectionKeyRepository(sp.GetRequiredService<AuthDatabase>())));

        services.AddIdentity<IgnisUser, IdentityRole>(o =>
            {
                o.Password.RequireDigit = false;
                o.Password.RequireUppercase = false;
                o.Password.RequireNonAlphanumeric = false;
                o.Password.RequiredLength = 8;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(5);
                o.Lockout.AllowedForNewUsers = true;
                o.User.RequireUniqueEmail = false;
                o.ClaimsIdentity.UserIdClaimType = Claims.Subject;
                o.ClaimsIdentity.UserNameClaimType = Claims.Name;
                o.ClaimsIdentity.RoleClaimType = Claims.Role;
            })
            .AddEntityFrameworkStores<AuthDbContext>()
            .AddDefaultTokenProviders();
        services.ConfigureApplicationCookie(o =>
        {
            o.Cookie.Name = "ignis.session";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Lax;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.LoginPath = AuthPages.Login;
            o.LogoutPath = AuthPages.Logout;
            o.AccessDeniedPath = AuthPages.Login;
            o.SlidingExpiration = true;
            o.Events.OnValidatePrincipal = SessionValidation.ValidateAsync;
        });
        services.AddOptions<CookieAuthenticationOptions>(IdentityConstants.ApplicationScheme)
            .Configure<IOptions<AuthOptions>>((o, auth) => o.ExpireTimeSpan = auth.Value.SessionLifetime);
        // The security stamp validator rebuilds the cookie principal from the user; keep the session id on it.
        services.Configure<SecurityStampValidatorOptions>(o => o.OnRefreshingPrincipal = context =>
        {
            if (context.CurrentPrincipal?.FindFirst(SmartPrincipalFactory.SessionClaim) is { } sid
                && context.NewPrincipal?.Identity is ClaimsIdentity identity)
                identity.AddClaim(new Claim(SmartPrincipalFactory.SessionClaim, sid.Value));
            return Task.CompletedTask;
        });

        services.AddOpenIddict()
            .AddCore(o =>
            {
                o.UseEntityFrameworkCore().UseDbContext<AuthDbContext>();
                // The token requests' rows as plain SQL; everything else through OpenIddict's EF Core store (TokenStore).
                o.ReplaceTokenStore<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken, TokenStore>(ServiceLifetime.Scoped);
                o.ReplaceAuthorizationStore<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreAuthorization, AuthorizationStore>(ServiceLifetime.Scoped);
                o.ReplaceTokenManager<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken, IgnisTokenManager>();
            })
            .AddServer(o =>
            {
                o.SetAuthorizationEndpointUris(AuthEndpoints.Authorize[1..])
                    .SetTokenEndpointUris(AuthEndpoints.Token[1..])
                    .SetIntrospectionEndpointUris(AuthEndpoints.Introspect[1..])
                    .SetRevocationEndpointUris(AuthEndpoints.Revoke[1..])
                    .SetUserInfoEndpointUris(AuthEndpoints.UserInfo[1..])
                    .SetEndSessionEndpointUris(AuthEndpoints.Logout[1..])
                    .SetJsonWebKeySetEndpointUris(AuthEndpoints.Jwks[1..])
                    .SetConfigurationEndpointUris(".well-known/openid-configuration");
                o.AllowAuthorizationCodeFlow().AllowRefreshTokenFlow().AllowClientCredentialsFlow();
                // SMART 2.2: S256 only.
                o.Configure(options => options.CodeChallengeMethods.Remove(CodeChallengeMethods.Plain));
                // SMART scopes are open-ended (any resource type, granular queries): SmartScopes filters them.
                o.DisableScopeValidation().IgnoreScopePermissions();
                o.RegisterScopes([.. SmartScopes.Fixed, SmartScopes.Introspect, .. SmartScopes.AdvertisedResourceScopes]);
                // A used refresh token is never accepted again; presenting it revokes the whole grant (RFC 9700 §4.14.2).
                o.SetRefreshTokenReuseLeeway(null);
                // Other resource servers must be able to read access tokens (RFC 9068 JWTs signed RS256).
                o.DisableAccessTokenEncryption();
                // Refresh tokens are random ids; their payload stays in the token table (codes always are).
                o.UseReferenceRefreshTokens();
                o.RemoveEventHandler(OpenIddictServerHandlers.InferEndpointType.Descriptor).AddEventHandler(InferEndpointTypeByPath.Descriptor);
                foreach (var handler in SmartServerHandlers.Replaced) o.RemoveEventHandler(handler);
                foreach (var handler in SmartServerHandlers.All) o.AddEventHandler(handler);
                o.AddEventHandler(AccessTokenSigning.Descriptor);
                o.AddEventHandler(IdTokenOnRefresh.Descriptor);
                foreach (var handler in TokenWriteBatch.Descriptors) o.AddEventHandler(handler);
                o.UseAspNetCore()
                    .EnableAuthorizationEndpointPassthrough()
                    .EnableTokenEndpointPassthrough()
                    .EnableUserInfoEndpointPassthrough()
                    .EnableEndSessionEndpointPassthrough()
                    // Authorize errors that cannot go back to the app are shown by the /authorize/error page.
                    .EnableStatusCodePagesIntegration()
                    // Plain http is limited to loopback (or allowed by Ignis:Auth:AllowInsecureHttp) by TransportPolicy.
                    .DisableTransportSecurityRequirement()
                    // Compact JSON, as token endpoints usually answer.
                    .SuppressJsonResponseIndentation();
            })
            // The resource server in the same process: signature, issuer and lifetime from the local server's keys;
            // token entry validation so a revoked or refreshed-away token stops working at once.
            .AddValidation(o =>
            {
                o.UseLocalServer();
                o.UseAspNetCore();
                o.EnableTokenEntryValidation();
            });
        services.Replace(ServiceDescriptor.Scoped(typeof(OpenIddict.Abstractions.IOpenIddictTokenCache<>), typeof(LazyTokenCache<>)));
        services.Replace(ServiceDescriptor.Scoped(typeof(OpenIddict.Abstractions.IOpenIddictAuthorizationCache<>), typeof(LazyAuthorizationCache<>)));
        services.AddSingleton<KeyRing>();
        services.AddSingleton<PreparedReads>();
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddictServerOptions>, ServerKeysChangeTokenSource>();
        services.AddSingleton<IOptionsChangeTokenSource<OpenIddict.Validation.OpenIddictValidationOptions>, ValidationKeysChangeTokenSource>();
        services.Replace(ServiceDescriptor.Scoped<IOpenIddictServerDispatcher, IndexedServerDispatcher>());
        services.AddSingleton(new ServerHandlerInstances.Registrations(services));
        services.AddSingleton<ServerHandlerInstances>();
        services.AddOptions<OpenIddictServerOptions>()
            .Configure<IOptions<IgnisOptions>, IOptions<AuthOptions>, KeyRing>((o, ignis, auth, ring) =>
            {
                var keys = ring.Current;
                o.SigningCredentials.Add(new SigningCredentials(keys.Signing, SecurityAlgorithms.RsaSha256));
                // For codes and refresh tokens only; SmartServerHandlers.ProtectInternalTokens picks the key per token type.
                o.SigningCredentials.Add(new SigningCredentials(keys.InternalSigning, SecurityAlgorithms.HmacSha256));
                // The RSA key stays first: it signs id tokens (and access tokens unless ES256 is chosen, see AccessTokenSigning).
                if (keys.Ec is { } ec) o.SigningCredentials.Add(new SigningCredentials(ec, SecurityAlgorithms.EcdsaSha256));
                // Retired keys (ignis keys rotate) stay published and accepted until they are deleted (files) or the
                // tokens they signed have expired (PostgreSQL); on PostgreSQL the next key of a rotation is published early.
                foreach (var other in keys.Published) o.SigningCredentials.Add(new SigningCredentials(other, SecurityAlgorithms.RsaSha256));
                o.EncryptionCredentials.Add(new EncryptingCredentials(keys.Encryption, SecurityAlgorithms.Aes256KW, SecurityAlgorithms.Aes256CbcHmacSha512));
                o.AccessTokenLifetime = auth.Value.AccessTokenLifetime;
                o.RefreshTokenLifetime = auth.Value.OfflineRefreshTokenLifetime;
                o.AuthorizationCodeLifetime = auth.Value.AuthorizationCodeLifetime;
                foreach (var scope in auth.Value.ExtraScopes) o.Scopes.Add(scope);
                if (ignis.Value.PublicBaseUrl is { Length: > 0 } origin) o.Issuer = new Uri(origin.TrimEnd('/') + "/");
            });

        services.AddScoped<AuthorizeEndpoint>();
        services.AddScoped<TokenEndpoint>();
        services.AddScoped<ClientCredentialsGrant>();
        services.AddScoped<SmartPrincipalFactory>();
        services.AddScoped<LaunchService>();
        services.AddScoped<GrantRevocation>();
        Clients.ClientsServiceCollectionExtensions.AddIgnisClients(builder);
        services.AddSingleton<AuthorizationTickets>();
        services.AddSingleton<SmartDiscovery>();
        services.AddSingleton<ICapabilityContributor>(sp => sp.GetRequiredService<SmartDiscovery>());
        services.AddHostedService<TokenPruning>();
        services.AddSingleton<ClusterSignals>();
        services.AddHostedService(sp => sp.GetRequiredService<ClusterSignals>());
        builder.AddIgnisClientAssertions();
        builder.AddIgnisMtls();
        External.ExternalIdentityServiceCollectionExtensions.AddIgnisExternalIdentities(builder);

        // The pages live in this assembly, which is not the entry assembly when tests host the server.
        services.AddRazorPages().AddApplicationPart(typeof(AuthServiceCollectionExtensions).Assembly);
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = "ignis.antiforgery";
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.FormFieldName = "__RequestVerificationToken";
        });
        return builder;
    }

    /// <summary>Reads the form (ASP.NET Core keeps it for OpenIddict); a form it cannot read is left to OpenIddict to refuse.</summary>
    private static async Task<bool> IsClientCredentialsAsync(HttpRequest request)
    {
        if (!request.HasFormContentType) return false;
        try
        {
            return (await request.ReadFormAsync(request.HttpContext.RequestAborted))[Parameters.GrantType] == GrantTypes.ClientCredentials;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or BadHttpRequestException)
        {
            return false;
        }
    }

    private static void TryAddSingletonTimeProvider(this IServiceCollection services)
    {
        if (services.All(d => d.ServiceType != typeof(TimeProvider))) services.AddSingleton(TimeProvider.System);
    }

    /// <summary>Security headers, the http policy and authentication, in front of every endpoint.</summary>
    public static WebApplication UseIgnisAuth(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeaders>();
        app.UseMiddleware<TransportPolicy>();
        // RFC 6749 §4.1.2.1: an authorize request whose client or redirect_uri is not genuine is not redirected; OpenIddict
        // leaves its 400 to the status code pages, which re-execute the request on the error page. Only the authorize and
        // logout endpoints use them. (In a UseWhen branch the re-executed request is not routed again and ends in a 404.)
        app.UseStatusCodePagesWithReExecute(AuthPages.Error);
        app.Use((http, next) =>
        {
            if (!http.Request.Path.StartsWithSegments(AuthEndpoints.Authorize) && !http.Request.Path.StartsWithSegments(AuthEndpoints.Logout)
                && http.Features.Get<IStatusCodePagesFeature>() is { } pages)
                pages.Enabled = false;
            return next(http);
        });
        // A code or refresh token request makes about ten statements through EF Core and OpenIddict's stores; one
        // connection for all of them instead of one pool round trip (and pragma) each. A client_credentials request
        // makes none (its client is cached, its writes batched): it skips this. So does every token request on SQLite,
        // whose reads run on kept connections with prepared statements (PreparedReads) and whose writes go to the writer.
        app.UseWhen(http => http.Request.Path.StartsWithSegments(AuthEndpoints.Token), branch => branch.Use(async (http, next) =>
        {
            var prepared = http.RequestServices.GetRequiredService<PreparedReads>().Enabled;
            var clientCredentials = !prepared && await IsClientCredentialsAsync(http.Request);
            // Announced to the token writer, which may hold a ready group briefly for this request's rows: on SQLite
            // every token request's rows go through it, on PostgreSQL those of client_credentials.
            using var expected = prepared || clientCredentials ? http.RequestServices.GetRequiredService<AuthWriteBatcher>().Expect() : null;
            if (!prepared && !clientCredentials)
                await http.RequestServices.GetRequiredService<AuthDbContext>().Database.OpenConnectionAsync(http.RequestAborted);
            await next(http);
        }).Use(AuthenticateTokenRequestAsync).UseAuthorization());
        // The FHIR API authenticates its bearer token itself (FhirAuthentication); the authentication middleware
        // would run OpenIddict's request pipeline and the cookie handler on every FHIR request, which cost more
        // CPU than the read itself (measured: /healthz at 0.05 ms of CPU per request with it).
        app.UseWhen(http => !http.Request.Path.StartsWithSegments(AuthEndpoints.Token)
                && (!http.Request.Path.StartsWithSegments(FhirEndpoints.BasePath) || http.Request.Path.StartsWithSegments(FhirEndpoints.BasePath + "/.well-known")),
            branch =>
            {
                branch.UseAuthentication();
                branch.UseAuthorization();
            });
        // WebApplication adds both middlewares in front of everything unless it sees them added on the app itself;
        // in a branch it does not, so say so (the keys ASP.NET Core's WebApplicationBuilder checks).
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
        ((IApplicationBuilder)app).Properties["__AuthorizationMiddlewareSet"] = true;
        return app;
    }

    /// <summary>
    /// The authentication middleware's work for a token request: OpenIddict's server extracts and validates it (and answers
    /// it when it is rejected). Nothing at the token endpoint reads the signed-in cookie user or authenticates with the
    /// validation handler, whose request pipeline the full middleware ran on every token request too (1.1 % of the CPU of
    /// a backend-services token, docs/benchmarks.md), followed by the cookie handler.
    /// </summary>
    private static async Task AuthenticateTokenRequestAsync(HttpContext http, RequestDelegate next)
    {
        var handlers = http.RequestServices.GetRequiredService<IAuthenticationHandlerProvider>();
        if (await handlers.GetHandlerAsync(http, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme) is IAuthenticationRequestHandler server
            && await server.HandleRequestAsync())
            return;
        await next(http);
    }

    public static WebApplication MapIgnisAuth(this WebApplication app)
    {
        app.MapIgnisAuthEndpoints();
        External.ExternalIdentityServiceCollectionExtensions.MapIgnisExternalIdentities(app);
        app.MapGet(SecurityHeaders.StylesheetPath, () => Results.Text(SecurityHeaders.Stylesheet, "text/css"));
        app.MapRazorPages();
        return app;
    }

    /// <summary>
    /// Creates or upgrades the auth tables (EF Core migrations) and seeds the demo users and clients when
    /// <paramref name="seedDemo"/> (known once the FHIR side has seeded, which runs meanwhile) says so.
    /// </summary>
    public static async Task InitializeIgnisAuthAsync(this WebApplication app, Task<bool> seedDemo)
    {
        using var scope = app.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<AuthDbContext>();
        var logger = scope.ServiceProvider.GetRequiredService<ILoggerFactory>().CreateLogger("Ignis.Startup");
        var database = scope.ServiceProvider.GetRequiredService<AuthDatabase>();
        if (!database.IsPostgres)
        {
            // Without EF Core when the database is new or up to date (AuthSchema).
            var applied = await AuthSchema.AppliedAsync(database);
            var pending = AuthSchema.SqliteMigrations.Count(id => !applied.Contains(id));
            if (applied.Count == 0) await AuthSchema.CreateAsync(database);
            else if (pending > 0) await db.Database.MigrateAsync();
            if (pending > 0) LogAuthMigrated(logger, pending);
        }
        else
        {
            // Asking a new PostgreSQL database for its applied migrations logs an error (no history table yet): look first.
            var pending = await database.HasMigrationHistoryAsync()
                ? (await db.Database.GetPendingMigrationsAsync()).ToList()
                : db.Database.GetMigrations().ToList();
            if (pending.Count > 0)
            {
                await db.Database.MigrateAsync();
                LogAuthMigrated(logger, pending.Count);
            }
        }
        // While start-up holds the cluster lock (PostgreSQL): the first node makes the signing keys and the Data
        // Protection key, the others read them, rather than each making its own.
        _ = scope.ServiceProvider.GetRequiredService<KeyRing>().Current;
        scope.ServiceProvider.GetRequiredService<IDataProtectionProvider>().CreateProtector("Ignis.Startup").Protect([0]);
        if (await seedDemo && await DemoAuthRows.NoUsersNorClientsAsync(scope.ServiceProvider.GetRequiredService<AuthDatabase>()))
        {
            await DemoAuthData.SeedAsync(scope.ServiceProvider);
            LogAuthSeeded(logger);
        }
    }

    [LoggerMessage(EventId = 3000, Level = LogLevel.Information, Message = "Auth tables: applied {Count} migrations")]
    private static partial void LogAuthMigrated(ILogger logger, int count);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Demo users and clients seeded")]
    private static partial void LogAuthSeeded(ILogger logger);
}
