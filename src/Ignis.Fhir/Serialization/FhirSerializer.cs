using System.Net;
using System.Text;
using System.Text.Json;
using System.Xml;
using Hl7.Fhir.Model;
using Hl7.Fhir.Rest;
using Hl7.Fhir.Serialization;
using Hl7.Fhir.Utility;
using Ignis.Fhir.Engine;

namespace Ignis.Fhir.Serialization;

public enum FhirFormat { Json, Xml }

/// <summary>
/// Strict parsing and serialization of FHIR JSON and XML. Every problem the Firely SDK finds in a body
/// (syntax, unknown elements, wrong types, invalid codes in required bindings) becomes one issue of a 400
/// OperationOutcome with the element's location.
/// </summary>
public static class FhirSerializer
{
    private static readonly DeserializerSettings Strict = new DeserializerSettings().UsingMode(DeserializationMode.Strict);
    private static readonly FhirJsonDeserializer JsonParser = new(Strict);
    private static readonly FhirXmlDeserializer XmlParser = new(Strict);

    // The SDK's XHTML narrative validation costs ~95 µs per resource whether or not a narrative is present
    // (117 µs against 22 µs to parse a 600-byte resource, bench/Ignis.Bench.WritePath). JSON bodies that cannot
    // hold a narrative (no "div" anywhere in them, and no JSON \u escape that could spell it) are parsed with every
    // other strict rule and without it.
    private static readonly DeserializerSettings StrictNoNarrative =
        new DeserializerSettings().UsingMode(DeserializationMode.Strict, Hl7.Fhir.Validation.NarrativeValidationKind.None);
    private static readonly FhirJsonDeserializer JsonParserNoNarrative = new(StrictNoNarrative);

    private static bool MayHoldNarrative(ReadOnlySpan<byte> body) => body.IndexOf("div"u8) >= 0 || body.IndexOf("\\u"u8) >= 0;
    private static readonly FhirJsonSerializer JsonWriter = new();
    private static readonly FhirXmlSerializer XmlWriter = new();

    public static Resource Parse(ReadOnlySpan<byte> body, FhirFormat format)
    {
        IEnumerable<CodedException>? issues;
        Resource? resource;
        try
        {
            if (format == FhirFormat.Json)
            {
                var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 128 });
                (MayHoldNarrative(body) ? JsonParser : JsonParserNoNarrative).TryDeserializeResource(ref reader, out resource, out issues);
            }
            else
            {
                using var stream = new MemoryStream(body.ToArray());
                using var xml = XmlReader.Create(stream, new XmlReaderSettings
                {
                    DtdProcessing = DtdProcessing.Prohibit,
                    XmlResolver = null,
                    MaxCharactersFromEntities = 0,
                });
                XmlParser.TryDeserializeResource(xml, out resource, out issues); // any encoding: always the full rules
            }
        }
        catch (Exception e) when (e is JsonException or XmlException or FormatException or InvalidOperationException or ArgumentException or DeserializationFailedException)
        {
            throw FhirException.BadRequest($"The body is not valid FHIR {format.ToString().ToUpperInvariant()}: {e.Message}");
        }

        // A resource with nothing but its type is valid FHIR; the SDK's "empty element" rule is meant for elements.
        var errors = issues?.Where(e => !(e.ErrorCode is "JSON120" or "PVAL129" && InstancePath(e) is null or "$this")).ToList() ?? [];
        if (errors.Count > 0 || resource is null)
        {
            var outcome = new OperationOutcome();
            foreach (var e in errors)
            {
                var issue = new OperationOutcome.IssueComponent
                {
                    Severity = OperationOutcome.IssueSeverity.Error,
                    Code = e.ErrorCode.StartsWith("PVAL", StringComparison.Ordinal) ? OperationOutcome.IssueType.Value : OperationOutcome.IssueType.Structure,
                    Diagnostics = e.Message,
                    Details = new CodeableConcept("http://firely.com/fhir/sdk-errors", e.ErrorCode),
                };
                var path = InstancePath(e);
                if (path is not null) issue.Expression = [path];
                outcome.Issue.Add(issue);
            }
            if (outcome.Issue.Count == 0)
                outcome.Issue.Add(new OperationOutcome.IssueComponent
                {
                    Severity = OperationOutcome.IssueSeverity.Error,
                    Code = OperationOutcome.IssueType.Structure,
                    Diagnostics = "The body does not hold a FHIR resource.",
                });
            throw new FhirException(HttpStatusCode.BadRequest, outcome);
        }
        return resource;
    }

    private static string? InstancePath(CodedException e) => (e as ExtendedCodedException)?.InstancePath;

    public static string ToJson(Base resource, SummaryType summary = SummaryType.False, string[]? elements = null, bool pretty = false)
    {
        if (summary == SummaryType.False && elements is null)
            return JsonWriter.SerializeToString(resource, pretty);
        return JsonWriter.SerializeToString(resource, summary, elements, pretty);
    }

    public static string ToXml(Base resource, SummaryType summary = SummaryType.False, string[]? elements = null, bool pretty = false) =>
        XmlWriter.SerializeToString(resource, summary, elements, pretty);

    public static string Serialize(Base resource, FhirFormat format, SummaryType summary = SummaryType.False, string[]? elements = null, bool pretty = false) =>
        format == FhirFormat.Json ? ToJson(resource, summary, elements, pretty) : ToXml(resource, summary, elements, pretty);

    /// <summary>Parses stored JSON (written by this server, so trusted): lenient and fast.</summary>
    public static Resource FromStoredJson(string json)
    {
        return FhirJsonDeserializer.OSTRICH.DeserializeResource(json);
    }
}
