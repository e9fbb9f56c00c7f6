using Ignis.Server.Fhir;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth;

/// <summary>
/// The SMART rules OpenIddict does not know, each a step in OpenIddict's own handler chains so that its
/// error responses (and redirects to the client) apply unchanged.
/// </summary>
public static partial class SmartServerHandlers
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> All =>
    [
        RequireSmartAudience.Descriptor,
        RequirePkceForPublicClients.Descriptor,
        IssueRefreshTokenForOnlineAccess.Descriptor,
        AlwaysReturnScope.Descriptor,
        RejectWidenedRefreshScopes.Descriptor,
        IntrospectionCallerMayReadToken.Descriptor,
        AttachSmartIntrospectionClaims.Descriptor,
        RequireRedirectUri.Descriptor,
        RedirectErrorsToVerifiedRedirectUri.Descriptor,
        AuthenticateBearerIntrospectionCaller.Descriptor,
        ValidateClientIdUnlessBearerCaller.Descriptor,
        ChallengeBearerIntrospectionCaller.Descriptor,
        ProtectInternalTokens.Descriptor,
    ];

    /// <summary>Built-in handlers that <see cref="All"/> replaces.</summary>
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Replaced =>
    [
        Introspection.ValidateAuthorizedParty.Descriptor,
        OpenIddictServerHandlers.ValidateClientId.Descriptor,
    ];

    /// <summary>SMART App Launch 2.2 §"Request authorization": aud must be the FHIR base URL the app wants to reach.</summary>
    public sealed class RequireSmartAudience : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
                .UseSingletonHandler<RequireSmartAudience>()
                .SetOrder(Authentication.ValidateClientRedirectUri.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            var aud = (string?)context.Request["aud"];
            var http = context.Transaction.GetHttpRequest()?.HttpContext
                ?? throw new InvalidOperationException("The authorize request has no HTTP context.");
            var expected = FhirEndpoints.BaseUrl(http);
            if (string.IsNullOrEmpty(aud))
                context.Reject(Errors.InvalidRequest, "The 'aud' parameter is required: set it to the FHIR base URL " + expected + ".");
            else if (!string.Equals(aud.TrimEnd('/'), expected, StringComparison.Ordinal))
                context.Reject(Errors.InvalidRequest, "The 'aud' parameter does not name this server's FHIR base URL (" + expected + ").");
            return default;
        }
    }

    /// <summary>
    /// RFC 9700 §2.1.1 / SMART: public clients must use PKCE, whatever their registration says. (Confidential
    /// clients may; S256 is the only method offered.)
    /// </summary>
    public sealed class RequirePkceForPublicClients(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
                .UseScopedHandler<RequirePkceForPublicClients>()
                .SetOrder(Authentication.ValidateClientRedirectUri.Descriptor.Order + 600)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            if (!string.IsNullOrEmpty(context.Request.CodeChallenge) || string.IsNullOrEmpty(context.ClientId)) return;
            // The legacy implicit grant (response_type=token) has no code to protect.
            if (!context.Request.HasResponseType(ResponseTypes.Code)) return;
            var application = await applications.FindByClientIdAsync(context.ClientId);
            if (application is not null && await applications.HasClientTypeAsync(application, ClientTypes.Public))
                context.Reject(Errors.InvalidRequest, "The 'code_challenge' parameter is required for public clients (PKCE with S256).");
        }
    }

    /// <summary>OpenIddict issues refresh tokens for offline_access only; SMART's online_access asks for one too.</summary>
    public sealed class IssueRefreshTokenForOnlineAccess : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseSingletonHandler<IssueRefreshTokenForOnlineAccess>()
                .SetOrder(EvaluateGeneratedTokens.Descriptor.Order + 100)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType is OpenIddictServerEndpointType.Token
                && !context.Request.IsClientCredentialsGrantType()
                && context.Options.GrantTypes.Contains(GrantTypes.RefreshToken)
                && context.Principal is { } principal && principal.HasScope(SmartScopes.OnlineAccess))
            {
                context.GenerateRefreshToken = true;
                context.IncludeRefreshToken = true;
            }
            return default;
        }
    }

    /// <summary>SMART requires scope in every token response; OpenIddict leaves it out when nothing was narrowed.</summary>
    public sealed class AlwaysReturnScope : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseSingletonHandler<AlwaysReturnScope>()
                .SetOrder(AttachSignInParameters.Descriptor.Order + 100)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (context.EndpointType is OpenIddictServerEndpointType.Token && context.AccessTokenPrincipal is { } principal)
                context.Response.Scope = string.Join(' ', principal.GetScopes());
            return default;
        }
    }

    /// <summary>
    /// RFC 7662 §2.1: who may introspect. OpenIddict only lets a token's own audience or presenter do it; here
    /// the audience is the FHIR base URL (not a client), so any authenticated confidential client allowed the
    /// introspection endpoint may introspect access tokens (resource servers, backend services). Refresh tokens
    /// stay visible only to the client they were issued to.
    /// </summary>
    public sealed class IntrospectionCallerMayReadToken : IOpenIddictServerHandler<ValidateIntrospectionRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateIntrospectionRequestContext>()
                .UseSingletonHandler<IntrospectionCallerMayReadToken>()
                .SetOrder(Introspection.ValidateAuthorizedParty.Descriptor.Order)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateIntrospectionRequestContext context)
        {
            if (context.GenericTokenPrincipal is { } principal
                && (principal.HasTokenType(TokenTypeIdentifiers.RefreshToken) || principal.HasTokenType(TokenTypeHints.RefreshToken))
                && (string.IsNullOrEmpty(context.ClientId) || !principal.HasPresenter(context.ClientId)))
                context.Reject(Errors.InvalidToken, "The token cannot be introspected by this client.");
            return default;
        }
    }

    /// <summary>SMART: introspection answers scope, client_id, fhirUser, patient and encounter.</summary>
    public sealed class AttachSmartIntrospectionClaims : IOpenIddictServerHandler<HandleIntrospectionRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<HandleIntrospectionRequestContext>()
                .UseSingletonHandler<AttachSmartIntrospectionClaims>()
                .SetOrder(Introspection.AttachApplicationClaims.Descriptor.Order + 100)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(HandleIntrospectionRequestContext context)
        {
            if (context.GenericTokenPrincipal is not { } principal) return default;
            context.Scopes.UnionWith(principal.GetScopes());
            if (string.IsNullOrEmpty(context.ClientId) && principal.GetPresenters() is [var presenter, ..]) context.ClientId = presenter;
            foreach (var type in (string[])[SmartPrincipalFactory.FhirUserClaim, SmartPrincipalFactory.PatientClaim, SmartPrincipalFactory.EncounterClaim])
                if (principal.GetClaim(type) is { } value) context.Claims[type] = value;
            return default;
        }
    }

    /// <summary>
    /// RFC 6749 §6 and §5.2: a refresh asking for more than was granted is invalid_scope (OpenIddict answers
    /// invalid_grant, which tells the app its refresh token is dead when it is not).
    /// </summary>
    public sealed class RejectWidenedRefreshScopes : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
                .UseSingletonHandler<RejectWidenedRefreshScopes>()
                .SetOrder(Exchange.ValidateGrantedScopes.Descriptor.Order - 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (context.Request.IsRefreshTokenGrantType() && context.RefreshTokenPrincipal is { } principal
                && context.Request.GetScopes().Any(s => !principal.HasScope(s)))
                context.Reject(Errors.InvalidScope, "A refresh cannot add scopes that were not granted.");
            return default;
        }
    }
}
