using System.Globalization;
using System.Net;
using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Hl7.Fhir.Rest;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Serialization;
using Ignis.Server.Hosting;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Ignis.Server.Fhir;

/// <summary>The FHIR REST API under /fhir: turns HTTP into <see cref="FhirRequest"/>s and responses back into HTTP.</summary>
public static class FhirEndpoints
{
    public const string BasePath = "/fhir";

    public static IEndpointRouteBuilder MapFhir(this IEndpointRouteBuilder app)
    {
        app.MapMethods(BasePath + "/{**path}", ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], HandleAsync);
        app.MapMethods(BasePath, ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"], HandleAsync);
        return app;
    }

    public static string BaseUrl(HttpContext http)
    {
        var configured = http.RequestServices.GetRequiredService<IOptions<IgnisOptions>>().Value.PublicBaseUrl;
        var origin = !string.IsNullOrEmpty(configured)
            ? configured.TrimEnd('/')
            : $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}";
        return origin + BasePath;
    }

    private static async Task HandleAsync(HttpContext http)
    {
        var format = FhirContent.ResponseFormat(http.Request);
        if (format is null)
        {
            await FhirContent.WriteErrorAsync(http, FhirFormat.Json, StatusCodes.Status406NotAcceptable, OperationOutcome.IssueType.NotSupported,
                "The requested format is not supported: use application/fhir+json or application/fhir+xml.");
            return;
        }
        try
        {
            await HandleAsync(http, format.Value);
        }
        catch (FhirException e)
        {
            await FhirContent.WriteOutcomeAsync(http, format.Value, (int)e.Status, e.Outcome);
        }
        catch (UnauthorizedException e)
        {
            http.Response.Headers.WWWAuthenticate = FhirAuthentication.Challenge(http, e.Error, e.Description);
            var fhir = e.ToFhir();
            await FhirContent.WriteOutcomeAsync(http, format.Value, (int)fhir.Status, fhir.Outcome);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            await FhirContent.WriteErrorAsync(http, format.Value, 413, OperationOutcome.IssueType.TooLong, "The request body is larger than this server accepts.");
        }
    }

    private static async Task HandleAsync(HttpContext http, FhirFormat format)
    {
        var path = (string?)http.Request.RouteValues["path"] ?? "";
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var route = FhirRequest.Route(http.Request.Method, segments);
        if (route is null)
        {
            var known = FhirRequest.Route("GET", segments) is not null || FhirRequest.Route("POST", segments) is not null;
            throw new FhirException(known ? HttpStatusCode.MethodNotAllowed : HttpStatusCode.NotFound, OperationOutcome.IssueType.NotSupported,
                $"{http.Request.Method} {BasePath}/{FhirService.Truncate(path)} is not a FHIR interaction this server supports.");
        }
        var (interaction, type, id, version, compartment) = route.Value;
        var options = http.RequestServices.GetRequiredService<IOptions<IgnisOptions>>().Value;
        var prefer = ParsePrefer(http.Request.Headers["Prefer"]);

        if (interaction == Interaction.Capabilities)
        {
            var builder = http.RequestServices.GetRequiredService<CapabilityStatementBuilder>();
            var pretty = http.Request.Query["_pretty"].LastOrDefault() == "true";
            var summary = ParseSummary(http.Request.Query["_summary"].LastOrDefault());
            var text = builder.Serialized(BaseUrl(http), format, pretty, summary);
            http.Response.ContentType = FhirContent.MimeOf(format) + "; charset=utf-8";
            await http.Response.WriteAsync(text, http.RequestAborted);
            http.RequestServices.GetService<StartupTimings>()?.Write(
                http.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Ignis.Startup"), "first /fhir/metadata answered");
            return;
        }

        var access = await FhirAuthentication.AuthenticateAsync(http);
        var query = http.Request.Query.SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string>(kv.Key, v ?? ""))).ToList();
        Resource? body = null;
        byte[]? patch = null;
        var isSearchPost = http.Request.Method == "POST" && interaction is Interaction.SearchType or Interaction.SearchSystem or Interaction.SearchCompartment;
        if (isSearchPost)
        {
            if (http.Request.HasFormContentType)
            {
                var form = await http.Request.ReadFormAsync(http.RequestAborted);
                query.AddRange(form.SelectMany(kv => kv.Value.Select(v => new KeyValuePair<string, string>(kv.Key, v ?? ""))));
            }
            else if ((http.Request.ContentLength ?? 0) > 0)
            {
                throw new FhirException(HttpStatusCode.UnsupportedMediaType, OperationOutcome.IssueType.NotSupported,
                    "POST _search takes its parameters as application/x-www-form-urlencoded.");
            }
        }
        else if (http.Request.Method is "POST" or "PUT" or "PATCH")
        {
            var bytes = await ReadBodyAsync(http, options.Fhir.MaxBodyBytes);
            var contentType = http.Request.ContentType;
            var mime = contentType is null ? null : MediaTypeHeaderValue.TryParse(contentType, out var mt) ? mt.MediaType.Value?.ToLowerInvariant() : "invalid";
            if (http.Request.Method == "PATCH" && mime == FhirContent.JsonPatchMime)
            {
                patch = bytes;
            }
            else
            {
                FhirFormat bodyFormat;
                if (mime is null)
                    bodyFormat = SniffFormat(bytes);
                else
                    bodyFormat = FhirContent.FromMime(mime) ?? throw new FhirException(HttpStatusCode.UnsupportedMediaType,
                        OperationOutcome.IssueType.NotSupported,
                        $"Content-Type '{FhirService.Truncate(contentType!)}' is not supported: send application/fhir+json or application/fhir+xml" +
                        (http.Request.Method == "PATCH" ? $", or {FhirContent.JsonPatchMime} for a patch." : "."));
                if (bytes.Length == 0) throw FhirException.BadRequest("The request has no body.");
                body = FhirSerializer.Parse(bytes, bodyFormat);
                // A FHIR body in a PATCH is a FHIRPath Patch (R4 fhirpatch.html): a Parameters resource.
                if (http.Request.Method == "PATCH" && body is not Parameters)
                    throw new FhirException(HttpStatusCode.UnsupportedMediaType, OperationOutcome.IssueType.NotSupported,
                        $"A patch must be a JSON Patch document ({FhirContent.JsonPatchMime}) or a FHIRPath Patch Parameters resource " +
                        $"({FhirContent.JsonMime} or {FhirContent.XmlMime}), not a {body.TypeName}.");
            }
        }

        var request = new FhirRequest
        {
            Interaction = interaction,
            Method = http.Request.Method,
            Type = type,
            Id = id,
            Version = version,
            CompartmentType = compartment,
            Query = query,
            Body = body,
            PatchBody = patch,
            IfMatch = http.Request.Headers.IfMatch.FirstOrDefault(),
            IfNoneMatch = http.Request.Headers.IfNoneMatch.FirstOrDefault(),
            IfNoneExist = http.Request.Headers["If-None-Exist"].FirstOrDefault(),
            IfModifiedSince = http.Request.GetTypedHeaders().IfModifiedSince,
            Prefer = prefer.Return,
            StrictHandling = prefer.Strict,
            Access = access,
        };

        var service = http.RequestServices.GetRequiredService<FhirService>();
        var baseUrl = BaseUrl(http);
        var response = await service.ExecuteAsync(request, baseUrl, http.RequestAborted);
        // The Limit policy's anonymous access reaches only the public types: anything else needs a token (RFC 6750 §3.1).
        if (response.Status == StatusCodes.Status403Forbidden && http.Items.ContainsKey(Auth.Mtls.ClientCertificateAllowList.LimitedKey))
            throw new UnauthorizedException(null,
                "This request needs an access token (Authorization: Bearer ...); without one only the public resource types can be read and searched.");
        await WriteResponseAsync(http, format, response, request, baseUrl);
    }

    private static FhirFormat SniffFormat(byte[] bytes)
    {
        foreach (var b in bytes)
        {
            if (b is (byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF) continue;
            return b == '<' ? FhirFormat.Xml : FhirFormat.Json;
        }
        return FhirFormat.Json;
    }

    private static async Task<byte[]> ReadBodyAsync(HttpContext http, long limit)
    {
        if (http.Request.ContentLength > limit) throw TooLarge(limit);
        var sizeFeature = http.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>();
        if (sizeFeature is { IsReadOnly: false }) sizeFeature.MaxRequestBodySize = null;
        using var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
        {
            buffer.Write(chunk, 0, read);
            if (buffer.Length > limit) throw TooLarge(limit);
        }
        return buffer.ToArray();
    }

    private static FhirException TooLarge(long limit) => new(HttpStatusCode.RequestEntityTooLarge, OperationOutcome.IssueType.TooLong,
        $"The request body is larger than the {limit.ToString(CultureInfo.InvariantCulture)} bytes this server accepts (Ignis:Fhir:MaxBodyBytes).");

    private static (PreferReturn Return, bool Strict) ParsePrefer(Microsoft.Extensions.Primitives.StringValues values)
    {
        var ret = PreferReturn.Representation;
        var strict = false;
        foreach (var part in values.SelectMany(v => (v ?? "").Split(',', ';')))
        {
            var kv = part.Split('=', 2, StringSplitOptions.TrimEntries);
            if (kv.Length != 2) continue;
            var value = kv[1].Trim('"');
            switch (kv[0].ToLowerInvariant())
            {
                case "return":
                    ret = value.ToLowerInvariant() switch
                    {
                        "minimal" => PreferReturn.Minimal,
                        "operationoutcome" => PreferReturn.OperationOutcome,
                        _ => PreferReturn.Representation,
                    };
                    break;
                case "handling":
                    strict = value.Equals("strict", StringComparison.OrdinalIgnoreCase);
                    break;
            }
        }
        return (ret, strict);
    }

    private static async Task WriteResponseAsync(HttpContext http, FhirFormat format, FhirResponse response, FhirRequest request, string baseUrl)
    {
        var headers = http.Response.Headers;
        if (response.ETag is not null) headers.ETag = response.ETag;
        if (response.LastModified is { } lm) headers.LastModified = lm.ToString("R", CultureInfo.InvariantCulture);
        if (response.Location is not null)
        {
            headers.Location = $"{baseUrl}/{response.Location}";
            if (response.Status is 200 or 201) headers.ContentLocation = headers.Location;
        }

        if (response.Status >= 400)
        {
            await FhirContent.WriteOutcomeAsync(http, format, response.Status, response.Outcome ?? Outcomes.Error(OperationOutcome.IssueType.Processing, "The request failed."));
            return;
        }
        if (response.Status is 204 or 304)
        {
            http.Response.StatusCode = response.Status;
            return;
        }

        var isWrite = FhirService.IsWrite(request.Interaction) || request.Interaction == Interaction.Bundle;
        // A batch or transaction always answers with its response Bundle (R4 §3.1.0.11): Prefer shapes its entries.
        if (isWrite && request.Prefer == PreferReturn.Minimal && request.Interaction != Interaction.Bundle)
        {
            http.Response.StatusCode = response.Status;
            return;
        }
        if (isWrite && request.Prefer == PreferReturn.OperationOutcome && request.Interaction != Interaction.Bundle)
        {
            await FhirContent.WriteOutcomeAsync(http, format, response.Status,
                response.Outcome ?? Outcomes.Information($"{request.Method} succeeded: {response.Location ?? ""}"));
            return;
        }

        http.Response.StatusCode = response.Status;
        var pretty = http.Request.Query["_pretty"].LastOrDefault() == "true";
        var summary = ParseSummary(http.Request.Query["_summary"].LastOrDefault());
        // _elements keeps the id and meta too (R4 §3.1.1.5.9): a client must still know what it got.
        var elements = http.Request.Query["_elements"].LastOrDefault() is { Length: > 0 } e
            ? ["id", "meta", .. e.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)] : (string[]?)null;

        if (response.Resource is not null)
        {
            // The SDK applies _summary and _elements to the resources inside a searchset Bundle.
            await FhirContent.WriteAsync(http, format, response.Resource, pretty, summary, elements);
            return;
        }
        if (response.Stored?.Json is { } json)
        {
            if (format == FhirFormat.Json && !pretty && summary == SummaryType.False && elements is null)
            {
                // The fast path: stored JSON goes out as it is.
                http.Response.ContentType = FhirContent.JsonMime + "; charset=utf-8";
                await http.Response.WriteAsync(json, http.RequestAborted);
                return;
            }
            await FhirContent.WriteAsync(http, format, FhirSerializer.FromStoredJson(json), pretty, summary, elements);
        }
    }

    public static SummaryType ParseSummary(string? value) => value?.ToLowerInvariant() switch
    {
        "true" => SummaryType.True,
        "text" => SummaryType.Text,
        "data" => SummaryType.Data,
        "count" => SummaryType.Count,
        _ => SummaryType.False,
    };
}
