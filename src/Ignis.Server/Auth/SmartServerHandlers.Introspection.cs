using System.Security.Claims;
using Microsoft.AspNetCore;
using Microsoft.AspNetCore.Authentication;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using OpenIddict.Server.AspNetCore;
using OpenIddict.Validation.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ignis.Server.Auth;

public static partial class SmartServerHandlers
{
    /// <summary>The validated bearer token of an introspection caller that authenticated with one (transaction property).</summary>
    private const string BearerCallerProperty = "ignis:introspection_bearer_caller";

    /// <summary>Why a bearer introspection caller was turned away: (error, description) for the WWW-Authenticate header.</summary>
    private const string BearerCallerErrorProperty = "ignis:introspection_bearer_error";

    /// <summary>
    /// RFC 7662 §2.1: a protected resource may authorize its introspection call with a bearer token instead of
    /// client credentials. Here that token must be an access token of this server carrying the
    /// <see cref="SmartScopes.Introspect"/> scope, which only clients an admin gave the <c>scp:introspect</c>
    /// permission can obtain. A bad token or one without the scope is answered 401 (RFC 7662 §2.3) with a
    /// Bearer challenge (<see cref="ChallengeBearerIntrospectionCaller"/>).
    /// </summary>
    public sealed class AuthenticateBearerIntrospectionCaller : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                .UseSingletonHandler<AuthenticateBearerIntrospectionCaller>()
                .SetOrder(OpenIddictServerHandlers.ValidateClientId.Descriptor.Order - 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            if (context.EndpointType is not OpenIddictServerEndpointType.Introspection || !string.IsNullOrEmpty(context.ClientId)
                || !string.IsNullOrEmpty(context.Request.ClientAssertion)
                || context.Transaction.GetHttpRequest() is not { } request
                || !request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
                return;

            var caller = await ValidateBearerAsync(request.HttpContext);
            if (caller is null)
                Refuse(context, Errors.InvalidToken, "The bearer token is not valid: it is malformed, expired, revoked or not issued here.");
            else if (!caller.HasScope(SmartScopes.Introspect))
                Refuse(context, Errors.InsufficientScope, $"The bearer token lacks the '{SmartScopes.Introspect}' scope.");
            else
                context.Transaction.SetProperty(BearerCallerProperty, caller);
        }

        private static void Refuse(ProcessAuthenticationContext context, string error, string description)
        {
            context.Transaction.SetProperty(BearerCallerErrorProperty, new BearerRefusal(error, description));
            // invalid_client gives the 401 of RFC 7662 §2.3; ChallengeBearerIntrospectionCaller names the real error.
            context.Reject(Errors.InvalidClient, description);
        }

        /// <summary>The request's bearer token checked by OpenIddict validation (signature, issuer, lifetime, token entry).</summary>
        private static async Task<ClaimsPrincipal?> ValidateBearerAsync(HttpContext http)
        {
            var handlers = http.RequestServices.GetRequiredService<IAuthenticationHandlerProvider>();
            if (await handlers.GetHandlerAsync(http, OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme) is IAuthenticationRequestHandler validation
                && await validation.HandleRequestAsync())
                return null;
            var result = await http.AuthenticateAsync(OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme);
            // OpenIddict validation accepts access tokens only.
            return result.Succeeded ? result.Principal : null;
        }
    }

    /// <summary>OpenIddict's client-id check, skipped for an introspection caller that authenticated with a bearer token.</summary>
    public sealed class ValidateClientIdUnlessBearerCaller(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        private readonly OpenIddictServerHandlers.ValidateClientId _inner = new(applications);

        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                .UseScopedHandler<ValidateClientIdUnlessBearerCaller>()
                .SetOrder(OpenIddictServerHandlers.ValidateClientId.Descriptor.Order)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ProcessAuthenticationContext context) =>
            context.EndpointType is OpenIddictServerEndpointType.Introspection && string.IsNullOrEmpty(context.ClientId)
                && context.Transaction.GetProperty<ClaimsPrincipal>(BearerCallerProperty) is not null
                ? default
                : _inner.HandleAsync(context);
    }

    private sealed record BearerRefusal(string Error, string Description);

    /// <summary>RFC 6750 §3 / RFC 7662 §2.3: a refused bearer caller gets 401 with a Bearer challenge naming the error.</summary>
    public sealed class ChallengeBearerIntrospectionCaller : IOpenIddictServerHandler<ApplyIntrospectionResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyIntrospectionResponseContext>()
                .UseSingletonHandler<ChallengeBearerIntrospectionCaller>()
                .SetOrder(OpenIddictServerAspNetCoreHandlers.AttachWwwAuthenticateHeader<ApplyIntrospectionResponseContext>.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ApplyIntrospectionResponseContext context)
        {
            if (context.Transaction.GetProperty<BearerRefusal>(BearerCallerErrorProperty) is not { } refusal
                || context.Transaction.GetHttpRequest()?.HttpContext.Response is not { } response)
                return default;
            var (error, description) = refusal;
            context.Response.Error = error;
            context.Response.ErrorDescription = description;
            response.StatusCode = StatusCodes.Status401Unauthorized;
            var challenge = $"Bearer error=\"{error}\", error_description=\"{description.Replace("\"", "'")}\"";
            if (error == Errors.InsufficientScope) challenge += $", scope=\"{SmartScopes.Introspect}\"";
            response.Headers.WWWAuthenticate = challenge;
            return default;
        }
    }
}
