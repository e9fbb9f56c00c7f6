using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Options;
using OpenIddict.Server;

namespace Ignis.Server.Auth.Mtls;

public static class MtlsExtensions
{
    /// <summary>RFC 8705: mTLS client authentication, certificate-bound access tokens, and the FHIR API's certificate allow-list.</summary>
    public static WebApplicationBuilder AddIgnisMtls(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<MtlsOptions>().Bind(builder.Configuration.GetSection(MtlsOptions.Section));
        services.AddSingleton<MtlsTrust>();
        services.AddSingleton<ClientCertificateAllowList>();
        services.AddHostedService<MtlsConfigurationCheck>();
        services.AddOpenIddict().AddServer(o =>
        {
            foreach (var handler in MtlsClientHandlers.Replaced) o.RemoveEventHandler(handler);
            foreach (var handler in MtlsClientHandlers.All) o.AddEventHandler(handler);
            // OpenIddict writes cnf for the certificate left on the transaction; MtlsClientHandlers leaves only an
            // mTLS-authenticated client's certificate there.
            o.UseClientCertificateBoundAccessTokens();
        });
        services.AddOptions<OpenIddictServerOptions>().Configure<IOptions<MtlsOptions>, MtlsTrust>((o, mtls, trust) =>
        {
            // The policies only satisfy OpenIddict's start-up check: ValidateTlsClientCertificate does the checking.
            if (mtls.Value.TrustedCaCertificates.Length > 0 && trust.CertificateAuthorities.Count > 0)
            {
                o.ClientAuthenticationMethods.Add(MtlsClientProperties.TlsClientAuthMethod);
                o.PublicKeyInfrastructureTlsClientAuthenticationPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust };
            }
            if (mtls.Value.SelfSigned)
            {
                o.ClientAuthenticationMethods.Add(MtlsClientProperties.SelfSignedTlsClientAuthMethod);
                o.SelfSignedTlsClientAuthenticationPolicy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust };
            }
        });
        return builder;
    }
}

/// <summary>Reads the allow-list and the trusted CAs at start, so a wrong file or entry stops the start naming its key.</summary>
internal sealed class MtlsConfigurationCheck(ClientCertificateAllowList allowList, MtlsTrust trust) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = allowList.IsEmpty;
        _ = trust.CertificateAuthorities;
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
