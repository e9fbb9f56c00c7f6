using System.Text.Json;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Auth.Clients;

/// <summary>The registry's rules inside OpenIddict's request pipeline.</summary>
public static class ClientServerHandlers
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> All =>
    [
        RejectInactiveClientsAtAuthorization.Descriptor,
        RejectInactiveClientsAtToken.Descriptor,
        AdvertiseRegistrationEndpoint.Descriptor,
    ];

    /// <summary>Why a client may not get tokens (pending approval, disabled), or null.</summary>
    public static async ValueTask<string?> InactiveReasonAsync(IOpenIddictApplicationManager applications, string? clientId, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(clientId) || await applications.FindByClientIdAsync(clientId, ct) is not { } application) return null;
        var properties = await applications.GetPropertiesAsync(application, ct);
        if (properties.TryGetValue(ClientProperties.Disabled, out var disabled) && disabled.ValueKind == JsonValueKind.True)
            return "This client has been disabled by an administrator.";
        if (properties.TryGetValue(ClientProperties.PendingApproval, out var pending) && pending.ValueKind == JsonValueKind.True)
            return "This client is waiting for an administrator to approve its registration.";
        return null;
    }

    /// <summary>A client held for approval or disabled is not authorized to start a grant (RFC 6749 §4.1.2.1 unauthorized_client).</summary>
    public sealed class RejectInactiveClientsAtAuthorization(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateAuthorizationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateAuthorizationRequestContext>()
                .UseScopedHandler<RejectInactiveClientsAtAuthorization>()
                .SetOrder(Authentication.ValidateEndpointPermissions.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateAuthorizationRequestContext context)
        {
            if (await InactiveReasonAsync(applications, context.ClientId, context.CancellationToken) is { } reason)
                context.Reject(Errors.UnauthorizedClient, reason);
        }
    }

    /// <summary>A client held for approval or disabled gets no tokens, whatever the grant (RFC 6749 §5.2 unauthorized_client).</summary>
    public sealed class RejectInactiveClientsAtToken(IOpenIddictApplicationManager applications) : IOpenIddictServerHandler<ValidateTokenRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenRequestContext>()
                .UseScopedHandler<RejectInactiveClientsAtToken>()
                .SetOrder(Exchange.ValidateEndpointPermissions.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ValidateTokenRequestContext context)
        {
            if (await InactiveReasonAsync(applications, context.ClientId, context.CancellationToken) is { } reason)
                context.Reject(Errors.UnauthorizedClient, reason);
        }
    }

    /// <summary>OpenID Connect Discovery §3 registration_endpoint, which OpenIddict does not know about.</summary>
    public sealed class AdvertiseRegistrationEndpoint : IOpenIddictServerHandler<HandleConfigurationRequestContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<HandleConfigurationRequestContext>()
                .UseSingletonHandler<AdvertiseRegistrationEndpoint>()
                .SetOrder(Discovery.AttachEndpoints.Descriptor.Order + 1)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(HandleConfigurationRequestContext context)
        {
            if (context.Issuer is { } issuer)
                context.Metadata["registration_endpoint"] = new Uri(issuer, RegistrationEndpoint.Path.TrimStart('/')).AbsoluteUri;
            return default;
        }
    }
}
