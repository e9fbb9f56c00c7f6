using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using Ignis.Server.Audit;
using Ignis.Server.Data;
using Ignis.Server.Portal;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using OpenIddict.Abstractions;
using OpenIddict.Client.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.External;

/// <summary>Why a delegated sign-in did not sign anyone in; the code the sign-in page shows a message for.</summary>
public static class ExternalSignInErrors
{
    public const string Failed = "failed";
    public const string Unverified = "unverified";
    public const string NoAccount = "no-account";
    public const string NotLinked = "not-linked";
    public const string Ambiguous = "ambiguous";
    public const string Disabled = "disabled";
    public const string LockedOut = "locked";

    public static string? Message(string? code, string provider) => code switch
    {
        Failed => $"Signing in with {provider} did not complete. Try again, or sign in with your user name and password.",
        Unverified => $"{provider} has not verified your email address, so it cannot be used to find or create your account here.",
        NoAccount => $"No account here has the email address {provider} gave. Ask an administrator to create one or to link your {provider} account.",
        NotLinked => $"Your {provider} account is not linked to an account here. Sign in with your user name and password, or ask an administrator.",
        Ambiguous => $"More than one account here has the email address {provider} gave. Ask an administrator to link your {provider} account.",
        Disabled => "This account is not allowed to sign in.",
        LockedOut => Pages.Account.LoginModel.LockedOut,
        _ => null,
    };
}

