using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ignis.Cli;

/// <summary>Readable tables by default, JSON for scripts.</summary>
internal static class Output
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static void Json(TextWriter writer, JsonNode? node) => writer.WriteLine(node?.ToJsonString(Indented) ?? "null");

    /// <summary>A table with a header row and columns as wide as their widest cell (cells longer than 60 characters are cut).</summary>
    public static void Table(TextWriter writer, IReadOnlyList<string> header, IEnumerable<IReadOnlyList<string?>> rows)
    {
        var all = rows.Select(r => r.Select(c => Cut(c ?? "", 60)).ToArray()).ToList();
        var widths = header.Select((h, i) => Math.Max(h.Length, all.Count == 0 ? 0 : all.Max(r => i < r.Length ? r[i].Length : 0))).ToArray();
        void Line(IReadOnlyList<string> cells)
        {
            var sb = new StringBuilder();
            for (var i = 0; i < header.Count; i++)
            {
                var cell = i < cells.Count ? cells[i] : "";
                sb.Append(i == header.Count - 1 ? cell : cell.PadRight(widths[i] + 2));
            }
            writer.WriteLine(sb.ToString().TrimEnd());
        }
        Line(header.Select(h => h.ToUpperInvariant()).ToArray());
        foreach (var row in all) Line(row);
    }

    /// <summary>Two columns: name and value.</summary>
    public static void Fields(TextWriter writer, IEnumerable<(string Name, string? Value)> fields) =>
        Table(writer, ["field", "value"], fields.Where(f => f.Value is { Length: > 0 }).Select(f => (IReadOnlyList<string?>)[f.Name, f.Value]));

    private static string Cut(string s, int max)
    {
        s = s.Replace('\n', ' ').Replace('\r', ' ');
        return s.Length <= max ? s : s[..(max - 1)] + "…";
    }

    /// <summary>A resource's top-level elements, each as a short text.</summary>
    public static IEnumerable<(string, string?)> ResourceFields(JsonObject resource)
    {
        yield return ("resourceType", Str(resource["resourceType"]));
        yield return ("id", Str(resource["id"]));
        yield return ("meta.versionId", Str(resource["meta"]?["versionId"]));
        yield return ("meta.lastUpdated", Str(resource["meta"]?["lastUpdated"]));
        foreach (var (name, value) in resource)
        {
            if (name is "resourceType" or "id" or "meta" or "text" or "contained" || value is null) continue;
            yield return (name, Describe(value));
        }
    }

    /// <summary>One line that says what a resource is: its name, code, value, status and date, where it has them.</summary>
    public static string Summary(JsonObject r)
    {
        var parts = new List<string>();
        if (r["name"] is JsonArray names && names.FirstOrDefault() is JsonObject name) parts.Add(HumanName(name));
        else if (Str(r["name"]) is { } n) parts.Add(n);
        foreach (var key in new[] { "code", "vaccineCode", "medicationCodeableConcept", "type" })
            if (r[key] is JsonObject concept && Concept(concept) is { Length: > 0 } c) { parts.Add(c); break; }
        if (r["valueQuantity"] is JsonObject q) parts.Add($"{Str(q["value"])} {Str(q["unit"]) ?? Str(q["code"])}".Trim());
        else if (Str(r["valueString"]) is { } vs) parts.Add(vs);
        else if (r["valueCodeableConcept"] is JsonObject vc) parts.Add(Concept(vc));
        if (r["clinicalStatus"] is JsonObject cs) parts.Add(Concept(cs));
        else if (Str(r["status"]) is { } status) parts.Add(status);
        if (Str(r["gender"]) is { } gender) parts.Add(gender);
        foreach (var key in new[] { "birthDate", "effectiveDateTime", "onsetDateTime", "occurrenceDateTime", "authoredOn", "recordedDate", "date", "issued" })
            if (Str(r[key]) is { } d) { parts.Add(d); break; }
        if (r["period"]?["start"] is { } start && Str(start) is { } ps) parts.Add(ps);
        return string.Join(" · ", parts.Where(p => p.Length > 0));
    }

    private static string HumanName(JsonObject name) =>
        Str(name["text"]) ?? string.Join(' ', (name["given"] as JsonArray ?? []).Select(Str).Append(Str(name["family"])).Where(s => s is { Length: > 0 }));

    private static string Concept(JsonObject concept) =>
        Str(concept["text"]) ?? (concept["coding"] as JsonArray ?? []).OfType<JsonObject>().Select(c => Str(c["display"]) ?? Str(c["code"])).FirstOrDefault(s => s is not null) ?? "";

    private static string Describe(JsonNode value) => value switch
    {
        JsonValue v => v.ToString(),
        JsonObject o when o["reference"] is not null => Str(o["reference"])!,
        JsonObject o when o["coding"] is not null || o["text"] is not null => Concept(o),
        JsonArray { Count: 1 } a when a[0] is { } only => Describe(only),
        _ => value.ToJsonString(),
    };

    public static string? Str(JsonNode? node) => node is JsonValue v ? v.ToString() : null;
}

/// <summary>FHIR requests with the errors turned into one-line messages and exit codes.</summary>
internal static class Fhir
{
    public const string Json = "application/fhir+json";

    public static async Task<JsonNode?> SendAsync(HttpClient http, HttpMethod method, string url, JsonNode? body, CancellationToken ct, string? prefer = null)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.Accept.ParseAdd(Json);
        if (prefer is not null) request.Headers.TryAddWithoutValidation("Prefer", prefer);
        if (body is not null) request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, Json);
        HttpResponseMessage response;
        try
        {
            response = await http.SendAsync(request, ct);
        }
        catch (HttpRequestException e)
        {
            throw new CliException(ExitCodes.Failed, $"{new Uri(http.BaseAddress!, url).GetLeftPart(UriPartial.Authority)} could not be reached: {e.Message}");
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(ct);
            if (response.IsSuccessStatusCode) return text.Length == 0 ? null : JsonNode.Parse(text);
            throw Failure(method, url, response.StatusCode, text);
        }
    }

    public static CliException Failure(HttpMethod method, string url, HttpStatusCode status, string body)
    {
        var detail = Diagnostics(body);
        var code = (int)status;
        var message = $"{method} {(url.Length == 0 ? "[base]" : url)}: {code} {ReasonPhrase(status)}{(detail is null ? "" : ": " + detail)}";
        return new CliException(code == 401 ? ExitCodes.SignInRequired : code is >= 400 and < 500 ? ExitCodes.Refused : ExitCodes.Failed, message);
    }

    /// <summary>The first issue's diagnostics or details text of an OperationOutcome (or an OAuth error description).</summary>
    public static string? Diagnostics(string body)
    {
        try
        {
            var node = JsonNode.Parse(body);
            if (node?["issue"] is JsonArray issues)
                return string.Join("; ", issues.OfType<JsonObject>().Select(i => Output.Str(i["diagnostics"]) ?? Output.Str(i["details"]?["text"]) ?? Output.Str(i["code"])).Where(s => s is not null).Take(3));
            return Output.Str(node?["error_description"]) ?? Output.Str(node?["error"]);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static string ReasonPhrase(HttpStatusCode status) =>
        System.Text.RegularExpressions.Regex.Replace(status.ToString(), "(?<=[a-z])(?=[A-Z])", " ");
}
