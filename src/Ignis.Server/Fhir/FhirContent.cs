using Hl7.Fhir.Model;
using Task = System.Threading.Tasks.Task;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Serialization;
using Microsoft.Net.Http.Headers;

namespace Ignis.Server.Fhir;

/// <summary>Content negotiation for the FHIR API (R4 §3.1.0.1.8): _format, Accept and Content-Type.</summary>
public static class FhirContent
{
    public const string JsonMime = "application/fhir+json";
    public const string XmlMime = "application/fhir+xml";
    public const string JsonPatchMime = "application/json-patch+json";

    /// <summary>The response format: _format wins over Accept; JSON when nothing is said.</summary>
    public static FhirFormat? ResponseFormat(HttpRequest request)
    {
        var format = request.Query["_format"].LastOrDefault();
        if (!string.IsNullOrEmpty(format)) return FromName(format);

        var accept = request.Headers.Accept;
        if (accept.Count == 0) return FhirFormat.Json;
        if (!MediaTypeHeaderValue.TryParseList(accept, out var types) || types.Count == 0) return FhirFormat.Json;
        foreach (var t in types.OrderByDescending(t => t.Quality ?? 1))
        {
            var name = t.MediaType.Value ?? "";
            if (FromMime(name) is { } f) return f;
            if (name is "*/*" or "application/*" or "text/html" or "text/*") return FhirFormat.Json;
        }
        return null;
    }

    // A literal "+" in a query string decodes to a space: "application/fhir xml" means fhir+xml.
    public static FhirFormat? FromName(string name) => name.Trim().Replace(' ', '+').ToLowerInvariant() switch
    {
        "json" or "application/json" or "application/fhir+json" or "application/json+fhir" => FhirFormat.Json,
        "xml" or "text/xml" or "application/xml" or "application/fhir+xml" or "application/xml+fhir" => FhirFormat.Xml,
        var s when s.StartsWith("application/fhir+json", StringComparison.Ordinal) => FhirFormat.Json,
        var s when s.StartsWith("application/fhir+xml", StringComparison.Ordinal) => FhirFormat.Xml,
        _ => null,
    };

    public static FhirFormat? FromMime(string mime) => mime.ToLowerInvariant() switch
    {
        "application/fhir+json" or "application/json" or "application/json+fhir" => FhirFormat.Json,
        "application/fhir+xml" or "application/xml" or "text/xml" or "application/xml+fhir" => FhirFormat.Xml,
        _ => null,
    };

    public static string MimeOf(FhirFormat format) => format == FhirFormat.Json ? JsonMime : XmlMime;

    public static async Task WriteAsync(HttpContext http, FhirFormat format, Resource resource, bool pretty, Hl7.Fhir.Rest.SummaryType summary = Hl7.Fhir.Rest.SummaryType.False, string[]? elements = null)
    {
        http.Response.ContentType = MimeOf(format) + "; charset=utf-8";
        await http.Response.WriteAsync(FhirSerializer.Serialize(resource, format, summary, elements, pretty), http.RequestAborted);
    }

    public static Task WriteOutcomeAsync(HttpContext http, FhirFormat format, int status, OperationOutcome outcome)
    {
        http.Response.StatusCode = status;
        return WriteAsync(http, format, outcome, pretty: false);
    }

    public static Task WriteErrorAsync(HttpContext http, FhirFormat format, int status, OperationOutcome.IssueType code, string message) =>
        WriteOutcomeAsync(http, format, status, Outcomes.Error(code, message));
}
