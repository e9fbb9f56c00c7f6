using System.Security.Claims;
using Ignis.Server.Fhir;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth;

/// <summary>
/// /oauth/token for client_credentials, after OpenIddict authenticated the client (secret, private_key_jwt). Kept apart
/// from <see cref="TokenEndpoint"/> so that backend services, the clients with the highest token rate, do not pay for
/// the user, sign-in and database services that the user grants need.
/// </summary>
public sealed class ClientCredentialsGrant(IOpenIddictApplicationManager applications)
{
    /// <summary>SMART Backend Services: the client acts for itself; it gets the requested scopes it is registered for.</summary>
    public async Task<IResult> HandleAsync(HttpContext http, OpenIddictRequest request)
    {
        var application = await applications.FindByClientIdAsync(request.ClientId!)
            ?? throw new InvalidOperationException("The client was authenticated but cannot be found.");
        var permitted = (await applications.GetPermissionsAsync(application))
            .Where(p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal))
            .Select(p => p[Permissions.Prefixes.Scope.Length..]).ToHashSet(StringComparer.Ordinal);
        var asked = request.GetScopes();
        var granted = asked.Length == 0 ? [.. permitted] : asked.Where(permitted.Contains).ToList();
        if (granted.Count == 0 || granted.Count < asked.Length)
            return TokenEndpoint.Reject(Errors.InvalidScope, "The client is not registered for the requested scopes.");

        var identity = new ClaimsIdentity(TokenValidationParameters.DefaultAuthenticationType, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, request.ClientId);
        identity.SetScopes(granted);
        identity.SetResources(FhirEndpoints.BaseUrl(http));
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), properties: null, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }
}
