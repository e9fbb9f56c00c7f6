using System.Security.Claims;
using Ignis.Server.Audit;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;

namespace Ignis.Server.Portal;

/// <summary>What a signed-in user changes about their own account.</summary>
public sealed class AccountService(UserManager<IgnisUser> users, SignInManager<IgnisUser> signIn, SessionService sessions, SecurityLog log)
{
    /// <summary>Changes the password; the other sessions end, this one stays signed in. Returns the problems, if any.</summary>
    public async Task<List<string>> ChangePasswordAsync(HttpContext http, IgnisUser user, string? current, string? next, string? confirm)
    {
        if (string.IsNullOrEmpty(current) || string.IsNullOrEmpty(next)) return ["Enter your current password and a new one."];
        if (next != confirm) return ["The two new passwords differ."];
        var result = await users.ChangePasswordAsync(user, current, next);
        if (!result.Succeeded)
        {
            log.Record(http, new SecurityEvent(SecurityEventKind.PasswordChanged)
            {
                Failed = true,
                User = Party(user),
                TargetUser = Party(user),
                Detail = "refused: " + string.Join(" ", result.Errors.Select(e => e.Code)),
            });
            return [.. result.Errors.Select(e => e.Code == "PasswordMismatch" ? "The current password is wrong." : e.Description)];
        }

        // The security stamp changed: every cookie issued before is refused, so sign this browser in again.
        var currentSession = SessionService.CurrentId(http.User);
        await sessions.EndOthersAsync(user.Id, currentSession, http.RequestAborted);
        var persistent = (await http.AuthenticateAsync(IdentityConstants.ApplicationScheme)).Properties?.IsPersistent == true;
        if (currentSession is not null)
            await signIn.SignInWithClaimsAsync(user, persistent, [new Claim(SmartPrincipalFactory.SessionClaim, currentSession)]);
        log.Record(http, new SecurityEvent(SecurityEventKind.PasswordChanged) { User = Party(user), TargetUser = Party(user), Detail = "changed by the user; other sessions ended" });
        return [];
    }

    public static SecurityParty Party(IgnisUser user) => new(user.Id, user.UserName ?? user.Id);
}
