using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth.ClientAuthentication;

/// <summary>
/// The token row of a client_credentials access token, written through <see cref="AuthWriteBatcher"/> instead of
/// OpenIddict's one-transaction-per-token store call. The row is the same one OpenIddict would write (id, client,
/// subject, type, dates, status valid), so revocation (RFC 7009), introspection, the resource server's
/// one-second revocation check, deleting the client and pruning treat it like any other; the token carries its
/// id (oi_tkn_id) as usual. Backend services are the clients that ask for tokens at a high rate, and each of
/// their tokens needs this row only for revocation, so only their write is batched.
/// </summary>
public sealed class StoreClientCredentialsAccessToken(
    IOpenIddictApplicationManager applications, AuthWriteBatcher writer, AssertionReplayCache replay, TimeProvider clock)
    : IOpenIddictServerHandler<GenerateTokenContext>
{
    /// <summary>Whether this request's access token will be stored here (so its assertion's jti can be recorded with it).</summary>
    public static bool WillStore(OpenIddictServerEvents.BaseContext context) =>
        context.EndpointType == OpenIddictServerEndpointType.Token && context.Transaction.Request?.IsClientCredentialsGrantType() == true
        && !context.Options.DisableTokenStorage && !context.Options.UseReferenceAccessTokens;

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .AddFilter<OpenIddictServerHandlerFilters.RequireTokenStorageEnabled>()
            .UseScopedHandler<StoreClientCredentialsAccessToken>()
            .SetOrder(Protection.CreateTokenEntry.Descriptor.Order - 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public async ValueTask HandleAsync(GenerateTokenContext context)
    {
        if (!context.CreateTokenEntry || context.IsReferenceToken || context.PersistTokenPayload
            || context.TokenType != TokenTypeIdentifiers.AccessToken
            || context.EndpointType != OpenIddictServerEndpointType.Token || context.Request?.IsClientCredentialsGrantType() != true)
            return;

        string? applicationId = null;
        if (!string.IsNullOrEmpty(context.ClientId))
        {
            var application = await applications.FindByClientIdAsync(context.ClientId, context.CancellationToken)
                ?? throw new InvalidOperationException("The client of a token being issued no longer exists.");
            applicationId = await applications.GetIdAsync(application, context.CancellationToken);
        }
        var created = context.Principal.GetCreationDate() ?? clock.GetUtcNow();
        var expires = context.Principal.GetExpirationDate()
            ?? throw new InvalidOperationException("A client_credentials access token has no expiration date.");
        // Time-ordered (UUID v7): consecutive tokens' ids sit side by side in the table's primary-key index, so a group
        // commit appends to one index page instead of dirtying (and writing to the WAL) one random page per token. The id
        // is no secret: the signed token carries it, and nothing is granted for knowing it.
        var id = Guid.CreateVersion7().ToString();
        var row = new TokenRow(id, applicationId, context.Principal.GetClaim(Claims.Subject), context.TokenType, created.UtcDateTime, expires.UtcDateTime);
        try
        {
            // The assertion's jti and the token's row in one transaction: a replay gets no token and no row.
            if (context.Transaction.Properties.Remove(PendingClientAssertion.Property, out var value) && value is PendingClientAssertion pending)
            {
                if (!await writer.TryUseJtiAndInsertTokenAsync(pending.Key, pending.ExpiresAt, clock.GetUtcNow().ToUnixTimeSeconds(), row))
                {
                    context.Reject(Errors.InvalidClient, ClientAssertionErrors.Replayed);
                    return;
                }
                replay.Remember(pending.Key, pending.ExpiresAt);
            }
            else await writer.InsertTokenAsync(row);
        }
        catch (AuthWriteRefusedException)
        {
            // The client was deleted while this request ran (the row's foreign key).
            context.Reject(Errors.InvalidClient, "The client no longer exists.");
            return;
        }

        context.Principal.SetTokenId(id);
        context.CreateTokenEntry = false; // written above; OpenIddict's CreateTokenEntry skips it
    }
}
