using System.Data.Common;
using Ignis.Server.Auth.ClientAuthentication;
using Ignis.Server.Data;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth;

/// <summary>
/// The token rows of a sign-in in one transaction (docs/benchmarks.md, "Issue 3"). A code exchange redeems the
/// code and writes an access token row and a refresh token row with its payload; each was its own transaction
/// (SQLite: its own write lock and WAL append). <see cref="Begin"/> makes <see cref="TokenStore"/> queue them as
/// OpenIddict's handlers make them; <see cref="Commit"/>, after the last of OpenIddict's sign-in steps and
/// before the response is written, commits them together. A failed commit refuses the sign-in: no token the
/// database does not hold is ever handed out.
/// </summary>
public static class TokenWriteBatch
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors => [Begin.Descriptor, Commit.Descriptor];

    /// <summary>The first step of every sign-in: token writes are queued from here on.</summary>
    public sealed class Begin(IOpenIddictTokenStore<OpenIddictEntityFrameworkCoreToken> store) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseScopedHandler<Begin>()
                .SetOrder(int.MinValue + 100_000)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ProcessSignInContext context)
        {
            (store as TokenStore)?.DeferWrites();
            return default;
        }
    }

    /// <summary>The last step of every sign-in: the queued writes, committed together, or the sign-in refused.</summary>
    public sealed class Commit(IOpenIddictTokenStore<OpenIddictEntityFrameworkCoreToken> store) : IOpenIddictServerHandler<ProcessSignInContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
                .UseScopedHandler<Commit>()
                // After every step that makes a token, before the step that writes the response.
                .SetOrder(Math.Min(Authentication.ApplyAuthorizationResponse<ProcessSignInContext>.Descriptor.Order,
                    Exchange.ApplyTokenResponse<ProcessSignInContext>.Descriptor.Order) - 1_000)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessSignInContext context)
        {
            if (store is not TokenStore tokens) return;
            try
            {
                if (!await tokens.FlushAsync(context.CancellationToken))
                    context.Reject(Errors.InvalidGrant, "The authorization code or refresh token was used by another request at the same time.");
            }
            catch (Exception e) when (e is AuthWriteRefusedException || (e is DbException db && AuthDatabase.IsConstraintViolation(db)))
            {
                // A foreign key: the client or the grant was deleted while this request ran.
                context.Reject(Errors.InvalidGrant, "The client or the grant no longer exists.");
            }
        }
    }
}
