using System.Collections;
using System.Globalization;
using System.Net;
using System.Reflection;
using System.Text.RegularExpressions;
using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;
using Hl7.Fhir.Utility;
using Hl7.FhirPath;
using Hl7.FhirPath.Expressions;

namespace Ignis.Fhir.Engine;

/// <summary>
/// FHIRPath Patch (FHIR R4 §3.1.0.8.3, fhirpatch.html): a Parameters resource whose "operation" parameters
/// add, insert, delete, replace or move elements that FHIRPath selects. The operations run in order on a
/// deep copy. A malformed patch document is 400 and is refused before anything is applied; a well-formed
/// operation that does not fit the resource (a path matching several elements or nothing, a value of the
/// wrong type, an index past the end of the list) is 422. The caller re-validates the result strictly.
/// </summary>
public static partial class FhirPathPatch
{
    private static readonly FhirPathCompiler Compiler = new(new SymbolTable().AddStandardFP().AddFhirExtensions());

    private enum OperationType { Add, Insert, Delete, Replace, Move }

    private sealed record Operation(
        int Index,
        OperationType Type,
        string Path,
        CompiledExpression Select,
        string? Name,
        Parameters.ParameterComponent? Value,
        int? At,
        int? Source,
        int? Destination);

    public static Resource Apply(Resource resource, Parameters patch)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(patch);
        var operations = patch.Parameter.Select(Parse).ToList();
        var copy = (Resource)resource.DeepCopy();
        foreach (var op in operations)
        {
            switch (op.Type)
            {
                case OperationType.Add: Add(copy, op); break;
                case OperationType.Insert: Insert(copy, op); break;
                case OperationType.Delete: Delete(copy, op); break;
                case OperationType.Replace: Replace(copy, op); break;
                case OperationType.Move: Move(copy, op); break;
            }
        }
        return copy;
    }

    // ---- Reading the patch document (every problem here is 400) ----

    private static readonly string[] PartNames = ["type", "path", "name", "value", "index", "source", "destination"];

    private static Operation Parse(Parameters.ParameterComponent parameter, int i)
    {
        if (parameter.Name != "operation")
            throw Malformed(i, $"is named '{FhirService.Truncate(parameter.Name ?? "")}'; a FHIRPath Patch holds only 'operation' parameters");
        if (parameter.Value is not null || parameter.Resource is not null)
            throw Malformed(i, "must carry its content in parts, not in a value");

        var parts = new Dictionary<string, Parameters.ParameterComponent>(StringComparer.Ordinal);
        foreach (var part in parameter.Part)
        {
            if (!PartNames.Contains(part.Name))
                throw Malformed(i, $"has an unknown part '{FhirService.Truncate(part.Name ?? "")}'");
            if (!parts.TryAdd(part.Name!, part))
                throw Malformed(i, $"has more than one '{part.Name}' part");
        }

        var typeCode = Text(parts, "type", i) ?? throw Malformed(i, "needs a 'type' part (add | insert | delete | replace | move)");
        var type = typeCode switch
        {
            "add" => OperationType.Add,
            "insert" => OperationType.Insert,
            "delete" => OperationType.Delete,
            "replace" => OperationType.Replace,
            "move" => OperationType.Move,
            _ => throw Malformed(i, $"has an unknown type '{FhirService.Truncate(typeCode)}' (add | insert | delete | replace | move)"),
        };

        var path = Text(parts, "path", i);
        if (string.IsNullOrWhiteSpace(path)) throw Malformed(i, "needs a 'path' part");
        var select = Compile(path) ?? throw Malformed(i, $"has a path that is not valid FHIRPath: '{FhirService.Truncate(path)}'");

        string? name = null;
        if (type == OperationType.Add)
        {
            name = Text(parts, "name", i);
            if (string.IsNullOrEmpty(name)) throw Malformed(i, "(add) needs a 'name' part");
        }

        Parameters.ParameterComponent? value = null;
        if (type is OperationType.Add or OperationType.Insert or OperationType.Replace)
        {
            value = parts.GetValueOrDefault("value") ?? throw Malformed(i, $"({typeCode}) needs a 'value' part");
            CheckValuePart(value, i, "value");
        }

        int? at = type == OperationType.Insert ? Integer(parts, "index", i) : null;
        int? source = type == OperationType.Move ? Integer(parts, "source", i) : null;
        int? destination = type == OperationType.Move ? Integer(parts, "destination", i) : null;
        return new Operation(i, type, path, select, name, value, at, source, destination);
    }

    private static string? Text(Dictionary<string, Parameters.ParameterComponent> parts, string name, int i)
    {
        if (!parts.TryGetValue(name, out var part)) return null;
        return part.Value is PrimitiveType { JsonValue: string s } and (FhirString or Code)
            ? s
            : throw Malformed(i, $"needs '{name}' as a valueString or valueCode");
    }

    private static int Integer(Dictionary<string, Parameters.ParameterComponent> parts, string name, int i)
    {
        if (!parts.TryGetValue(name, out var part)) throw Malformed(i, $"needs the '{name}' part");
        if (part.Value is not Integer { Value: { } n }) throw Malformed(i, $"needs '{name}' as a valueInteger");
        if (n < 0) throw Malformed(i, $"has a negative '{name}' ({n})");
        return n;
    }

    /// <summary>A value is a value[x], a resource, or (for anonymous and complex elements) parts named after its elements.</summary>
    private static void CheckValuePart(Parameters.ParameterComponent part, int i, string what)
    {
        var given = (part.Value is null ? 0 : 1) + (part.Resource is null ? 0 : 1) + (part.Part.Count == 0 ? 0 : 1);
        if (given == 0) throw Malformed(i, $"gives no content for '{FhirService.Truncate(what)}'");
        if (given > 1) throw Malformed(i, $"gives '{FhirService.Truncate(what)}' more than one kind of content (value[x], resource, parts)");
        foreach (var child in part.Part)
        {
            if (string.IsNullOrEmpty(child.Name)) throw Malformed(i, $"has a part of '{FhirService.Truncate(what)}' without a name");
            CheckValuePart(child, i, $"{what}.{child.Name}");
        }
    }

    private static CompiledExpression? Compile(string path)
    {
        try
        {
            return Compiler.Compile(path);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            return null;
        }
    }

    // ---- The operations (a misfit here is 422) ----

    /// <summary>add: the value becomes a new child <c>name</c> of the one element at path; a single-valued child must not exist yet.</summary>
    private static void Add(Resource resource, Operation op)
    {
        var target = Single(op, Evaluate(resource, op, op.Select)).Poco;
        var element = Element(op, target, op.Name!)
            ?? throw Unprocessable(op, $"{TypeName(target)} has no element '{FhirService.Truncate(op.Name!)}'");
        var value = Build(op, element, op.Value!, $"{TypeName(target)}.{op.Name}");
        if (element.IsCollection)
            List(target, element).Add(value);
        else if (element.NativeProperty!.GetValue(target) is not null)
            throw Unprocessable(op, $"{TypeName(target)}.{op.Name} already has a value and does not repeat; use replace");
        else
            element.NativeProperty!.SetValue(target, value);
    }

    /// <summary>insert: the value goes into the list at path at a 0-based index no greater than the list's length.</summary>
    private static void Insert(Resource resource, Operation op)
    {
        var (parent, element, list) = WholeList(resource, op);
        if (op.At > list.Count)
            throw Unprocessable(op, $"index {op.At} is past the end of the list ({list.Count} items)");
        list.Insert(op.At!.Value, Build(op, element, op.Value!, $"{TypeName(parent)}.{element.Name}"));
    }

    /// <summary>delete: removes the one element at path; a path that matches nothing changes nothing.</summary>
    private static void Delete(Resource resource, Operation op)
    {
        var nodes = Evaluate(resource, op, op.Select);
        if (nodes.Count == 0) return;
        var node = Single(op, nodes);
        var (parent, element) = Slot(op, node, "deleted");
        if (element.IsCollection)
            List(parent, element).RemoveAt(IndexIn(List(parent, element), node.Poco));
        else
            element.NativeProperty!.SetValue(parent, null);
    }

    /// <summary>replace: the one element at path takes the value, which must fit the element's type.</summary>
    private static void Replace(Resource resource, Operation op)
    {
        var node = Single(op, Evaluate(resource, op, op.Select));
        var (parent, element) = Slot(op, node, "replaced");
        var value = Build(op, element, op.Value!, $"{TypeName(parent)}.{element.Name}");
        if (element.IsCollection)
        {
            var list = List(parent, element);
            list[IndexIn(list, node.Poco)] = value;
        }
        else
        {
            element.NativeProperty!.SetValue(parent, value);
        }
    }

    /// <summary>move: within the list at path, the item at source ends up at destination.</summary>
    private static void Move(Resource resource, Operation op)
    {
        var (_, _, list) = WholeList(resource, op);
        if (op.Source >= list.Count || op.Destination >= list.Count)
            throw Unprocessable(op, $"source {op.Source} and destination {op.Destination} must both be within the list ({list.Count} items)");
        var item = list[op.Source!.Value];
        list.RemoveAt(op.Source.Value);
        list.Insert(op.Destination!.Value, item);
    }

    // ---- Finding what a path selects ----

    private static List<PocoNode> Evaluate(Resource resource, Operation op, CompiledExpression select)
    {
        var root = resource.ToPocoNode();
        List<PocoNode> nodes;
        try
        {
            // No element resolver: resolve() reaches contained resources only, never another resource.
            nodes = select(root, new FhirEvaluationContext { Resource = root, RootResource = root }).ToList();
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or InvalidCastException or FormatException or NotSupportedException)
        {
            throw Unprocessable(op, $"the path cannot be evaluated on this resource: {e.Message}");
        }
        foreach (var node in nodes)
        {
            var top = node;
            while (top.Parent is { } up) top = up;
            if (!ReferenceEquals(top.Poco, resource))
                throw Unprocessable(op, "the path selects something that is not an element of the resource");
        }
        return nodes;
    }

    private static PocoNode Single(Operation op, List<PocoNode> nodes) => nodes.Count switch
    {
        1 => nodes[0],
        0 => throw Unprocessable(op, "the path matches nothing"),
        _ => throw Unprocessable(op, $"the path matches {nodes.Count} elements; it must match exactly one"),
    };

    /// <summary>The parent and element definition of the element a node stands for.</summary>
    private static (Base Parent, PropertyMapping Element) Slot(Operation op, PocoNode node, string verb)
    {
        if (node.Parent?.Poco is not { } parent)
            throw Unprocessable(op, $"the whole resource cannot be {verb}");
        var element = Element(op, parent, node.Name)
            ?? throw Unprocessable(op, $"'{FhirService.Truncate(node.Name)}' of {TypeName(parent)} cannot be {verb}");
        return (parent, element);
    }

    [GeneratedRegex(@"^(?:(?<parent>.+)\.)?(?<name>[A-Za-z][A-Za-z0-9_]*)$")]
    private static partial Regex LastStep();

    /// <summary>
    /// For insert and move the path names a list, and must select all of it: all items of one element of one
    /// parent. An empty list is not in the tree at all, so for a path that matches nothing and ends in an
    /// element name the list is found through the parent the rest of the path selects.
    /// </summary>
    private static (Base Parent, PropertyMapping Element, IList List) WholeList(Resource resource, Operation op)
    {
        var nodes = Evaluate(resource, op, op.Select);
        Base parent;
        PropertyMapping? element;
        if (nodes.Count > 0)
        {
            var first = nodes[0];
            if (first.Parent?.Poco is not { } p)
                throw Unprocessable(op, "the path must select a list of elements, not the resource");
            if (nodes.Any(n => !ReferenceEquals(n.Parent?.Poco, p) || n.Name != first.Name))
                throw Unprocessable(op, "the path selects items of more than one list");
            parent = p;
            element = Element(op, parent, first.Name);
        }
        else
        {
            var step = LastStep().Match(op.Path);
            var select = step.Success ? Compile(step.Groups["parent"].Success ? step.Groups["parent"].Value : "$this") : null;
            if (select is null) throw Unprocessable(op, "the path matches nothing");
            var parents = Evaluate(resource, op, select);
            if (parents.Count != 1) throw Unprocessable(op, "the path matches nothing");
            parent = parents[0].Poco;
            element = Element(op, parent, step.Groups["name"].Value) ?? throw Unprocessable(op, "the path matches nothing");
        }
        if (element is null || !element.IsCollection)
            throw Unprocessable(op, "the path does not select a repeating element");
        var list = List(parent, element);
        if (list.Count != nodes.Count)
            throw Unprocessable(op, "the path must select the whole list, not some of its items");
        return (parent, element, list);
    }

    /// <summary>An element a patch may set: one with a FHIR type (not the raw value inside a primitive).</summary>
    private static PropertyMapping? Element(Operation op, Base parent, string name)
    {
        var element = ModelInfo.ModelInspector.FindOrImportClassMapping(parent.GetType())?.FindMappedElementByName(name);
        if (element is null) return null;
        if (element.NativeProperty is null || !typeof(Base).IsAssignableFrom(element.ImplementingType))
            throw Unprocessable(op, $"'{FhirService.Truncate(name)}' of {TypeName(parent)} cannot be patched");
        return element;
    }

    private static IList List(Base parent, PropertyMapping element)
    {
        if (element.NativeProperty!.GetValue(parent) is IList list) return list;
        list = (IList)Activator.CreateInstance(element.NativeProperty!.PropertyType)!;
        element.NativeProperty!.SetValue(parent, list);
        return list;
    }

    private static int IndexIn(IList list, Base item)
    {
        for (var i = 0; i < list.Count; i++)
            if (ReferenceEquals(list[i], item)) return i;
        throw new InvalidOperationException("A FHIRPath result is not in the list it came from.");
    }

    private static string TypeName(Base b) => ModelInfo.ModelInspector.FindOrImportClassMapping(b.GetType())?.Name ?? b.TypeName;

    // ---- Turning a value part into an element ----

    private static Base Build(Operation op, PropertyMapping element, Parameters.ParameterComponent part, string where)
    {
        if (part.Part.Count > 0) return FromParts(op, element, part.Part, where);
        return Fit(op, element, (Base?)part.Value ?? part.Resource!, where);
    }

    /// <summary>Anonymous (backbone) and complex elements given as parts named after their child elements.</summary>
    private static Base FromParts(Operation op, PropertyMapping element, List<Parameters.ParameterComponent> parts, string where)
    {
        var type = element.ImplementingType;
        if (element.Choice != ChoiceType.None || type.IsAbstract || typeof(PrimitiveType).IsAssignableFrom(type))
            throw Unprocessable(op, $"{where} cannot be given as parts; give a value[x]");
        var instance = (Base)Activator.CreateInstance(type)!;
        var name = TypeName(instance);
        foreach (var part in parts)
        {
            var child = Element(op, instance, part.Name!)
                ?? throw Unprocessable(op, $"{name} has no element '{FhirService.Truncate(part.Name!)}'");
            var value = Build(op, child, part, $"{name}.{part.Name}");
            if (child.IsCollection)
                List(instance, child).Add(value);
            else if (child.NativeProperty!.GetValue(instance) is not null)
                throw Unprocessable(op, $"{name}.{part.Name} is given more than once but does not repeat");
            else
                child.NativeProperty!.SetValue(instance, value);
        }
        return instance;
    }

    private static Base Fit(Operation op, PropertyMapping element, Base given, string where)
    {
        Type[] allowed = element.Choice == ChoiceType.DatatypeChoice ? [.. element.FhirType] : [element.ImplementingType];
        foreach (var type in allowed)
            if (type.IsInstanceOfType(given)) return given.DeepCopy();
        if (given is PrimitiveType primitive)
        {
            foreach (var type in allowed)
                if (Convert(primitive, type) is { } converted) return converted;
        }
        var types = element.FhirTypeMappings.Select(m => m.Name).ToList();
        var expected = types.Count <= 8 ? $" ({string.Join(" | ", types)})" : "";
        if (given is PrimitiveType { JsonValue: { } literal } && FamilyOf(given.GetType()) is { } family && allowed.Any(t => FamilyOf(t) == family))
            throw Unprocessable(op, $"the {given.TypeName} '{FhirService.Truncate(System.Convert.ToString(literal, CultureInfo.InvariantCulture) ?? "")}' is not a valid value for {where}{expected}");
        throw Unprocessable(op, $"a value of type {given.TypeName} does not fit {where}{expected}");
    }

    private enum Family { Text, Temporal, Integer, Decimal }

    private static Family? FamilyOf(Type t)
    {
        if (t == typeof(FhirString) || t == typeof(Markdown) || t == typeof(Code) || t == typeof(Id) || t == typeof(FhirUri)
            || t == typeof(FhirUrl) || t == typeof(Canonical) || t == typeof(Oid) || t == typeof(Uuid) || IsCodeOfT(t))
            return Family.Text;
        if (t == typeof(Date) || t == typeof(FhirDateTime) || t == typeof(Instant)) return Family.Temporal;
        if (t == typeof(Integer) || t == typeof(PositiveInt) || t == typeof(UnsignedInt)) return Family.Integer;
        if (t == typeof(FhirDecimal)) return Family.Decimal;
        return null;
    }

    private static bool IsCodeOfT(Type t) => t.IsGenericType && t.GetGenericTypeDefinition() == typeof(Code<>);

    /// <summary>
    /// A primitive of another type is converted when nothing is lost: text to text (valueString into a code),
    /// date to dateTime, integer to decimal, and only if the literal is valid for the target type.
    /// </summary>
    private static PrimitiveType? Convert(PrimitiveType source, Type target)
    {
        var from = FamilyOf(source.GetType());
        var to = FamilyOf(target);
        if (from is null || to is null) return null;
        object? json = (from, to, source.JsonValue) switch
        {
            (Family.Text, Family.Text, string s) when IsValidLiteral(target, s) => s,
            (Family.Temporal, Family.Temporal, string s) when IsValidLiteral(target, s) => s,
            (Family.Integer, Family.Integer, int n) when target == typeof(Integer) || n > 0 || (n == 0 && target == typeof(UnsignedInt)) => n,
            (Family.Integer, Family.Decimal, int n) => (decimal)n,
            _ => null,
        };
        if (json is null) return null;
        var result = (PrimitiveType)Activator.CreateInstance(target)!;
        result.JsonValue = json;
        result.ElementId = source.ElementId;
        result.Extension.AddRange(source.Extension.Select(e => (Extension)e.DeepCopy()));
        return result;
    }

    private static bool IsValidLiteral(Type target, string literal)
    {
        if (IsCodeOfT(target) && EnumUtility.ParseLiteral(literal, target.GetGenericArguments()[0]) is null) return false;
        var check = target.GetMethod("IsValidValue", BindingFlags.Public | BindingFlags.Static, [typeof(string)]);
        return check is null || check.Invoke(null, [literal]) is true;
    }

    // ---- Errors ----

    private static FhirException Malformed(int i, string text) =>
        FhirException.BadRequest($"Patch operation {i} {text}.", $"Parameters.parameter[{i}]");

    private static FhirException Unprocessable(Operation op, string text) =>
        new(HttpStatusCode.UnprocessableEntity, OperationOutcome.IssueType.Processing,
            $"Patch operation {op.Index} ({op.Type.ToString().ToLowerInvariant()} at '{FhirService.Truncate(op.Path)}'): {text}.",
            $"Parameters.parameter[{op.Index}]");
}
