using Ignis.Server.Audit;
using Ignis.Server.Data;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Pages.Account;

[AllowAnonymous]
public sealed partial class LoginModel(
    UserManager<IgnisUser> users, SignInManager<IgnisUser> signIn, SessionService sessions, SecurityLog log, ILogger<LoginModel> logger) : PageModel
{
    public const string WrongPassword = "Wrong user name or password.";
    public const string LockedOut = "This account is locked after too many failed sign-in attempts. Try again in a few minutes, or ask an administrator to unlock it.";

    [BindProperty(Name = "username")] public string? Username { get; set; }
    [BindProperty(Name = "password")] public string? Password { get; set; }
    [BindProperty(Name = "remember")] public bool Remember { get; set; }
    [BindProperty(Name = "returnUrl", SupportsGet = true)] public string? ReturnUrl { get; set; }
    [BindProperty(Name = "signedout", SupportsGet = true)] public string? SignedOut { get; set; }

    public string? Error { get; private set; }

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync()
    {
        var user = string.IsNullOrEmpty(Username) || Username.Length > 256 ? null : await users.FindByNameAsync(Username);
        if (user is null || string.IsNullOrEmpty(Password))
        {
            Record(SecurityEventKind.SignInFailed, null, "unknown user name or empty password");
            return Fail(WrongPassword);
        }

        var result = await signIn.CheckPasswordSignInAsync(user, Password, lockoutOnFailure: true);
        if (result.IsLockedOut)
        {
            LogLockedOut(logger, user.Id);
            Record(SecurityEventKind.Lockout, user, "sign-in refused: the account is locked");
            return Fail(LockedOut);
        }
        if (result.IsNotAllowed)
        {
            Record(SecurityEventKind.SignInFailed, user, "the account is not allowed to sign in");
            return Fail("This account is not allowed to sign in.");
        }
        if (!result.Succeeded)
        {
            LogFailed(logger, user.Id);
            Record(SecurityEventKind.SignInFailed, user, "wrong password");
            return Fail(WrongPassword);
        }

        await sessions.StartAsync(HttpContext, user, Remember);
        LogSignedIn(logger, user.Id);
        Record(SecurityEventKind.SignIn, user, Remember ? "remember me" : null);
        return LocalRedirect(Url.IsLocalUrl(ReturnUrl) ? ReturnUrl! : "/account");
    }

    private void Record(SecurityEventKind kind, IgnisUser? user, string? detail) =>
        log.Record(HttpContext, new SecurityEvent(kind)
        {
            Failed = kind is SecurityEventKind.SignInFailed or SecurityEventKind.Lockout,
            User = user is not null ? new SecurityParty(user.Id, user.UserName ?? user.Id)
                : new SecurityParty(null, Username is { Length: > 0 } typed ? typed[..Math.Min(typed.Length, 64)] : "(empty)"),
            Detail = detail,
        });

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
