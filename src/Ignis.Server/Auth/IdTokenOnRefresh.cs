using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth;

/// <summary>
/// With Ignis:Auth:IdTokenOnRefresh=false a refresh answers without an id token. OpenID Connect Core 1.0 §12.2 lets
/// a refresh response leave it out and SMART App Launch 2.2 lists none in it; an RS256 signature is about a third of
/// a refresh's cost (docs/benchmarks.md, "Issue 3"). The code exchange always returns one when openid was granted.
/// </summary>
public sealed class IdTokenOnRefresh(IOptions<AuthOptions> options) : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<IdTokenOnRefresh>()
            .SetOrder(EvaluateGeneratedTokens.Descriptor.Order + 200)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (!options.Value.IdTokenOnRefresh && context.EndpointType == OpenIddictServerEndpointType.Token
            && context.Request.IsRefreshTokenGrantType())
        {
            context.GenerateIdentityToken = false;
            context.IncludeIdentityToken = false;
        }
        return default;
    }
}
