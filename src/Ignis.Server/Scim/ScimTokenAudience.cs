using Ignis.Server.Auth;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using Microsoft.AspNetCore;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Server.OpenIddictServerEvents;
using static OpenIddict.Server.OpenIddictServerHandlers;

namespace Ignis.Server.Scim;

/// <summary>
/// An access token granted the scim scope is also meant for the SCIM service: its audience gets the SCIM base URL
/// next to the FHIR base URL (RFC 9068 allows several), and the SCIM API accepts only tokens that name it.
/// </summary>
public sealed class ScimTokenAudience : IOpenIddictServerHandler<ProcessSignInContext>
{
    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessSignInContext>()
            .UseSingletonHandler<ScimTokenAudience>()
            .SetOrder(PrepareAccessTokenPrincipal.Descriptor.Order - 100)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    public ValueTask HandleAsync(ProcessSignInContext context)
    {
        if (context.Principal is not { } principal || !principal.HasScope(ScimAuthentication.Scope)) return default;
        var http = context.Transaction.GetHttpRequest()?.HttpContext;
        if (http is null) return default;
        var scim = ScimEndpoints.BaseUrl(http);
        var resources = principal.GetResources();
        if (!resources.Contains(scim, StringComparer.Ordinal)) principal.SetResources([.. resources, scim]);
        return default;
    }
}
