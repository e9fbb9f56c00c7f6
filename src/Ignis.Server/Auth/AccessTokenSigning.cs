using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth;

/// <summary>
/// With Ignis:Auth:AccessTokenSigningAlgorithm=ES256, access tokens are signed with the EC key. OpenIddict signs
/// every token with the first signing credential (the RSA key, which id tokens need: RS256 is OpenID Connect's
/// default); this step swaps the credential for access tokens only.
/// </summary>
public sealed class AccessTokenSigning : IOpenIddictServerHandler<GenerateTokenContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<AccessTokenSigning>()
            .SetOrder(Protection.AttachSecurityCredentials.Descriptor.Order + 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        if (context.TokenType != TokenTypeIdentifiers.AccessToken) return default;
        foreach (var credentials in context.Options.SigningCredentials)
        {
            if (credentials.Algorithm == SecurityAlgorithms.EcdsaSha256)
            {
                context.SigningCredentials = credentials;
                break;
            }
        }
        return default;
    }
}
