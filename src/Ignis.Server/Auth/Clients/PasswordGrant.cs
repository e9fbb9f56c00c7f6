using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using Ignis.Server.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Ignis.Server.Auth.Clients;

/// <summary>
/// The legacy resource-owner password grant (RFC 6749 §4.3) at /oauth/token. OpenIddict has authenticated the
/// client and checked that it is enabled for the grant (unauthorized_client otherwise); this throttles the client
/// and address, checks the password with Identity's lockout, and issues what the code flow would for this user.
/// </summary>
/// <remarks>
/// Every failure (unknown user, wrong password, locked or disabled account) is the same invalid_grant, and an
/// unknown user costs the same password hash as a known one, so answers do not tell which user names exist.
/// </remarks>
public sealed partial class PasswordGrant(
    UserManager<IgnisUser> users,
    SignInManager<IgnisUser> signIn,
    SmartPrincipalFactory principals,
    PasswordGrantLimiter limiter,
    IOptionsMonitor<AuthOptions> options,
    TimeProvider clock,
    ILogger<PasswordGrant> logger,
    Ignis.Server.Audit.SecurityLog log)
{
    private const string FailureWindowProvider = "Ignis";
    private const string FailureWindowName = "PasswordFailureWindowStart";
    private const string Failure = "The user name or password is wrong, or the account cannot sign in now.";

    public async Task<IResult> HandleAsync(HttpContext http, OpenIddictRequest request)
    {
        var clientId = request.ClientId!;
        var (acquired, retryAfter) = await limiter.TryAcquireAsync(clientId, http.Connection.RemoteIpAddress, http.RequestAborted);
        if (!acquired)
        {
            LogRateLimited(logger, clientId);
            return TooManyRequests(http, retryAfter);
        }

        var user = await users.FindByNameAsync(request.Username ?? "");
        if (!await CheckPasswordAsync(user, request.Password ?? ""))
        {
            var locked = user is not null && await users.IsLockedOutAsync(user);
            log.Record(http, new Ignis.Server.Audit.SecurityEvent(locked ? Ignis.Server.Audit.SecurityEventKind.Lockout : Ignis.Server.Audit.SecurityEventKind.SignInFailed)
            {
                Failed = true,
                User = new Ignis.Server.Audit.SecurityParty(user?.Id, user?.UserName ?? (request.Username is { Length: > 0 } n ? n[..Math.Min(n.Length, 64)] : "(empty)")),
                Client = new Ignis.Server.Audit.SecurityParty(clientId, clientId),
                Detail = locked ? "password grant refused: the account is locked" : "password grant: wrong user name or password",
            });
            return Reject(Errors.InvalidGrant, Failure);
        }

        var scopes = Scopes(request, user!);
        var principal = await principals.CreateAsync(http, user!, scopes, user!.PatientId, encounter: null);
        LogIssued(logger, user.Id, clientId);
        var properties = new AuthenticationProperties(items: null, parameters: principals.ResponseParameters(http, principal));
        return Results.SignIn(principal, properties, OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    /// <summary>
    /// What the code flow would grant this user: valid SMART scopes (and the extra scopes), no system/ scopes, no
    /// EHR launch or encounter (there is no launch), patient/ scopes only for a patient user (bound to their own
    /// record), and no online_access (there is no browser session for it to end with).
    /// </summary>
    private List<string> Scopes(OpenIddictRequest request, IgnisUser user)
    {
        var scopes = SmartScopes.Filter(request.GetScopes(), options.CurrentValue.ExtraScopes).Where(s => !SmartScopes.IsSystem(s)).ToList();
        scopes.RemoveAll(s => s is SmartScopes.Launch or SmartScopes.LaunchEncounter or SmartScopes.OnlineAccess);
        if (user.PatientId is null) scopes.RemoveAll(s => s == SmartScopes.LaunchPatient || SmartScopes.IsPatient(s));
        return scopes;
    }

    /// <summary>
    /// Identity's lockout, with a window: failures older than Ignis:Auth:Lockout:Window are forgotten, so the account
    /// locks after MaxFailedAttempts wrong passwords within the window.
    /// </summary>
    private async Task<bool> CheckPasswordAsync(IgnisUser? user, string password)
    {
        if (user is null)
        {
            // The same work as for a real user: a wrong user name must not answer faster than a wrong password.
            users.PasswordHasher.VerifyHashedPassword(new IgnisUser(), DummyHash.Value, password);
            LogFailed(logger, null);
            return false;
        }
        if (await users.IsLockedOutAsync(user))
        {
            users.PasswordHasher.VerifyHashedPassword(user, DummyHash.Value, password);
            LogLockedOut(logger, user.Id);
            return false;
        }

        var now = clock.GetUtcNow();
        if (user.AccessFailedCount > 0)
        {
            var start = await users.GetAuthenticationTokenAsync(user, FailureWindowProvider, FailureWindowName);
            if (start is null)
                await users.SetAuthenticationTokenAsync(user, FailureWindowProvider, FailureWindowName, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
            else if (long.TryParse(start, CultureInfo.InvariantCulture, out var seconds)
                     && DateTimeOffset.FromUnixTimeSeconds(seconds) + options.CurrentValue.Lockout.Window <= now)
                await users.ResetAccessFailedCountAsync(user);
        }

        var result = await signIn.CheckPasswordSignInAsync(user, password, lockoutOnFailure: true);
        if (result.Succeeded) return true;
        if (user.AccessFailedCount == 1)
            await users.SetAuthenticationTokenAsync(user, FailureWindowProvider, FailureWindowName, now.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture));
        if (result.IsLockedOut) LogLockedOut(logger, user.Id);
        else LogFailed(logger, user.Id);
        return false;
    }

    private static readonly Lazy<string> DummyHash = new(() => new PasswordHasher<IgnisUser>().HashPassword(new IgnisUser(), ClientRegistry.NewToken(16)));

    /// <summary>RFC 6585 §4: 429 with Retry-After (seconds).</summary>
    private static IResult TooManyRequests(HttpContext http, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        http.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        http.Response.Headers.CacheControl = "no-store";
        return Results.Json(new
        {
            error = "temporarily_unavailable",
            error_description = $"Too many password attempts from this client and address; retry after {seconds} seconds.",
        }, statusCode: StatusCodes.Status429TooManyRequests);
    }

    private static IResult Reject(string error, string description) =>
        Results.Forbid(new AuthenticationProperties(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }), [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme]);

    [LoggerMessage(EventId = 3410, Level = LogLevel.Information, Message = "Password grant: tokens issued for user {UserId} to client {ClientId}")]
    private static partial void LogIssued(ILogger logger, string userId, string clientId);

    [LoggerMessage(EventId = 3411, Level = LogLevel.Information, Message = "Password grant: wrong password or unknown user (user {UserId})")]
    private static partial void LogFailed(ILogger logger, string? userId);

    [LoggerMessage(EventId = 3412, Level = LogLevel.Warning, Message = "Password grant: user {UserId} is locked out")]
    private static partial void LogLockedOut(ILogger logger, string userId);

    [LoggerMessage(EventId = 3413, Level = LogLevel.Warning, Message = "Password grant: client {ClientId} rate-limited")]
    private static partial void LogRateLimited(ILogger logger, string clientId);
}

/// <summary>
/// The password grant's per-client-and-address limit (Ignis:Auth:LegacyGrants:PasswordRateLimit per
/// PasswordRateWindow), a fixed window per partition, counted in the database (table AuthRateCounters) so that every
/// node counts against the same limit: a guesser spread over several nodes gets no more tries.
/// </summary>
public sealed class PasswordGrantLimiter(AuthDatabase database, IOptions<AuthOptions> options, TimeProvider clock)
{
    // Both providers. A window starts with the first request after the previous one ended (as a fixed-window
    // limiter's does); the update's expressions all see the row as it was.
    private const string Count =
        "INSERT INTO \"AuthRateCounters\" (\"Key\", \"WindowStart\", \"Count\") VALUES (@key, @now, 1) " +
        "ON CONFLICT (\"Key\") DO UPDATE SET " +
        "\"Count\" = CASE WHEN \"AuthRateCounters\".\"WindowStart\" > @expired THEN \"AuthRateCounters\".\"Count\" + 1 ELSE 1 END, " +
        "\"WindowStart\" = CASE WHEN \"AuthRateCounters\".\"WindowStart\" > @expired THEN \"AuthRateCounters\".\"WindowStart\" ELSE @now END " +
        "RETURNING \"Count\", \"WindowStart\"";

    private long WindowSeconds => Math.Max(1, (long)options.Value.LegacyGrants.PasswordRateWindow.TotalSeconds);

    public async Task<(bool Acquired, TimeSpan RetryAfter)> TryAcquireAsync(string clientId, IPAddress? address, CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        var key = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(clientId + "\0" + address))).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = Count;
        Add(command, "@key", key);
        Add(command, "@now", now);
        Add(command, "@expired", now - WindowSeconds);
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var count = Convert.ToInt64(reader.GetValue(0), CultureInfo.InvariantCulture);
        var started = Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture);
        return count <= options.Value.LegacyGrants.PasswordRateLimit
            ? (true, TimeSpan.Zero)
            : (false, TimeSpan.FromSeconds(Math.Max(1, started + WindowSeconds - now)));
    }

    /// <summary>Deletes the counters of windows that have ended.</summary>
    public async Task<int> PruneAsync(CancellationToken ct)
    {
        var now = clock.GetUtcNow().ToUnixTimeSeconds();
        await using var connection = await database.OpenAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM \"AuthRateCounters\" WHERE \"WindowStart\" < @before";
        Add(command, "@before", now - WindowSeconds);
        return await command.ExecuteNonQueryAsync(ct);
    }

    private static void Add(System.Data.Common.DbCommand command, string name, object value)
    {
        var p = command.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        command.Parameters.Add(p);
    }
}
