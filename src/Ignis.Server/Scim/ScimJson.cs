using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Scim.Filter;
using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Scim;

/// <summary>
/// SCIM resources as JSON: reading a client's resource into the canonical form (attribute names as the schema
/// spells them, values checked against their type), finding attributes, and the attributes/excludedAttributes
/// projection (RFC 7644 §3.9, §3.4.2.5).
/// </summary>
public static class ScimJson
{
    /// <summary>A property by name, case-insensitively (RFC 7643 §2.1); the exact spelling wins.</summary>
    public static JsonNode? Get(JsonObject? obj, string name)
    {
        if (obj is null) return null;
        if (obj.TryGetPropertyValue(name, out var exact)) return exact;
        foreach (var (key, value) in obj)
            if (string.Equals(key, name, StringComparison.OrdinalIgnoreCase)) return value;
        return null;
    }

    /// <summary>The top-level attribute a reference points at (inside its extension object when it has one).</summary>
    public static JsonNode? Locate(JsonObject resource, AttributeRef target) =>
        Get(target.Extension is null ? resource : Get(resource, target.Extension.Id) as JsonObject, target.Attribute.Name);

    /// <summary>The object that holds an attribute: the resource, or its extension object (created when asked).</summary>
    public static JsonObject? Container(JsonObject resource, ScimSchema? extension, bool create)
    {
        if (extension is null) return resource;
        if (resource[extension.Id] is JsonObject existing) return existing;
        if (!create) return null;
        var created = new JsonObject();
        resource[extension.Id] = created;
        return created;
    }

    public static ScimAttribute? Common(string name) =>
        ScimSchemas.Common.FirstOrDefault(a => string.Equals(a.Name, name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// A resource sent by a client (POST, PUT) in canonical form. readOnly attributes are ignored (RFC 7644 §3.3,
    /// §3.5.1); unknown attributes and schemas are refused so that a mapping mistake is seen at once.
    /// </summary>
    public static JsonObject ReadResource(JsonObject body, ScimResourceType type)
    {
        if (Get(body, "schemas") is not JsonArray schemas || schemas.Any(s => s is not JsonValue v || v.GetValueKind() != JsonValueKind.String))
            throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"The resource must list its schemas in \"schemas\" (at least \"{type.Schema.Id}\").");
        var listed = schemas.Select(s => s!.GetValue<string>()).ToList();
        if (!listed.Contains(type.Schema.Id, StringComparer.OrdinalIgnoreCase))
            throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"\"schemas\" must contain \"{type.Schema.Id}\".");
        foreach (var urn in listed)
            if (type.SchemaById(urn) is null)
                throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"\"{urn}\" is not a schema of {type.Id} resources.");

