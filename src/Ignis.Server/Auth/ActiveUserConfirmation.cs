using Ignis.Server.Data;
using Microsoft.AspNetCore.Identity;

namespace Ignis.Server.Auth;

/// <summary>
/// A disabled account (<see cref="IgnisUser.Active"/> false, e.g. SCIM "active": false) cannot sign in: Identity's
/// SignInManager asks this before every sign-in and token refresh (SignInOptions.RequireConfirmedAccount).
/// </summary>
public sealed class ActiveUserConfirmation : IUserConfirmation<IgnisUser>
{
    public Task<bool> IsConfirmedAsync(UserManager<IgnisUser> manager, IgnisUser user) => Task.FromResult(user.Active);
}