/// <summary>
/// Delegated sign-in: starts the authorization request to a configured provider, and completes the callback — the
/// external account's link to a local user (AspNetUserLogins), made at the first sign-in by verified email or by
/// provisioning a new user as the provider's <see cref="FirstSignInPolicy"/> says — then the same browser session as a
/// password sign-in, and back to where the user was going (the SMART authorize request, whose consent and patient
/// picker follow as usual).
/// </summary>
public sealed partial class ExternalSignIn(
    ExternalProviderList providers, UserManager<IgnisUser> users, SessionService sessions, SecurityLog log, ILogger<ExternalSignIn> logger)
{
    private const string ReturnUrlItem = "ignis.returnUrl";

    /// <summary>What the challenge (a redirect to the provider's authorization endpoint) carries; null for an unknown provider.</summary>
    public AuthenticationProperties? ChallengeProperties(string? provider, string? returnUrl)
    {
        if (provider is null || providers.Find(provider) is null) return null;
        return new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictClientAspNetCoreConstants.Properties.RegistrationId] = provider,
            [ReturnUrlItem] = IsLocal(returnUrl) ? returnUrl : "/account",
        });
    }

    /// <summary>The provider's callback (OpenIddict has checked state, the code exchange with PKCE, the id token and its nonce).</summary>
    public async Task<IResult> CompleteAsync(HttpContext http, string name)
    {
        var result = await http.AuthenticateAsync(OpenIddictClientAspNetCoreDefaults.AuthenticationScheme);
        var returnUrl = result.Properties?.Items.TryGetValue(ReturnUrlItem, out var r) == true && IsLocal(r) ? r! : "/account";
        var provider = providers.Find(name);
        if (provider is null) return Results.NotFound();
        if (!result.Succeeded || result.Principal is not { } principal
            || First(principal, Claims.Private.RegistrationId) != name)
        {
            var error = result.Properties?.Items.TryGetValue(OpenIddictClientAspNetCoreConstants.Properties.Error, out var e) == true ? e : null;
            LogFailed(logger, name, error ?? result.Failure?.GetType().Name ?? "no principal");
            Record(http, SecurityEventKind.SignInFailed, null, provider, "the provider's answer was not accepted");
            return Back(returnUrl, ExternalSignInErrors.Failed, name);
        }

        var subject = First(principal, Claims.Subject) ?? principal.FindFirst(ClaimTypes.NameIdentifier)?.Value;
        if (string.IsNullOrEmpty(subject))
        {
            LogFailed(logger, name, "no subject");
            return Back(returnUrl, ExternalSignInErrors.Failed, name);
        }
        var email = First(principal, Claims.Email) ?? principal.FindFirst(ClaimTypes.Email)?.Value;
        var verified = provider.Options.TrustEmail || string.Equals(First(principal, Claims.EmailVerified), "true", StringComparison.OrdinalIgnoreCase);

        var user = await users.FindByLoginAsync(name, subject);
        if (user is null)
        {
            var (linked, refusal) = await FirstSignInAsync(http, provider, subject, email, verified, principal);
            if (linked is null)
            {
                Record(http, SecurityEventKind.SignInFailed, null, provider, "first sign-in refused: " + refusal);
                return Back(returnUrl, refusal!, name);
            }
            user = linked;
        }

        if (!user.Active)
        {
            Record(http, SecurityEventKind.SignInFailed, user, provider, "the account is not allowed to sign in");
            return Back(returnUrl, ExternalSignInErrors.Disabled, name);
        }
        if (await users.IsLockedOutAsync(user))
        {
            Record(http, SecurityEventKind.SignInFailed, user, provider, "sign-in refused: the account is locked");
            return Back(returnUrl, ExternalSignInErrors.LockedOut, name);
        }
        await sessions.StartAsync(http, user, remember: false);
        LogSignedIn(logger, user.Id, name);
        Record(http, SecurityEventKind.SignIn, user, provider, null);
        return Results.LocalRedirect(returnUrl);
    }

    /// <summary>The first sign-in of an external account: a link to an existing user, a new user, or a refusal code.</summary>
    private async Task<(IgnisUser? User, string? Refusal)> FirstSignInAsync(
        HttpContext http, ExternalProviderList.Entry provider, string subject, string? email, bool verified, ClaimsPrincipal principal)
    {
        var policy = provider.Options.FirstSignIn;
        if (policy == FirstSignInPolicy.LinkedOnly) return (null, ExternalSignInErrors.NotLinked);
        // An email the provider does not vouch for is never used: it could be anyone's address.
        if (!string.IsNullOrEmpty(email) && !verified) return (null, ExternalSignInErrors.Unverified);

        if (!string.IsNullOrEmpty(email))
        {
            IgnisUser? existing;
            try
            {
                existing = await users.FindByEmailAsync(email);
            }
            catch (InvalidOperationException)
            {
                return (null, ExternalSignInErrors.Ambiguous);
            }
            if (existing is not null)
            {
                var added = await users.AddLoginAsync(existing, new UserLoginInfo(provider.Name, subject, provider.DisplayName));
                if (!added.Succeeded) return (null, ExternalSignInErrors.Failed);
                LogLinked(logger, existing.Id, provider.Name);
                Record(http, SecurityEventKind.UserChanged, existing, provider, "external account linked by verified email");
                return (existing, null);
            }
        }
        if (policy != FirstSignInPolicy.LinkOrProvision)
            return (null, string.IsNullOrEmpty(email) ? ExternalSignInErrors.NotLinked : ExternalSignInErrors.NoAccount);
        return await ProvisionAsync(http, provider, subject, email, principal);
    }

    private async Task<(IgnisUser? User, string? Refusal)> ProvisionAsync(
        HttpContext http, ExternalProviderList.Entry provider, string subject, string? email, ClaimsPrincipal principal)
    {
        var user = new IgnisUser
        {
            UserName = await UniqueUserNameAsync(provider.Name, subject, email),
            Email = email,
            EmailConfirmed = email is not null,
            DisplayName = Shorten(First(principal, Claims.Name), 256),
            GivenName = Shorten(First(principal, Claims.GivenName), 256),
            FamilyName = Shorten(First(principal, Claims.FamilyName), 256),
        };
        var created = await users.CreateAsync(user);
        if (!created.Succeeded) return (null, ExternalSignInErrors.Failed);
        if (provider.Options.ProvisionRole is { Length: > 0 } role && !(await users.AddToRoleAsync(user, role)).Succeeded)
            return (null, ExternalSignInErrors.Failed);
        if (!(await users.AddLoginAsync(user, new UserLoginInfo(provider.Name, subject, provider.DisplayName))).Succeeded)
            return (null, ExternalSignInErrors.Failed);
        LogProvisioned(logger, user.Id, provider.Name);
        Record(http, SecurityEventKind.UserCreated, user, provider, "created at the first sign-in" + (provider.Options.ProvisionRole is { Length: > 0 } r ? ", role " + r : ""));
        return (user, null);
    }

    /// <summary>The verified email when no one has it as a user name yet, else {provider}-{a hash of the subject}.</summary>
    private async Task<string> UniqueUserNameAsync(string provider, string subject, string? email)
    {
        if (email is { Length: <= 256 } && email.All(c => c < 128 && (char.IsLetterOrDigit(c) || "-._@+".Contains(c)))
            && await users.FindByNameAsync(email) is null)
            return email;
        var hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(provider + "\n" + subject)))[..16];
        return $"{provider}-{hash}";
    }

    /// <summary>The merged principal holds the id token's and the userinfo response's claims: the same type can appear twice.</summary>
    private static string? First(ClaimsPrincipal principal, string type) => principal.FindFirst(type)?.Value;

    private static IResult Back(string returnUrl, string error, string provider) =>
        Results.Redirect(QueryHelpers.AddQueryString(AuthPages.Login,
            new Dictionary<string, string?> { ["returnUrl"] = returnUrl, ["external"] = error, ["provider"] = provider }));

    private static bool IsLocal(string? url) =>
        !string.IsNullOrEmpty(url) && url[0] == '/' && (url.Length == 1 || (url[1] != '/' && url[1] != '\\'));

    private static string? Shorten(string? s, int max) => string.IsNullOrEmpty(s) ? null : s.Length <= max ? s : s[..max];

    private void Record(HttpContext http, SecurityEventKind kind, IgnisUser? user, ExternalProviderList.Entry provider, string? detail) =>
        log.Record(http, new SecurityEvent(kind)
        {
            Failed = kind == SecurityEventKind.SignInFailed,
            User = user is not null ? new SecurityParty(user.Id, user.UserName ?? user.Id) : new SecurityParty(null, "(external: " + provider.Name + ")"),
            Detail = detail is null ? "via " + provider.DisplayName : detail + " (via " + provider.DisplayName + ")",
        });

    [LoggerMessage(EventId = 3730, Level = LogLevel.Information, Message = "User {UserId} signed in with provider {Provider}")]
    private static partial void LogSignedIn(ILogger logger, string userId, string provider);

    [LoggerMessage(EventId = 3731, Level = LogLevel.Information, Message = "Sign-in with provider {Provider} failed: {Reason}")]
    private static partial void LogFailed(ILogger logger, string provider, string reason);

    [LoggerMessage(EventId = 3732, Level = LogLevel.Information, Message = "User {UserId} linked to an account of provider {Provider} by verified email")]
    private static partial void LogLinked(ILogger logger, string userId, string provider);

    [LoggerMessage(EventId = 3733, Level = LogLevel.Information, Message = "User {UserId} created at the first sign-in with provider {Provider}")]
    private static partial void LogProvisioned(ILogger logger, string userId, string provider);
}