        var result = new JsonObject();
        foreach (var (key, value) in body)
        {
            if (string.Equals(key, "schemas", StringComparison.OrdinalIgnoreCase)) continue;
            if (type.Extension(key) is { } extension)
            {
                if (value is null) continue;
                if (value is not JsonObject extensionObject)
                    throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"\"{extension.Id}\" must be an object of its attributes.");
                var target = new JsonObject();
                foreach (var (name, inner) in extensionObject)
                {
                    var attribute = extension.Attribute(name)
                        ?? throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"'{name}' is not an attribute of {extension.Id}.");
                    if (attribute.Mutability == Mutability.ReadOnly) continue;
                    if (Normalize(attribute, inner, $"{extension.Id}:{attribute.Name}") is { } normalized) target[attribute.Name] = normalized;
                }
                if (target.Count > 0) result[extension.Id] = target;
                continue;
            }
            var attr = Common(key) ?? type.Schema.Attribute(key)
                ?? throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"'{key}' is not an attribute of {type.Id} resources.");
            if (attr.Mutability == Mutability.ReadOnly) continue;
            if (Normalize(attr, value, attr.Name) is { } v) result[attr.Name] = v;
        }
        return result;
    }

    /// <summary>A value for an attribute in canonical form, or null when it leaves the attribute unassigned.</summary>
    public static JsonNode? Normalize(ScimAttribute attribute, JsonNode? value, string path)
    {
        if (value is null) return null;
        if (attribute.MultiValued)
        {
            if (value is not JsonArray array)
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{path}' is multi-valued: give an array.");
            var result = new JsonArray();
            foreach (var item in array)
                if (NormalizeSingle(attribute, item, path) is { } normalized) result.Add(normalized);
            if (result.Count == 0) return null;
            if (attribute.IsComplex && result.Count(e => IsPrimary(e)) > 1)
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"At most one value of '{path}' may be primary.");
            return result;
        }
        return NormalizeSingle(attribute, value, path);
    }

    public static JsonNode? NormalizeSingle(ScimAttribute attribute, JsonNode? value, string path)
    {
        if (value is null) return null;
        if (attribute.IsComplex)
        {
            if (value is not JsonObject obj)
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{path}' is complex: give an object of its sub-attributes.");
            var result = new JsonObject();
            foreach (var (name, inner) in obj)
            {
                var sub = attribute.SubAttribute(name)
                    ?? throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"'{attribute.Name}' has no sub-attribute '{name}'.");
                if (sub.Mutability == Mutability.ReadOnly) continue;
                if (NormalizeSingle(sub, inner, $"{path}.{sub.Name}") is { } normalized) result[sub.Name] = normalized;
            }
            return result.Count == 0 ? null : result;
        }
        if (value is not JsonValue scalar)
            throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{path}' takes a single {ScimSchemas.TypeName(attribute.Type)} value.");
        var kind = scalar.GetValueKind();
        if (kind == JsonValueKind.Null) return null;
        switch (attribute.Type)
        {
            case ScimType.Boolean:
                if (kind is JsonValueKind.True or JsonValueKind.False) return JsonValue.Create(scalar.GetValue<bool>());
                // Microsoft Entra ID has sent "True"/"False" strings for booleans (its known SCIM deviations).
                if (kind == JsonValueKind.String && bool.TryParse(scalar.GetValue<string>(), out var parsed)) return JsonValue.Create(parsed);
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{path}' is a boolean: give true or false.");
            case ScimType.Integer:
                if (kind == JsonValueKind.Number && scalar.TryGetValue<long>(out var integer)) return JsonValue.Create(integer);
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{path}' is an integer.");
            case ScimType.Decimal:
                if (kind == JsonValueKind.Number) return JsonValue.Create(scalar.GetValue<decimal>());
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{path}' is a decimal number.");
            case ScimType.DateTime:
                if (kind == JsonValueKind.String && FilterEvaluator.TryParseDate(scalar.GetValue<string>(), out var date))
                    return JsonValue.Create(FormatDate(date));
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{path}' is an xsd:dateTime string such as \"2024-05-13T04:42:34Z\".");
            default:
                if (kind == JsonValueKind.String) return JsonValue.Create(scalar.GetValue<string>());
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"'{path}' is a string.");
        }
    }

    public static bool IsPrimary(JsonNode? element) =>
        element is JsonObject obj && obj["primary"] is JsonValue p && p.GetValueKind() == JsonValueKind.True;

    public static string FormatDate(DateTimeOffset date) =>
        date.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    public static string FormatDate(DateTime utc) => FormatDate(new DateTimeOffset(DateTime.SpecifyKind(utc, DateTimeKind.Utc)));

    /// <summary>
    /// RFC 7644 §3.9: with "attributes" only those (and the always-returned ones: schemas, id) are returned;
    /// "excludedAttributes" removes attributes that are not always returned. Unknown names select nothing.
    /// </summary>
    public static JsonObject Project(JsonObject full, ScimResourceType type, IReadOnlyList<string>? attributes, IReadOnlyList<string>? excluded)
    {
        var result = (JsonObject)full.DeepClone();
        if (attributes is { Count: > 0 })
        {
            var keep = new JsonObject();
            foreach (var (key, value) in result)
                if (key is "schemas" or "id") keep[key] = value?.DeepClone();
            foreach (var text in attributes)
            {
                if (type.Extension(text) is { } wholeExtension)
                {
                    if (full[wholeExtension.Id] is { } ext) keep[wholeExtension.Id] = ext.DeepClone();
                    continue;
                }
                if (!TryResolve(text, type, out var target)) continue;
                var source = Locate(full, target);
                if (source is null) continue;
                var container = Container(keep, target.Extension, create: true)!;
                if (target.Sub is null)
                {
                    container[target.Attribute.Name] = source.DeepClone();
                    continue;
                }
                var existing = container[target.Attribute.Name];
                if (source is JsonArray array)
                {
                    var merged = existing as JsonArray ?? new JsonArray([.. array.Select(_ => (JsonNode)new JsonObject())]);
                    for (var i = 0; i < array.Count && i < merged.Count; i++)
                        if (array[i] is JsonObject element && element[target.Sub.Name] is { } v && merged[i] is JsonObject m)
                            m[target.Sub.Name] = v.DeepClone();
                    container[target.Attribute.Name] = merged;
                }
                else if (source is JsonObject obj && obj[target.Sub.Name] is { } subValue)
                {
                    var merged = existing as JsonObject ?? new JsonObject();
                    merged[target.Sub.Name] = subValue.DeepClone();
                    container[target.Attribute.Name] = merged;
                }
            }
            foreach (var (key, value) in keep.ToList())
                if (value is JsonObject { Count: 0 } && key.StartsWith("urn:", StringComparison.Ordinal)) keep.Remove(key);
            result = keep;
        }
        foreach (var text in excluded ?? [])
        {
            if (type.Extension(text) is { } wholeExtension)
            {
                result.Remove(wholeExtension.Id);
                continue;
            }
            if (!TryResolve(text, type, out var target)) continue;
            if ((target.Sub ?? target.Attribute).Returned == Returned.Always) continue;
            var container = Container(result, target.Extension, create: false);
            if (container is null) continue;
            if (target.Sub is null)
            {
                container.Remove(target.Attribute.Name);
                continue;
            }
            foreach (var element in container[target.Attribute.Name] is JsonArray array ? array.OfType<JsonObject>() : container[target.Attribute.Name] is JsonObject o ? [o] : [])
                element.Remove(target.Sub.Name);
        }
        return result;
    }

    private static bool TryResolve(string text, ScimResourceType type, out AttributeRef target)
    {
        target = null!;
        var trimmed = text.Trim();
        if (trimmed.Length == 0) return false;
        try
        {
            target = FilterBinder.Resolve(AttributePath.Parse(trimmed), type, null, ScimErrorType.InvalidValue);
            return true;
        }
        catch (ScimException)
        {
            return false;
        }
    }

    /// <summary>Splits a comma-separated attributes/excludedAttributes parameter.</summary>
    public static List<string>? SplitList(string? value) =>
        string.IsNullOrWhiteSpace(value) ? null : [.. value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)];
}
