using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Auth;
using Ignis.Server.Fhir;
using Ignis.Server.Scim.Groups;
using Ignis.Server.Scim.Schema;
using Ignis.Server.Scim.Users;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Scim;

/// <summary>
/// The SCIM 2.0 service at /scim/v2 (RFC 7644). Discovery (ServiceProviderConfig, ResourceTypes, Schemas) is open;
/// everything else needs a token (<see cref="ScimAuthentication"/>). Every answer is application/scim+json, every
/// refusal a SCIM Error.
/// </summary>
public static partial class ScimEndpoints
{
    public const string BasePath = "/scim/v2";
    public const string MediaType = "application/scim+json";

    private sealed record Reply(int Status, JsonNode? Body, long? Version = null, string? Location = null);

    private delegate Task<Reply> Handler(HttpContext http, ScimRequestContext request);

    // The body is JSON, never HTML: quotes in ETags and names need no \u escapes.
    private static readonly JsonSerializerOptions Output = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string BaseUrl(HttpContext http) => SmartDiscovery.Origin(http) + BasePath;

    public static IEndpointRouteBuilder MapScim(this IEndpointRouteBuilder app)
    {
        var scim = app.MapGroup(BasePath).DisableAntiforgery();
        Map(scim, "GET", "/ServiceProviderConfig", ServiceProviderConfig, open: true);
        Map(scim, "GET", "/ResourceTypes", (http, r) => Discovery(http, r, ScimSchemas.ResourceTypes.Select(t => ScimSchemas.ToJson(t, r.ScimBase))), open: true);
        Map(scim, "GET", "/ResourceTypes/{id}", (http, r) => DiscoveryItem(http, ScimSchemas.ResourceTypes.Select(t => ScimSchemas.ToJson(t, r.ScimBase)), "resource type"), open: true);
        Map(scim, "GET", "/Schemas", (http, r) => Discovery(http, r, ScimSchemas.All.Select(s => ScimSchemas.ToJson(s, r.ScimBase))), open: true);
        Map(scim, "GET", "/Schemas/{id}", (http, r) => DiscoveryItem(http, ScimSchemas.All.Select(s => ScimSchemas.ToJson(s, r.ScimBase)), "schema"), open: true);

        Map(scim, "GET", "/Users", (http, r) => Search<ScimUserService>(http, r, ScimQuery.FromQueryString(http.Request.Query, Options(http))));
        Map(scim, "POST", "/Users/.search", async (http, r) => await Search<ScimUserService>(http, r, ScimQuery.FromSearchRequest(await ReadBodyAsync(http), Options(http))));
        Map(scim, "POST", "/Users", async (http, r) =>
        {
            var (resource, version) = await Service<ScimUserService>(http).CreateAsync(r, await ReadBodyAsync(http));
            return new Reply(201, Project(http, resource, ScimSchemas.UserType), version, (string)resource["meta"]!["location"]!);
        });
        Map(scim, "GET", "/Users/{id}", async (http, r) => Single(http, await Service<ScimUserService>(http).GetAsync(r, Id(http)), ScimSchemas.UserType, read: true));
        Map(scim, "PUT", "/Users/{id}", async (http, r) =>
            Single(http, await Service<ScimUserService>(http).ReplaceAsync(r, Id(http), await ReadBodyAsync(http), IfMatch(http)), ScimSchemas.UserType));
        Map(scim, "PATCH", "/Users/{id}", async (http, r) =>
            Single(http, await Service<ScimUserService>(http).PatchAsync(r, Id(http), await ReadBodyAsync(http), IfMatch(http)), ScimSchemas.UserType));
        Map(scim, "DELETE", "/Users/{id}", async (http, r) =>
        {
            await Service<ScimUserService>(http).DeleteAsync(Id(http), IfMatch(http));
            return new Reply(204, null);
        });

        Map(scim, "GET", "/Groups", (http, r) => Search<ScimGroupService>(http, r, ScimQuery.FromQueryString(http.Request.Query, Options(http))));
        Map(scim, "POST", "/Groups/.search", async (http, r) => await Search<ScimGroupService>(http, r, ScimQuery.FromSearchRequest(await ReadBodyAsync(http), Options(http))));
        Map(scim, "POST", "/Groups", async (http, r) =>
        {
            await Service<ScimGroupService>(http).CreateAsync(await ReadBodyAsync(http));
            throw new InvalidOperationException("CreateAsync always refuses.");
        });
        Map(scim, "GET", "/Groups/{id}", async (http, r) => Single(http, await Service<ScimGroupService>(http).GetAsync(r, Id(http)), ScimSchemas.GroupType, read: true));
        Map(scim, "PUT", "/Groups/{id}", async (http, r) =>
            Single(http, await Service<ScimGroupService>(http).ReplaceAsync(r, Id(http), await ReadBodyAsync(http), IfMatch(http)), ScimSchemas.GroupType));
        Map(scim, "PATCH", "/Groups/{id}", async (http, r) =>
            Single(http, await Service<ScimGroupService>(http).PatchAsync(r, Id(http), await ReadBodyAsync(http), IfMatch(http)), ScimSchemas.GroupType));
        Map(scim, "DELETE", "/Groups/{id}", (http, r) =>
            throw new ScimException(501, null, $"Groups are the fixed Ignis roles ({string.Join(", ", Data.IgnisRoles.All)}); they cannot be deleted. Remove their members instead."));

        Map(scim, "POST", "/.search", (http, r) =>
            throw new ScimException(501, null, "Search across resource types is not supported; use POST /Users/.search or /Groups/.search."));
        Map(scim, "*", "/Me", (http, r) => throw new ScimException(501, null, "/Me is not supported: SCIM callers are administrators or backend clients."));
        Map(scim, "*", "/Bulk", (http, r) => throw new ScimException(501, null, "Bulk operations are not supported (see /ServiceProviderConfig)."));
        Map(scim, "*", "/{**rest}", Unknown, open: true);
        Map(scim, "*", "", Unknown, open: true);
        return app;
    }

