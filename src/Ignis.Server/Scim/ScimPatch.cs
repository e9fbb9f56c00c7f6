using System.Text.Json;
using System.Text.Json.Nodes;
using Ignis.Server.Scim.Filter;
using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Scim;

/// <summary>
/// RFC 7644 §3.5.2 PATCH, applied to the resource's JSON form: all operations or none (the caller saves only
/// when every operation succeeded). Paths are attrPath or valuePath with an optional sub-attribute, e.g.
/// <c>emails[type eq "work"].value</c>.
/// </summary>
public static class ScimPatch
{
    public const int MaxOperations = 1000;

    public static void Apply(JsonObject resource, JsonObject body, ScimResourceType type)
    {
        if (ScimJson.Get(body, "schemas") is not JsonArray schemas
            || !schemas.Any(s => s is JsonValue v && v.GetValueKind() == JsonValueKind.String && string.Equals(v.GetValue<string>(), ScimSchemas.PatchOpUrn, StringComparison.OrdinalIgnoreCase)))
            throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"A PATCH body must list \"{ScimSchemas.PatchOpUrn}\" in \"schemas\".");
        if (ScimJson.Get(body, "Operations") is not JsonArray operations || operations.Count == 0)
            throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, "A PATCH body needs a non-empty \"Operations\" array.");
        if (operations.Count > MaxOperations)
            throw ScimException.BadRequest(ScimErrorType.TooMany, $"A PATCH request may carry at most {MaxOperations} operations.");

        for (var i = 0; i < operations.Count; i++)
        {
            if (operations[i] is not JsonObject operation)
                throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"Operation {i + 1} is not an object.");
            var op = (ScimJson.Get(operation, "op") as JsonValue)?.GetValueKind() == JsonValueKind.String
                ? ScimJson.Get(operation, "op")!.GetValue<string>().ToLowerInvariant()
                : null;
            if (op is not ("add" or "replace" or "remove"))
                throw ScimException.BadRequest(ScimErrorType.InvalidSyntax, $"Operation {i + 1}: \"op\" must be add, replace or remove.");
            var pathNode = ScimJson.Get(operation, "path");
            string? path = null;
            if (pathNode is not null)
            {
                if (pathNode is not JsonValue pv || pv.GetValueKind() != JsonValueKind.String)
                    throw ScimException.BadRequest(ScimErrorType.InvalidPath, $"Operation {i + 1}: \"path\" must be a string.");
                path = pv.GetValue<string>();
            }
            var value = ScimJson.Get(operation, "value");
            ApplyOperation(resource, type, op, path, value);
        }
    }

    private static void ApplyOperation(JsonObject resource, ScimResourceType type, string op, string? path, JsonNode? value)
    {
        if (path is null)
        {
            if (op == "remove")
                throw ScimException.BadRequest(ScimErrorType.NoTarget, "A remove operation needs a \"path\".");
            if (value is not JsonObject attributes)
                throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"An {op} operation without a path needs an object of attributes as its value.");
            foreach (var (key, inner) in attributes)
            {
                if (string.Equals(key, "schemas", StringComparison.OrdinalIgnoreCase)) continue;
                if (type.Extension(key) is { } extension)
                {
                    if (inner is not JsonObject extensionValues)
                        throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"\"{extension.Id}\" must be an object of its attributes.");
                    foreach (var (name, v) in extensionValues)
                        ApplyPath(resource, type, op, new PatchPath(new AttributePath(extension.Id, name, null), null, null), v);
                    continue;
                }
                ApplyPath(resource, type, op, FilterParser.ParsePath(key), inner);
            }
            return;
        }

        if (type.Extension(path.Trim()) is { } whole)
        {
            if (op == "remove")
            {
                foreach (var attribute in whole.Attributes) CheckWritable(attribute, null, resource, new AttributeRef(whole, attribute, null), op);
                resource.Remove(whole.Id);
                return;
            }
            ApplyOperation(resource, type, op, null, new JsonObject { [whole.Id] = value?.DeepClone() });
            return;
        }
        ApplyPath(resource, type, op, FilterParser.ParsePath(path), value);
    }

    private static void ApplyPath(JsonObject resource, ScimResourceType type, string op, PatchPath path, JsonNode? value)
    {
        var target = FilterBinder.Resolve(path.Path, type, null, ScimErrorType.InvalidPath);
        var attribute = target.Attribute;
        if (path.ValueFilter is not null && (!attribute.MultiValued || !attribute.IsComplex || target.Sub is not null))
            throw ScimException.BadRequest(ScimErrorType.InvalidPath, $"'{path}': a value filter applies to a multi-valued complex attribute only.");
        ScimAttribute? sub = target.Sub;
        if (path.SubAttribute is not null)
            sub = attribute.SubAttribute(path.SubAttribute)
                ?? throw ScimException.BadRequest(ScimErrorType.InvalidPath, $"'{attribute.Name}' has no sub-attribute '{path.SubAttribute}'.");
        CheckWritable(attribute, sub, resource, target, op);

        FilterNode? filter = null;
        if (path.ValueFilter is not null)
        {
            try
            {
                filter = FilterBinder.BindValueFilter(path.ValueFilter, type, attribute);
            }
            catch (ScimException e) when (e.ScimType == ScimErrorType.InvalidFilter)
            {
                throw ScimException.BadRequest(ScimErrorType.InvalidPath, e.Detail);
            }
        }

        var container = ScimJson.Container(resource, target.Extension, create: op != "remove");
        if (container is null) return;
        var before = PrimaryElements(container[attribute.Name]);
        var display = path.ToString();

        if (filter is null && sub is null) ApplyWhole(container, attribute, op, value, display);
        else if (filter is null) ApplySub(container, attribute, sub!, op, value, display);
        else ApplyFiltered(resource, container, attribute, filter, sub, op, value, display);

        if (attribute.MultiValued && attribute.IsComplex) FixPrimary(container[attribute.Name], before, display);
        if (target.Extension is not null && container.Count == 0) resource.Remove(target.Extension.Id);
    }

    /// <summary>readOnly attributes cannot be patched; immutable ones only while unassigned (RFC 7643 §7).</summary>
    private static void CheckWritable(ScimAttribute attribute, ScimAttribute? sub, JsonObject resource, AttributeRef target, string op)
    {
        var name = sub is null ? attribute.Name : $"{attribute.Name}.{sub.Name}";
        if (attribute.Mutability == Mutability.ReadOnly || sub?.Mutability == Mutability.ReadOnly)
            throw ScimException.BadRequest(ScimErrorType.Mutability, $"'{name}' is readOnly.");
        var immutable = attribute.Mutability == Mutability.Immutable || sub?.Mutability == Mutability.Immutable;
        if (immutable && (op != "add" || (!attribute.MultiValued && FilterEvaluator.IsPresent(ScimJson.Locate(resource, target)))))
            throw ScimException.BadRequest(ScimErrorType.Mutability, $"'{name}' is immutable: it can be set once and not changed.");
    }

    private static void ApplyWhole(JsonObject container, ScimAttribute attribute, string op, JsonNode? value, string path)
    {
        var current = container[attribute.Name];
        if (op == "remove")
        {
            // Microsoft Entra ID removes group members with path "members" and the members as the value.
            if (value is not null && attribute.MultiValued && current is JsonArray existing)
            {
                var removed = ScimJson.Normalize(attribute, value is JsonArray ? value.DeepClone() : new JsonArray(value.DeepClone()), path) as JsonArray;
                foreach (var item in removed ?? [])
                    foreach (var match in existing.Where(e => SameValue(attribute, e, item)).ToList()) existing.Remove(match);
                if (existing.Count == 0) container.Remove(attribute.Name);
                return;
            }
            container.Remove(attribute.Name);
            return;
        }
        if (value is null) throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"The {op} operation on '{path}' needs a value.");
        if (attribute.MultiValued)
        {
            var incoming = ScimJson.Normalize(attribute, value is JsonArray ? value.DeepClone() : new JsonArray(value.DeepClone()), path) as JsonArray;
            if (op == "replace")
            {
                if (incoming is null) container.Remove(attribute.Name);
                else container[attribute.Name] = incoming;
                return;
            }
            if (incoming is null) return;
            var array = current as JsonArray ?? new JsonArray();
            foreach (var item in incoming.ToList())
            {
                if (array.Any(e => SameValue(attribute, e, item))) continue;
                incoming.Remove(item);
                array.Add(item);
            }
            container[attribute.Name] = array;
            return;
        }
        var normalized = ScimJson.NormalizeSingle(attribute, value.DeepClone(), path);
        if (attribute.IsComplex && current is JsonObject existingObject && normalized is JsonObject update)
        {
            // A complex value replaces or adds the sub-attributes it names and leaves the others (RFC 7644 §3.5.2.1, §3.5.2.3).
            foreach (var (name, inner) in update.ToList())
            {
                update.Remove(name);
                existingObject[name] = inner;
            }
            return;
        }
        if (normalized is null) container.Remove(attribute.Name);
        else container[attribute.Name] = normalized;
    }

    private static void ApplySub(JsonObject container, ScimAttribute attribute, ScimAttribute sub, string op, JsonNode? value, string path)
    {
        var current = container[attribute.Name];
        if (attribute.MultiValued)
        {
            var elements = (current as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
            if (elements.Count == 0)
            {
                if (op == "remove") return;
                throw ScimException.BadRequest(ScimErrorType.NoTarget, $"'{path}': '{attribute.Name}' has no values to change.");
            }
            foreach (var element in elements) SetSub(element, sub, op, value, path);
            return;
        }
        if (op == "remove")
        {
            (current as JsonObject)?.Remove(sub.Name);
            if (current is JsonObject { Count: 0 }) container.Remove(attribute.Name);
            return;
        }
        if (current is not JsonObject obj)
        {
            obj = new JsonObject();
            container[attribute.Name] = obj;
        }
        SetSub(obj, sub, op, value, path);
        if (obj.Count == 0) container.Remove(attribute.Name);
    }

    private static void SetSub(JsonObject element, ScimAttribute sub, string op, JsonNode? value, string path)
    {
        if (op == "remove")
        {
            element.Remove(sub.Name);
            return;
        }
        if (value is null) throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"The {op} operation on '{path}' needs a value.");
        var normalized = ScimJson.NormalizeSingle(sub, value.DeepClone(), path);
        if (normalized is null) element.Remove(sub.Name);
        else element[sub.Name] = normalized;
    }

    private static void ApplyFiltered(JsonObject resource, JsonObject container, ScimAttribute attribute, FilterNode filter,
        ScimAttribute? sub, string op, JsonNode? value, string path)
    {
        var array = container[attribute.Name] as JsonArray;
        var matches = array?.OfType<JsonObject>().Where(e => FilterEvaluator.MatchesElement(filter, resource, e)).ToList() ?? [];
        switch (op)
        {
            case "remove":
                if (array is null) return;
                if (sub is null)
                {
                    foreach (var match in matches) array.Remove(match);
                    if (array.Count == 0) container.Remove(attribute.Name);
                }
                else foreach (var match in matches) match.Remove(sub.Name);
                return;
            case "replace":
                // RFC 7644 §3.5.2.3: a value filter that matches nothing is noTarget.
                if (matches.Count == 0)
                    throw ScimException.BadRequest(ScimErrorType.NoTarget, $"'{path}' matches no value of '{attribute.Name}'.");
                foreach (var match in matches)
                {
                    if (sub is not null)
                    {
                        SetSub(match, sub, op, value, path);
                        continue;
                    }
                    var replacement = ScimJson.NormalizeSingle(attribute, value?.DeepClone(), path) as JsonObject
                        ?? throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"The replace operation on '{path}' needs an object value.");
                    array![array.IndexOf(match)] = replacement;
                }
                return;
            default:
                if (matches.Count == 0)
                {
                    // Microsoft Entra ID adds e.g. emails[type eq "work"].value to a user without a work email: the
                    // new value gets the attributes the filter asks for.
                    var element = ElementFromFilter(filter)
                        ?? throw ScimException.BadRequest(ScimErrorType.NoTarget, $"'{path}' matches no value of '{attribute.Name}', and its filter does not say what a new value would be.");
                    array ??= [];
                    array.Add(element);
                    container[attribute.Name] = array;
                    matches = [element];
                }
                foreach (var match in matches)
                {
                    if (sub is not null)
                    {
                        SetSub(match, sub, op, value, path);
                        continue;
                    }
                    if (ScimJson.NormalizeSingle(attribute, value?.DeepClone(), path) is not JsonObject update)
                        throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"The add operation on '{path}' needs an object value.");
                    foreach (var (name, inner) in update.ToList())
                    {
                        update.Remove(name);
                        match[name] = inner;
                    }
                }
                return;
        }
    }

    /// <summary>The element a filter of equalities describes (type eq "work" and primary eq true), or null.</summary>
    private static JsonObject? ElementFromFilter(FilterNode filter)
    {
        var element = new JsonObject();
        bool Collect(FilterNode node)
        {
            switch (node)
            {
                case AndNode and: return Collect(and.Left) && Collect(and.Right);
                case CompareNode { Op: CompareOp.Eq, Value.IsNull: false } eq when eq.Target is { } t:
                    element[t.Attribute.Name] = eq.Value.String is { } s ? JsonValue.Create(s)
                        : eq.Value.Bool is { } b ? JsonValue.Create(b) : JsonValue.Create(eq.Value.Number!.Value);
                    return true;
                default: return false;
            }
        }
        return Collect(filter) ? element : null;
    }

    private static List<JsonObject> PrimaryElements(JsonNode? node) =>
        node is JsonArray array ? [.. array.OfType<JsonObject>().Where(e => ScimJson.IsPrimary(e))] : [];

    /// <summary>RFC 7644 §3.5.2: a value made primary takes "primary" away from the others.</summary>
    private static void FixPrimary(JsonNode? node, List<JsonObject> before, string path)
    {
        if (node is not JsonArray array) return;
        if (array.Count(e => ScimJson.IsPrimary(e)) <= 1) return;
        foreach (var old in before)
            if (array.Contains(old)) old["primary"] = false;
        if (array.Count(e => ScimJson.IsPrimary(e)) > 1)
            throw ScimException.BadRequest(ScimErrorType.InvalidValue, $"At most one value of '{path}' may be primary.");
    }

    private static bool SameValue(ScimAttribute attribute, JsonNode? a, JsonNode? b)
    {
        if (attribute.IsComplex && attribute.ValueSubAttribute is { } valueAttribute
            && a is JsonObject ao && b is JsonObject bo && ao["value"] is JsonValue av && bo["value"] is JsonValue bv
            && av.GetValueKind() == JsonValueKind.String && bv.GetValueKind() == JsonValueKind.String)
            return string.Equals(av.GetValue<string>(), bv.GetValue<string>(), valueAttribute.CaseExact ? StringComparison.Ordinal : StringComparison.OrdinalIgnoreCase);
        return JsonNode.DeepEquals(a, b);
    }
}
