using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;

namespace Ignis.Server.Auth;

/// <summary>
/// A session cookie is honoured only while its session row is open, so signing out (here or "everywhere")
/// takes effect on every node at once instead of when the cookie expires.
/// </summary>
public static class SessionValidation
{
    public static async Task ValidateAsync(CookieValidatePrincipalContext context)
    {
        var sid = context.Principal?.FindFirst(SmartPrincipalFactory.SessionClaim)?.Value;
        if (sid is null || !await Ignis.Server.Portal.SessionService.TouchAsync(context.HttpContext, sid))
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(context.Scheme.Name);
            return;
        }
        // Let Identity's security-stamp check run too.
        await Microsoft.AspNetCore.Identity.SecurityStampValidator.ValidatePrincipalAsync(context);
    }
}
