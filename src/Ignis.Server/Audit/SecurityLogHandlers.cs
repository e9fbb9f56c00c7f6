using Ignis.Server.Auth;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Audit;

/// <summary>Steps in OpenIddict's chains that put token and consent events into the security log once they succeeded.</summary>
public static class SecurityLogHandlers
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> All => [RecordSignIn.Descriptor, RecordRevocation.Descriptor];

    /// <summary>
    /// A code issued at /oauth/authorize is a consent granted; tokens issued at /oauth/token are issued (code,
    /// client credentials) or refreshed.
    /// </summary>
    public sealed class RecordSignIn(SecurityLog log) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseSingletonHandler<RecordSignIn>()
                // After the token rows are committed (TokenWriteBatch.Commit): a request refused there, e.g. the loser
                // of a race for one code, is not recorded as issued.
                .SetOrder(Math.Max(AttachCustomSignInParameters.Descriptor.Order + 1_000, TokenWriteBatch.Commit.Descriptor.Order + 1))
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            var http = context.Transaction.GetHttpRequest()?.HttpContext;
            if (http is null || context.Principal is not { } principal) return default;
            var clientId = context.Request.ClientId ?? principal.GetPresenters().FirstOrDefault();
            var client = clientId is null ? null : new SecurityParty(clientId, clientId);
            var scopes = "scopes: " + string.Join(' ', principal.GetScopes());
            var subject = principal.GetClaim(Claims.Subject);
            var user = subject is null || subject == clientId ? null : new SecurityParty(subject, principal.GetClaim(Claims.Name) ?? subject);

            if (context.EndpointType is OpenIddictServerEndpointType.Authorization && context.IncludeAuthorizationCode)
            {
                log.Record(http, new SecurityEvent(SecurityEventKind.ConsentGranted)
                {
                    User = user,
                    TargetClient = client,
                    Patient = principal.GetClaim(SmartPrincipalFactory.PatientClaim),
                    Detail = scopes,
                });
            }
            else if (context.EndpointType is OpenIddictServerEndpointType.Token && context.IncludeAccessToken)
            {
                var kind = context.Request.IsRefreshTokenGrantType() ? SecurityEventKind.TokenRefreshed : SecurityEventKind.TokenIssued;
                log.Record(http, new SecurityEvent(kind)
                {
                    User = user,
                    Client = client,
                    Detail = $"grant: {context.Request.GrantType}; {scopes}",
                });
            }
            return default;
        }
    }

    /// <summary>RFC 7009: a token revoked by its client.</summary>
    public sealed class RecordRevocation(SecurityLog log) : IOpenIddictServerHandler<HandleRevocationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<HandleRevocationRequestContext>()
                .UseSingletonHandler<RecordRevocation>()
                .SetOrder(Revocation.RevokeToken.Descriptor.Order + 1_000)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(HandleRevocationRequestContext context)
        {
            var http = context.Transaction.GetHttpRequest()?.HttpContext;
            if (http is null || context.GenericTokenPrincipal is not { } principal) return default;
            var clientId = context.Request.ClientId ?? principal.GetPresenters().FirstOrDefault();
            var subject = principal.GetClaim(Claims.Subject);
            log.Record(http, new SecurityEvent(SecurityEventKind.TokenRevoked)
            {
                User = subject is null || subject == clientId ? null : new SecurityParty(subject, principal.GetClaim(Claims.Name) ?? subject),
                Client = clientId is null ? null : new SecurityParty(clientId, clientId),
                Detail = "revoked by the client: " + (principal.GetTokenType() ?? "token"),
                UserAgent = null,
            });
            return default;
        }
    }
}
