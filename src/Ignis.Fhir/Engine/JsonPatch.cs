using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Hl7.Fhir.Model;
using Ignis.Fhir.Serialization;

namespace Ignis.Fhir.Engine;

/// <summary>
/// RFC 6902 JSON Patch applied to a resource's JSON; the result is parsed strictly like any other body,
/// so a patch can never store what an update could not.
/// </summary>
public static class JsonPatch
{
    public static Resource Apply(string json, byte[] patch)
    {
        JsonArray operations;
        try
        {
            operations = JsonNode.Parse(patch, documentOptions: new JsonDocumentOptions { MaxDepth = 64 }) as JsonArray
                ?? throw FhirException.BadRequest("A JSON Patch document must be a JSON array of operations.");
        }
        catch (JsonException e)
        {
            throw FhirException.BadRequest($"The JSON Patch document is not valid JSON: {e.Message}");
        }

        JsonNode? doc = JsonNode.Parse(json);
        for (var i = 0; i < operations.Count; i++)
        {
            if (operations[i] is not JsonObject op)
                throw FhirException.BadRequest($"Patch operation {i} is not a JSON object.");
            doc = ApplyOne(doc, op, i);
        }
        var bytes = Encoding.UTF8.GetBytes(doc?.ToJsonString() ?? "null");
        return FhirSerializer.Parse(bytes, FhirFormat.Json);
    }

    private static JsonNode? ApplyOne(JsonNode? doc, JsonObject op, int i)
    {
        var name = Str(op, "op", i);
        var path = Str(op, "path", i);
        switch (name)
        {
            case "add":
                return Add(doc, path, Value(op, i), i);
            case "remove":
                Remove(doc, path, i);
                return doc;
            case "replace":
                Remove(doc, path, i);
                return Add(doc, path, Value(op, i), i);
            case "move":
            {
                var from = Str(op, "from", i);
                var value = Get(doc, from, i)?.DeepClone();
                Remove(doc, from, i);
                return Add(doc, path, value, i);
            }
            case "copy":
                return Add(doc, path, Get(doc, Str(op, "from", i), i)?.DeepClone(), i);
            case "test":
                if (!JsonNode.DeepEquals(Get(doc, path, i), Value(op, i)))
                    throw new FhirException(HttpStatusCode.UnprocessableEntity, OperationOutcome.IssueType.Invariant,
                        $"Patch operation {i} (test at '{path}') failed: the value differs.");
                return doc;
            default:
                throw FhirException.BadRequest($"Patch operation {i} has an unknown op '{FhirService.Truncate(name)}'.");
        }
    }

    private static string Str(JsonObject op, string member, int i) =>
        op[member] is JsonValue v && v.TryGetValue<string>(out var s) ? s
        : throw FhirException.BadRequest($"Patch operation {i} needs a string '{member}'.");

    private static JsonNode? Value(JsonObject op, int i) =>
        op.ContainsKey("value") ? op["value"]?.DeepClone() : throw FhirException.BadRequest($"Patch operation {i} needs a 'value'.");

    private static List<string> Tokens(string pointer, int i)
    {
        if (pointer.Length == 0) return [];
        if (pointer[0] != '/') throw FhirException.BadRequest($"Patch operation {i}: '{FhirService.Truncate(pointer)}' is not a JSON Pointer.");
        return pointer[1..].Split('/').Select(t => t.Replace("~1", "/").Replace("~0", "~")).ToList();
    }

    private static JsonNode? Get(JsonNode? doc, string pointer, int i)
    {
        var node = doc;
        foreach (var token in Tokens(pointer, i))
            node = Child(node, token, i, pointer);
        return node;
    }

    private static JsonNode? Child(JsonNode? node, string token, int i, string pointer) => node switch
    {
        JsonObject o when o.TryGetPropertyValue(token, out var child) => child,
        JsonArray a when int.TryParse(token, out var idx) && idx >= 0 && idx < a.Count => a[idx],
        _ => throw new FhirException(HttpStatusCode.UnprocessableEntity, OperationOutcome.IssueType.Processing,
            $"Patch operation {i}: the path '{FhirService.Truncate(pointer)}' does not exist."),
    };

    private static JsonNode? Add(JsonNode? doc, string pointer, JsonNode? value, int i)
    {
        var tokens = Tokens(pointer, i);
        if (tokens.Count == 0) return value;
        var parent = doc;
        foreach (var token in tokens.Take(tokens.Count - 1)) parent = Child(parent, token, i, pointer);
        var last = tokens[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a when last == "-":
                a.Add(value);
                break;
            case JsonArray a when int.TryParse(last, out var idx) && idx >= 0 && idx <= a.Count:
                a.Insert(idx, value);
                break;
            default:
                throw new FhirException(HttpStatusCode.UnprocessableEntity, OperationOutcome.IssueType.Processing,
                    $"Patch operation {i}: cannot add at '{FhirService.Truncate(pointer)}'.");
        }
        return doc;
    }

    private static void Remove(JsonNode? doc, string pointer, int i)
    {
        var tokens = Tokens(pointer, i);
        if (tokens.Count == 0) throw FhirException.BadRequest($"Patch operation {i} may not remove the whole resource.");
        var parent = doc;
        foreach (var token in tokens.Take(tokens.Count - 1)) parent = Child(parent, token, i, pointer);
        var last = tokens[^1];
        var removed = parent switch
        {
            JsonObject o => o.Remove(last),
            JsonArray a when int.TryParse(last, out var idx) && idx >= 0 && idx < a.Count => RemoveAt(a, idx),
            _ => false,
        };
        if (!removed)
            throw new FhirException(HttpStatusCode.UnprocessableEntity, OperationOutcome.IssueType.Processing,
                $"Patch operation {i}: the path '{FhirService.Truncate(pointer)}' does not exist.");
    }

    private static bool RemoveAt(JsonArray a, int idx)
    {
        a.RemoveAt(idx);
        return true;
    }
}
