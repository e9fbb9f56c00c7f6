using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth;

public static partial class SmartServerHandlers
{
    /// <summary>
    /// Token formats chosen for the cost of the token endpoint (docs/benchmarks.md, "Issue 3"). Authorization codes
    /// and refresh tokens are reference tokens: the client holds a random 256-bit id, the payload stays in the token
    /// table, so it needs no encryption, and an HMAC-SHA256 signature (not RSA) proves it was written by this
    /// server. Access and id tokens stay RS256 JWTs for other parties to verify. Id tokens get no token row: nothing
    /// looks them up (only access tokens, codes and refresh tokens are validated against the table).
    /// </summary>
    public sealed class ProtectInternalTokens : IOpenIddictServerHandler<GenerateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
                .UseSingletonHandler<ProtectInternalTokens>()
                .SetOrder(Protection.AttachSecurityCredentials.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(GenerateTokenContext context)
        {
            switch (context.TokenType)
            {
                case TokenTypeIdentifiers.RefreshToken
                    or TokenTypeIdentifiers.Private.AuthorizationCode
                    when context.IsReferenceToken:
                    context.EncryptionCredentials = null;
                    context.SigningCredentials = context.Options.SigningCredentials.First(c => c.Key is Microsoft.IdentityModel.Tokens.SymmetricSecurityKey);
                    break;
                case TokenTypeIdentifiers.AccessToken:
                    // OpenIddict orders symmetric keys first; access tokens are RS256 for other resource servers (AccessTokenSigning
                    // runs after this step and switches to ES256 when Ignis:Auth:AccessTokenSigningAlgorithm asks for it).
                    context.SigningCredentials = RsaCredentials(context);
                    break;
                case TokenTypeIdentifiers.IdentityToken:
                    context.SigningCredentials = RsaCredentials(context); // SMART and OpenID Connect clients expect RS256 id tokens
                    context.CreateTokenEntry = false;
                    break;
            }
            return default;
        }

        private static Microsoft.IdentityModel.Tokens.SigningCredentials RsaCredentials(GenerateTokenContext context) =>
            context.Options.SigningCredentials.First(c => c.Key is Microsoft.IdentityModel.Tokens.RsaSecurityKey);
    }
}
