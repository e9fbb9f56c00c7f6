using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Ignis.Server.Auth.ClientAuthentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth.Mtls;

/// <summary>
/// Mutual-TLS client authentication (RFC 8705 §2) and certificate-bound access tokens (§3) as steps in OpenIddict's
/// own chains. OpenIddict reads the TLS client certificate of every token request and binds tokens to it; these
/// steps decide which certificates count: only those of clients registered for tls_client_auth or
/// self_signed_tls_client_auth, checked against Ignis's own trust (configured CAs, never the system store) and the
/// subject or certificate the client registered. Every failure is invalid_client with a description from
/// <see cref="MtlsErrors"/>.
/// </summary>
public static class MtlsClientHandlers
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> All =>
    [
        RequireCertificateForClientCredentials.Descriptor,
        ApplyRegisteredTlsClientAuthentication.Descriptor,
        ValidateTlsClientCertificate.Descriptor,
        BindAccessTokensOfMtlsClients.Descriptor,
    ];

    /// <summary>OpenIddict's certificate check (chain to the system store for PKI, subject = a redirect_uri host) that <see cref="ValidateTlsClientCertificate"/> replaces.</summary>
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Replaced => [ValidateClientCertificate.Descriptor];

    private const string MethodProperty = ".ignis_mtls_method";

    /// <summary>
    /// A client_credentials request with neither secret, assertion nor certificate: OpenIddict answers invalid_request
    /// before the client is known; a client registered for mTLS gets invalid_client and what to present instead.
    /// </summary>
    public sealed class RequireCertificateForClientCredentials(IOpenIddictApplicationManager applications)
        : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
                .UseScopedHandler<RequireCertificateForClientCredentials>()
                .SetOrder(Exchange.ValidateClientCredentialsParameters.Descriptor.Order - 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (!context.Request.IsClientCredentialsGrantType() || context.Transaction.RemoteCertificate is not null
                || !string.IsNullOrEmpty(context.Request.ClientSecret) || !string.IsNullOrEmpty(context.Request.ClientAssertion)
                || string.IsNullOrEmpty(context.ClientId)
                || await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application)
                return;
            if (MtlsClientProperties.IsMtls(await ClientAssertionHandlers.RegisteredMethodAsync(applications, application, context.CancellationToken)))
                context.Reject(Errors.InvalidClient, MtlsErrors.NoCertificate);
        }
    }

    /// <summary>
    /// RFC 8705 §2: a client registered for mTLS authenticates with its certificate and nothing else; for any other
    /// client (or a request without client_id) the certificate plays no part — neither authentication nor token
    /// binding — so a browser or library that happens to send one is not turned away.
    /// </summary>
    public sealed class ApplyRegisteredTlsClientAuthentication(IOpenIddictApplicationManager applications)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                .UseScopedHandler<ApplyRegisteredTlsClientAuthentication>()
                .SetOrder(ValidateClientType.Descriptor.Order - 150)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.EndpointType is not (OpenIddictServerEndpointType.Token or OpenIddictServerEndpointType.Introspection
                or OpenIddictServerEndpointType.Revocation or OpenIddictServerEndpointType.PushedAuthorization
                or OpenIddictServerEndpointType.DeviceAuthorization))
                return;
            if (string.IsNullOrEmpty(context.ClientId)
                || await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application)
            {
                context.Transaction.RemoteCertificate = null;
                return;
            }
            var method = await ClientAssertionHandlers.RegisteredMethodAsync(applications, application, context.CancellationToken);
            if (!MtlsClientProperties.IsMtls(method))
            {
                context.Transaction.RemoteCertificate = null;
                return;
            }
            var certificate = context.Transaction.RemoteCertificate;
            if (!string.IsNullOrEmpty(context.Request.ClientSecret) || !string.IsNullOrEmpty(context.ClientAssertion))
                context.Reject(Errors.InvalidClient, MtlsErrors.OtherCredentials);
            else if (certificate is null)
                context.Reject(Errors.InvalidClient, MtlsErrors.NoCertificate);
            else if (method == MtlsClientProperties.TlsClientAuthMethod && CertificateChecks.IsSelfIssued(certificate))
                context.Reject(Errors.InvalidClient, MtlsErrors.SelfSignedForPki);
            else if (method == MtlsClientProperties.SelfSignedTlsClientAuthMethod && !CertificateChecks.IsSelfIssued(certificate))
                context.Reject(Errors.InvalidClient, MtlsErrors.PkiForSelfSigned);
            else
                context.Transaction.Properties[MethodProperty] = method;
        }
    }

    /// <summary>
    /// RFC 8705 §2.1 (tls_client_auth): the certificate chains to a configured CA, allows client authentication, and
    /// carries the subject DN or SAN the client registered. §2.2 (self_signed_tls_client_auth): it is one of the
    /// certificates (x5c) in the client's registered jwks. Both: within its validity period.
    /// </summary>
    public sealed class ValidateTlsClientCertificate(IOpenIddictApplicationManager applications, MtlsTrust trust, IOptions<MtlsOptions> options, TimeProvider clock)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                .AddFilter<OpenIddictServerHandlerFilters.RequireClientCertificate>()
                .UseScopedHandler<ValidateTlsClientCertificate>()
                .SetOrder(ValidateClientCertificate.Descriptor.Order)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            var certificate = context.Transaction.RemoteCertificate!;
            if (!context.Transaction.Properties.TryGetValue(MethodProperty, out var value) || value is not string method
                || string.IsNullOrEmpty(context.ClientId)
                || await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken) is not { } application)
            {
                // Only reachable when another step put a certificate back: it authenticates nobody.
                context.Transaction.RemoteCertificate = null;
                return;
            }
            if (!CertificateChecks.IsTimeValid(certificate, clock.GetUtcNow().UtcDateTime))
            {
                context.Reject(Errors.InvalidClient, MtlsErrors.Expired);
                return;
            }
            if (method == MtlsClientProperties.TlsClientAuthMethod)
            {
                var properties = await applications.GetPropertiesAsync(application, context.CancellationToken);
                var subject = RegisteredSubject(properties);
                if (!CertificateChecks.AllowsClientAuthentication(certificate))
                    context.Reject(Errors.InvalidClient, MtlsErrors.NotClientCertificate);
                else if (!CertificateChecks.ChainsTo(certificate, trust.CertificateAuthorities, options.Value.CheckRevocation))
                    context.Reject(Errors.InvalidClient, MtlsErrors.Untrusted);
                else if (subject is null)
                    context.Reject(Errors.InvalidClient, MtlsErrors.NoSubjectRegistered);
                else if (!CertificateChecks.MatchesSubject(certificate, subject))
                    context.Reject(Errors.InvalidClient, MtlsErrors.SubjectMismatch);
                return;
            }
            var keys = await applications.GetJsonWebKeySetAsync(application, context.CancellationToken);
            var registered = keys?.Keys.SelectMany(k => k.X5c).Any(x5c => Matches(x5c, certificate)) ?? false;
            if (!registered) context.Reject(Errors.InvalidClient, MtlsErrors.NotRegistered);
        }

        private static bool Matches(string x5c, X509Certificate2 certificate)
        {
            try
            {
                return Convert.FromBase64String(x5c).AsSpan().SequenceEqual(certificate.RawData);
            }
            catch (FormatException)
            {
                return false;
            }
        }
    }

    /// <summary>The subject a tls_client_auth client registered, from its properties.</summary>
    public static TlsClientSubject? RegisteredSubject(IReadOnlyDictionary<string, JsonElement> properties) =>
        properties.TryGetValue(MtlsClientProperties.SubjectKind, out var kind) && kind.ValueKind == JsonValueKind.String
        && properties.TryGetValue(MtlsClientProperties.SubjectValue, out var subject) && subject.ValueKind == JsonValueKind.String
            ? new TlsClientSubject(kind.GetString()!, subject.GetString()!)
            : null;

    /// <summary>
    /// RFC 8705 §3: an access token issued to a client that authenticated with mTLS is bound to its certificate
    /// (OpenIddict writes cnf x5t#S256 for the certificate left on the transaction) when Ignis:Auth:Mtls:BindAccessTokens
    /// is on or the client registered tls_client_certificate_bound_access_tokens=true; otherwise it is a plain bearer token.
    /// </summary>
    public sealed class BindAccessTokensOfMtlsClients(IOpenIddictApplicationManager applications, IOptions<MtlsOptions> options)
        : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseScopedHandler<BindAccessTokensOfMtlsClients>()
                .SetOrder(PrepareAccessTokenPrincipal.Descriptor.Order - 100)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.Transaction.RemoteCertificate is null) return;
            // Only a token request authenticated by mTLS binds (an implicit-flow browser's certificate does not).
            if (context.EndpointType != OpenIddictServerEndpointType.Token || !context.Transaction.Properties.ContainsKey(MethodProperty))
            {
                context.Transaction.RemoteCertificate = null;
                return;
            }
            if (options.Value.BindAccessTokens) return;
            var application = string.IsNullOrEmpty(context.ClientId) ? null : await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken);
            var properties = application is null ? null : await applications.GetPropertiesAsync(application, context.CancellationToken);
            if (properties is null || !properties.TryGetValue(MtlsClientProperties.BoundAccessTokens, out var bound) || bound.ValueKind != JsonValueKind.True)
                context.Transaction.RemoteCertificate = null;
        }
    }
}

/// <summary>The CA certificates of Ignis:Auth:Mtls:TrustedCaCertificates, read once.</summary>
public sealed class MtlsTrust(IOptions<MtlsOptions> options)
{
    private readonly Lazy<X509Certificate2Collection> _authorities = new(() =>
        CertificateFiles.Load(options.Value.TrustedCaCertificates, MtlsOptions.Section + ":TrustedCaCertificates"));

    public X509Certificate2Collection CertificateAuthorities => _authorities.Value;
}
