using System.Text.Json;
using Hl7.Fhir.Model;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Ignis.Server.Fhir;

namespace Ignis.Server.Hosting;

/// <summary>
/// A request that failed because the database cannot be reached (PostgreSQL down, restarting or out of connections)
/// gets a 503 in the standard error format of its endpoint, never a 500: an OperationOutcome under /fhir, the
/// RFC 6749 error <c>temporarily_unavailable</c> under /oauth, a SCIM error under /scim. Nothing is held back: the
/// next request tries the database again, so a node recovers by itself as soon as the database is back.
/// </summary>
public static partial class DatabaseOutage
{
    /// <summary>Seconds a client should wait before trying again (Retry-After).</summary>
    public const int RetryAfterSeconds = 2;

    public const string Message = "The database cannot be reached at the moment; try again shortly.";

    /// <summary>Whether <paramref name="e"/> (or an exception inside it, e.g. EF Core's or OpenIddict's wrapper) says the database is unreachable.</summary>
    public static bool IsOutage(HttpContext http, Exception e) =>
        http.RequestServices.GetService<IFhirStore>() is { } store && store.IsUnavailable(e);

    public static async System.Threading.Tasks.Task WriteAsync(HttpContext http, Exception e)
    {
        var logger = http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Ignis.Errors");
        LogOutage(logger, http.Request.Method, http.Request.Path, e.GetType().Name, e.Message);
        http.Response.Clear();
        http.Response.Headers.RetryAfter = RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var path = http.Request.Path;
        if (path.StartsWithSegments("/fhir"))
        {
            await FhirContent.WriteErrorAsync(http, FhirFormat.Json, StatusCodes.Status503ServiceUnavailable, OperationOutcome.IssueType.Transient, Message);
            return;
        }
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.CacheControl = "no-store";
        if (path.StartsWithSegments("/scim"))
        {
            http.Response.ContentType = "application/scim+json";
            await http.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, object>
            {
                ["schemas"] = new[] { Scim.Schema.ScimSchemas.ErrorUrn },
                ["status"] = "503",
                ["detail"] = Message,
            }));
            return;
        }
        // /oauth and everything else (the sign-in pages, the portal): the OAuth error object, which a browser shows as text.
        http.Response.ContentType = "application/json;charset=UTF-8";
        await http.Response.WriteAsync(JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["error"] = "temporarily_unavailable",
            ["error_description"] = Message,
        }));
    }

    // A warning without the stack trace: an outage is an operational event, not a bug.
    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "Database unreachable on {Method} {Path}: {Kind}: {Reason}; answered 503")]
    private static partial void LogOutage(ILogger logger, string method, string path, string kind, string reason);
}