    private static void Map(RouteGroupBuilder group, string method, string pattern, Handler handler, bool open = false)
    {
        RequestDelegate run = http => RunAsync(http, handler, open);
        var endpoint = method == "*" ? group.Map(pattern, run) : group.MapMethods(pattern, [method], run);
        // The catch-all answers only what no other route does.
        if (method == "*") endpoint.Add(b => ((RouteEndpointBuilder)b).Order = 1000);
    }

    private static async Task RunAsync(HttpContext http, Handler handler, bool open)
    {
        var request = new ScimRequestContext(BaseUrl(http), FhirEndpoints.BaseUrl(http));
        try
        {
            ScimAuthentication.RequireSecureTransport(http);
            if (!open) await ScimAuthentication.AuthenticateAsync(http, request.ScimBase);
            var reply = await handler(http, request);
            await WriteAsync(http, reply);
        }
        catch (ScimException e) when (!http.Response.HasStarted)
        {
            http.Response.Clear();
            if (e.Challenge is not null) http.Response.Headers.WWWAuthenticate = e.Challenge;
            await WriteAsync(http, new Reply(e.Status, e.ToJson()));
        }
        catch (Exception e) when (!http.Response.HasStarted && e is not OperationCanceledException)
        {
            LogUnhandled(http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Ignis.Scim"), e, http.Request.Method, http.Request.Path);
            http.Response.Clear();
            await WriteAsync(http, new Reply(500, new ScimException(500, null, "The server could not complete the request. The error has been logged.").ToJson()));
        }
    }

    private static async Task WriteAsync(HttpContext http, Reply reply)
    {
        http.Response.StatusCode = reply.Status;
        http.Response.Headers.CacheControl = "no-store";
        if (reply.Version is { } version) http.Response.Headers.ETag = ScimUserMapper.ETag(version);
        if (reply.Location is not null) http.Response.Headers.Location = reply.Location;
        if (reply.Body is null) return;
        http.Response.ContentType = MediaType + "; charset=utf-8";
        await http.Response.WriteAsync(reply.Body.ToJsonString(Output), Encoding.UTF8);
    }

    private static Reply Single(HttpContext http, (JsonObject Resource, long Version) result, ScimResourceType type, bool read = false)
    {
        // RFC 7644 §3.14: a client holding the current version gets 304 without the body.
        if (read && http.Request.Headers.IfNoneMatch.ToString() is { Length: > 0 } ifNoneMatch && ScimPreconditions.Matches(ifNoneMatch, result.Version))
            return new Reply(304, null, result.Version);
        return new Reply(200, Project(http, result.Resource, type), result.Version, read ? null : null);
    }

    private static JsonObject Project(HttpContext http, JsonObject resource, ScimResourceType type)
    {
        var query = ScimQuery.FromQueryString(http.Request.Query, Options(http));
        return ScimJson.Project(resource, type, query.Attributes, query.ExcludedAttributes);
    }

    private static async Task<Reply> Search<TService>(HttpContext http, ScimRequestContext request, ScimQuery query) where TService : class
    {
        var service = Service<TService>(http);
        var result = service switch
        {
            ScimUserService users => await users.SearchAsync(request, query),
            ScimGroupService groups => await groups.SearchAsync(request, query),
            _ => throw new InvalidOperationException(typeof(TService).Name),
        };
        return new Reply(200, result);
    }

    private static Task<Reply> ServiceProviderConfig(HttpContext http, ScimRequestContext request)
    {
        var options = Options(http);
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.ServiceProviderConfigUrn),
            ["documentationUri"] = SmartDiscovery.Origin(http) + "/",
            ["patch"] = new JsonObject { ["supported"] = true },
            ["bulk"] = new JsonObject { ["supported"] = false, ["maxOperations"] = 0, ["maxPayloadSize"] = 0 },
            ["filter"] = new JsonObject { ["supported"] = true, ["maxResults"] = options.MaxResults },
            ["changePassword"] = new JsonObject { ["supported"] = true },
            ["sort"] = new JsonObject { ["supported"] = true },
            ["etag"] = new JsonObject { ["supported"] = true },
            ["authenticationSchemes"] = new JsonArray(new JsonObject
            {
                ["type"] = "oauthbearertoken",
                ["name"] = "OAuth Bearer Token",
                ["description"] = $"An access token from {SmartDiscovery.Origin(http)}/oauth/token with the scim scope: client_credentials for a client an administrator registered for scim, or an administrator's token.",
                ["specUri"] = "https://www.rfc-editor.org/info/rfc6750",
                ["primary"] = true,
            }),
            ["meta"] = new JsonObject { ["resourceType"] = "ServiceProviderConfig", ["location"] = request.ScimBase + "/ServiceProviderConfig" },
        };
        return Task.FromResult(new Reply(200, body));
    }

    /// <summary>RFC 7644 §4: the discovery lists are ListResponses; filtering them is not supported (403).</summary>
    private static Task<Reply> Discovery(HttpContext http, ScimRequestContext request, IEnumerable<JsonObject> items)
    {
        if (http.Request.Query.ContainsKey("filter"))
            throw new ScimException(403, null, "Filtering the discovery endpoints is not supported.");
        var list = items.ToList();
        return Task.FromResult(new Reply(200, new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.ListResponseUrn),
            ["totalResults"] = list.Count,
            ["itemsPerPage"] = list.Count,
            ["startIndex"] = 1,
            ["Resources"] = new JsonArray([.. list]),
        }));
    }

    private static Task<Reply> DiscoveryItem(HttpContext http, IEnumerable<JsonObject> items, string what)
    {
        var id = Id(http);
        var item = items.FirstOrDefault(i => string.Equals((string?)i["id"], id, StringComparison.OrdinalIgnoreCase))
            ?? throw ScimException.NotFound($"No {what} {id}.");
        return Task.FromResult(new Reply(200, item));
    }

    private static Task<Reply> Unknown(HttpContext http, ScimRequestContext request)
    {
        var path = http.Request.Path.Value ?? "";
        var known = new[] { "/Users", "/Groups", "/ServiceProviderConfig", "/ResourceTypes", "/Schemas" }
            .Any(p => path.StartsWith(BasePath + p, StringComparison.Ordinal));
        throw known
            ? new ScimException(405, null, $"{http.Request.Method} is not supported on {path}.")
            : ScimException.NotFound($"{path} is not a SCIM endpoint of this server.");
    }

    /// <summary>A JSON object request body: application/scim+json (or application/json), bounded in size.</summary>
    private static async Task<JsonObject> ReadBodyAsync(HttpContext http)
    {
        var contentType = http.Request.ContentType;
        if (!string.IsNullOrEmpty(contentType))
        {
            var media = contentType.Split(';')[0].Trim();
            if (!media.Equals(MediaType, StringComparison.OrdinalIgnoreCase) && !media.Equals("application/json", StringComparison.OrdinalIgnoreCase))
                throw new ScimException(415, null, $"Send the body as {MediaType} (or application/json), not {media}.");
        }
        var limit = Options(http).MaxBodyBytes;
        if (http.Request.ContentLength > limit) throw new ScimException(413, null, $"The body is larger than {limit} bytes.");
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            if (buffer.Length + read > limit) throw new ScimException(413, null, $"The body is larger than {limit} bytes.");
            buffer.Write(chunk, 0, read);
        }
        if (buffer.Length == 0) throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, "The request needs a JSON body.");
        try
        {
            var node = JsonNode.Parse(buffer.ToArray(), documentOptions: new JsonDocumentOptions { AllowDuplicateProperties = false, MaxDepth = 64 });
            return node as JsonObject ?? throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, "The body must be a JSON object.");
        }
        catch (JsonException e)
        {
            throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, "The body is not valid JSON: " + e.Message);
        }
    }

    private static T Service<T>(HttpContext http) where T : notnull => http.RequestServices.GetRequiredService<T>();

    private static ScimOptions Options(HttpContext http) => http.RequestServices.GetRequiredService<IOptions<ScimOptions>>().Value;

    private static string Id(HttpContext http) => (string)http.GetRouteValue("id")!;

    private static string? IfMatch(HttpContext http) => http.Request.Headers.IfMatch.ToString() is { Length: > 0 } v ? v : null;

    [LoggerMessage(EventId = 3590, Level = LogLevel.Error, Message = "Unhandled exception on SCIM {Method} {Path}")]
    private static partial void LogUnhandled(ILogger logger, Exception exception, string method, string path);
}
