using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth;

public static partial class SmartServerHandlers
{
    /// <summary>The HttpContext item holding an authorize error shown by the error page.</summary>
    public const string ErrorItem = "ignis:authorize_error";

    public sealed record AuthorizeError(string Error, string? Description);

    /// <summary>
    /// SMART App Launch 2.2 §"Request authorization": redirect_uri is required. (OpenIddict would fall back to a
    /// client's only registered URI.) Without one the error cannot be redirected: the user sees the error page.
    /// </summary>
    public sealed class RequireRedirectUri : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
                .UseSingletonHandler<RequireRedirectUri>()
                .SetOrder(Authentication.ValidateRedirectUriParameter.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            if (string.IsNullOrEmpty(context.Request.RedirectUri))
                context.Reject(Errors.InvalidRequest, "The 'redirect_uri' parameter is required.");
            return default;
        }
    }

    /// <summary>
    /// RFC 6749 §4.1.2.1: once the client and its redirect_uri are known to be genuine, every other error of an
    /// authorize request (bad aud, PKCE missing or plain, bad response_type, ...) goes back to the app, with the
    /// state, so it can tell its user. OpenIddict redirects only errors raised after validation succeeded; this
    /// step checks the client and redirect_uri itself for the requests validation rejected. When either is
    /// missing or unknown, or the client is held for approval or disabled, nothing is redirected, and the user sees
    /// the error page (/authorize/error).
    /// </summary>
    public sealed class RedirectErrorsToVerifiedRedirectUri(IOpenIddictApplicationManager applications)
        : IOpenIddictServerHandler<ApplyAuthorizationResponseContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ApplyAuthorizationResponseContext>()
                .UseScopedHandler<RedirectErrorsToVerifiedRedirectUri>()
                .SetOrder(Authentication.InferResponseMode.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ApplyAuthorizationResponseContext context)
        {
            if (!string.IsNullOrEmpty(context.RedirectUri) || string.IsNullOrEmpty(context.Error)) return;
            if (!await IsGenuineAsync(context.Request))
            {
                // Left to the error page, which reads it from here after the status code pages re-execute the request.
                if (context.Transaction.GetHttpRequest() is { } http)
                    http.HttpContext.Items[ErrorItem] = new AuthorizeError(context.Error, context.Response.ErrorDescription);
                return;
            }
            var request = context.Request!;
            var redirectUri = request.RedirectUri!;

            context.RedirectUri = redirectUri;
            context.ResponseMode = request.ResponseMode is ResponseModes.Query or ResponseModes.Fragment or ResponseModes.FormPost
                ? request.ResponseMode
                : ResponseModes.Query;
        }

        private async ValueTask<bool> IsGenuineAsync(OpenIddictRequest? request)
        {
            if (request is not { ClientId: { Length: > 0 } clientId, RedirectUri: { Length: > 0 } redirectUri }
                || !Uri.TryCreate(redirectUri, UriKind.Absolute, out var uri) || uri.Fragment.Length > 0)
                return false;
            var application = await applications.FindByClientIdAsync(clientId);
            // A registration held for approval or disabled is not vetted: redirecting to it would let anyone who can
            // register a client use this server as an open redirector (RFC 9700 §4.11).
            return application is not null && await applications.ValidateRedirectUriAsync(application, redirectUri)
                && await Clients.ClientServerHandlers.InactiveReasonAsync(applications, clientId, default) is null;
        }
    }
}
