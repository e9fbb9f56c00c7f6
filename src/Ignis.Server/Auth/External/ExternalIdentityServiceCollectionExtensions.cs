using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Client;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.External;

/// <summary>
/// External identities: trusted issuers of JWT bearer tokens for the FHIR API, and delegated sign-in with other
/// identity providers. The providers' side of OAuth (authorization code with PKCE, state, nonce, the id token and
/// userinfo checks, the presets for Google, Microsoft and Facebook) is OpenIddict's client, of the same OpenIddict 7.8
/// family as the server; its state tokens live in the same token table.
/// </summary>
public static class ExternalIdentityServiceCollectionExtensions
{
    /// <summary>The callback (redirect_uri) of the provider named <paramref name="name"/>: {origin}/account/external/{name}/callback.</summary>
    public static string CallbackPath(string name) => $"/account/external/{name}/callback";

    public static WebApplicationBuilder AddIgnisExternalIdentities(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var section = builder.Configuration.GetSection(ExternalIdentityOptions.Section);
        services.AddOptions<ExternalIdentityOptions>().Bind(section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ExternalIdentityOptions>, ExternalIdentityOptionsValidation>();
        services.AddSingleton<ExternalBearerTokens>();
        services.AddSingleton<ExternalProviderList>();
        services.AddScoped<ExternalSignIn>();

        // The OpenIddict client exists only when a provider is configured: nothing changes for servers without one.
        var configured = section.Get<ExternalIdentityOptions>() ?? new ExternalIdentityOptions();
        if (configured.Problems().ToList() is { Count: > 0 } problems)
            throw new OptionsValidationException(ExternalIdentityOptions.Section, typeof(ExternalIdentityOptions), problems);
        var providers = configured.Providers.Where(p => ExternalIdentityOptions.NamePattern().IsMatch(p.Key)).ToList();
        if (providers.Count == 0) return builder;

        services.AddOpenIddict().AddClient(o =>
        {
            o.AllowAuthorizationCodeFlow();
            o.SetRedirectionEndpointUris([.. providers.Select(p => CallbackPath(p.Key)[1..])]);
            o.UseAspNetCore()
                .EnableRedirectionEndpointPassthrough()
                // The callback endpoint shows the provider's errors (access_denied, a bad state) on the sign-in page.
                .EnableErrorPassthrough()
                // Plain http is limited to loopback (or allowed by Ignis:Auth:AllowInsecureHttp) by TransportPolicy.
                .DisableTransportSecurityRequirement()
                // The registrations are reached by their id, not as authentication schemes of their own.
                .DisableAutomaticAuthenticationSchemeForwarding()
                // The callback is a top-level GET (response_mode=query, below), so Lax is enough; Secure when served over https.
                .Configure(a => a.CookieBuilder = new CookieBuilder
                {
                    HttpOnly = true,
                    IsEssential = true,
                    SameSite = SameSiteMode.Lax,
                    SecurePolicy = CookieSecurePolicy.SameAsRequest,
                    Name = "ignis.external",
                });
            o.UseSystemNetHttp();

            var web = o.UseWebProviders();
            foreach (var (name, p) in providers)
            {
                var redirect = CallbackPath(name)[1..];
                switch (p.Type)
                {
                    case ExternalProviderType.Google:
                        web.AddGoogle(g => g.SetRegistrationId(name).SetProviderName(name).SetProviderDisplayName(DisplayName(name, p))
                            .SetClientId(p.ClientId!).SetClientSecret(p.ClientSecret ?? "").SetRedirectUri(redirect)
                            .AddScopes([.. p.Scopes.Where(s => s != Scopes.OpenId)]).AddResponseModes(ResponseModes.Query));
                        break;
                    case ExternalProviderType.Microsoft:
                        web.AddMicrosoft(m => m.SetRegistrationId(name).SetProviderName(name).SetProviderDisplayName(DisplayName(name, p))
                            .SetClientId(p.ClientId!).SetClientSecret(p.ClientSecret ?? "").SetRedirectUri(redirect)
                            .SetTenant(p.Tenant ?? "common")
                            .AddScopes([.. p.Scopes.Where(s => s != Scopes.OpenId)]).AddResponseModes(ResponseModes.Query));
                        break;
                    case ExternalProviderType.Facebook:
                        web.AddFacebook(f => f.SetRegistrationId(name).SetProviderName(name).SetProviderDisplayName(DisplayName(name, p))
                            .SetClientId(p.ClientId!).SetClientSecret(p.ClientSecret ?? "").SetRedirectUri(redirect)
                            .AddScopes("email", "public_profile").AddFields("email", "name", "first_name", "last_name")
                            .AddResponseModes(ResponseModes.Query));
                        break;
                    default:
                        var registration = new OpenIddictClientRegistration
                        {
                            RegistrationId = name,
                            ProviderName = name,
                            ProviderDisplayName = DisplayName(name, p),
                            Issuer = new Uri(p.Authority!, UriKind.Absolute),
                            ClientId = p.ClientId,
                            ClientSecret = string.IsNullOrEmpty(p.ClientSecret) ? null : p.ClientSecret,
                            RedirectUri = new Uri(redirect, UriKind.Relative),
                        };
                        foreach (var scope in p.Scopes) registration.Scopes.Add(scope);
                        registration.ResponseModes.Add(ResponseModes.Query);
                        registration.ResponseTypes.Add(ResponseTypes.Code);
                        o.AddRegistration(registration);
                        break;
                }
            }
        });
        // The state tokens are encrypted and signed with the server's own symmetric keys (Ignis:Auth:KeyDirectory), so
        // every node of a cluster can read the callback another node's challenge started.
        services.AddOptions<OpenIddictClientOptions>().Configure<IOptions<OpenIddictServerOptions>>((o, server) =>
        {
            foreach (var encryption in server.Value.EncryptionCredentials) o.EncryptionCredentials.Add(encryption);
            foreach (var signing in server.Value.SigningCredentials.Where(c => c.Key is SymmetricSecurityKey)) o.SigningCredentials.Add(signing);
        });
        return builder;
    }

    public static WebApplication MapIgnisExternalIdentities(this WebApplication app)
    {
        if (app.Services.GetRequiredService<ExternalProviderList>().All.Count == 0) return app;
        app.MapMethods(CallbackPath("{name}"), [HttpMethods.Get, HttpMethods.Post],
            (HttpContext http, string name, ExternalSignIn signIn) => signIn.CompleteAsync(http, name));
        return app;
    }

    internal static string DisplayName(string name, ExternalProviderOptions p) => p.DisplayName is { Length: > 0 } d ? d : p.Type switch
    {
        ExternalProviderType.Google => "Google",
        ExternalProviderType.Microsoft => "Microsoft",
        ExternalProviderType.Facebook => "Facebook",
        _ => name,
    };
}

/// <summary>Fails the start with every problem of the "Ignis:External" section, each naming its key.</summary>
internal sealed class ExternalIdentityOptionsValidation : IValidateOptions<ExternalIdentityOptions>
{
    public ValidateOptionsResult Validate(string? name, ExternalIdentityOptions options)
    {
        var problems = options.Problems().ToList();
        return problems.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(problems);
    }
}

/// <summary>The configured providers, for the sign-in page's buttons.</summary>
public sealed class ExternalProviderList(IOptions<ExternalIdentityOptions> options)
{
    public sealed record Entry(string Name, string DisplayName, ExternalProviderOptions Options);

    public IReadOnlyList<Entry> All { get; } = [.. options.Value.Providers
        .Where(p => ExternalIdentityOptions.NamePattern().IsMatch(p.Key))
        .OrderBy(p => p.Key, StringComparer.Ordinal)
        .Select(p => new Entry(p.Key, ExternalIdentityServiceCollectionExtensions.DisplayName(p.Key, p.Value), p.Value))];

    public Entry? Find(string name) => All.FirstOrDefault(e => e.Name == name);
}
