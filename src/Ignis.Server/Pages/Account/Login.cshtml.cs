using System.Security.Claims;
using System.Security.Cryptography;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.IdentityModel.Tokens;

namespace Ignis.Server.Pages.Account;

public sealed partial class LoginModel(
    UserManager<IgnisUser> users, SignInManager<IgnisUser> signIn, AuthDbContext db, TimeProvider clock, ILogger<LoginModel> logger) : PageModel
{
    [BindProperty(Name = "username")] public string? Username { get; set; }
    [BindProperty(Name = "password")] public string? Password { get; set; }
    [BindProperty(Name = "remember")] public bool Remember { get; set; }
    [BindProperty(Name = "returnUrl", SupportsGet = true)] public string? ReturnUrl { get; set; }

    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = string.IsNullOrEmpty(Username) ? null : await users.FindByNameAsync(Username);
        if (user is null || string.IsNullOrEmpty(Password))
            return Fail("Wrong user name or password.");

        var result = await signIn.CheckPasswordSignInAsync(user, Password, lockoutOnFailure: true);
        if (result.IsLockedOut)
        {
            LogLockedOut(logger, user.Id);
            return Fail("This account is locked after too many failed sign-in attempts. Try again in a few minutes.");
        }
        if (result.IsNotAllowed) return Fail("This account is not allowed to sign in.");
        if (!result.Succeeded)
        {
            LogFailed(logger, user.Id);
            return Fail("Wrong user name or password.");
        }

        var session = new UserSession
        {
            Id = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(24)),
            UserId = user.Id,
            CreatedAt = clock.GetUtcNow().UtcDateTime,
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync();
        await signIn.SignInWithClaimsAsync(user, Remember, [new Claim(SmartPrincipalFactory.SessionClaim, session.Id)]);
        LogSignedIn(logger, user.Id);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/");
    }

    private PageResult Fail(string message)
    {
        Error = message;
        Password = null;
        return Page();
    }

    [LoggerMessage(EventId = 3300, Level = LogLevel.Information, Message = "User {UserId} signed in")]
    private static partial void LogSignedIn(ILogger logger, string userId);

    [LoggerMessage(EventId = 3301, Level = LogLevel.Information, Message = "Failed sign-in for user {UserId}")]
    private static partial void LogFailed(ILogger logger, string userId);

    [LoggerMessage(EventId = 3302, Level = LogLevel.Warning, Message = "User {UserId} is locked out")]
    private static partial void LogLockedOut(ILogger logger, string userId);
}
