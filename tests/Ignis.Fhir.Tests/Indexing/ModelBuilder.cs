using System.Collections;
using Hl7.Fhir.Introspection;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Tests.Indexing;

/// <summary>Builds POCO resources by reflection over the FHIR model, independent of the code under test.</summary>
internal static class ModelBuilder
{
    private static readonly ModelInspector Inspector = ModelInfo.ModelInspector;

    private static ClassMapping Mapping(Type type) =>
        Inspector.FindClassMapping(type) ?? throw new InvalidOperationException("No class mapping for " + type);

    public static Resource NewResource(string type)
    {
        var resource = (Resource)Activator.CreateInstance(ModelInfo.GetTypeForFhirType(type)!)!;
        resource.Id = "r1";
        return resource;
    }

    /// <summary>
    /// Creates the elements along one branch of a search expression ("Observation.subject.where(resolve() is Patient)",
    /// "(X.medication as Reference)", "X.relatedArtifact.where(type='successor').resource", "Bundle.entry[0].resource")
    /// and puts <paramref name="leaf"/>'s value at its end. Returns the steps it did not understand (empty when all went well).
    /// </summary>
    public static string? SetAlongPath(Resource resource, string branch, Func<IReadOnlyList<Type>, Base> leaf)
    {
        var s = branch.Trim();
        string? operatorCast = null;
        if (s.StartsWith('(') && s.EndsWith(')')) s = s[1..^1].Trim();
        var asIndex = s.IndexOf(" as ", StringComparison.Ordinal);
        if (asIndex > 0)
        {
            operatorCast = s[(asIndex + 4)..].Trim();
            s = s[..asIndex].Trim();
        }
        var parts = SplitDots(s);
        if (parts[0] != resource.TypeName) return "root " + parts[0];

        Base current = resource;
        for (var i = 1; i < parts.Count; i++)
        {
            var part = parts[i];
            if (part.StartsWith("where(resolve() is", StringComparison.Ordinal) || part.StartsWith("as(", StringComparison.Ordinal)
                || part.StartsWith("ofType(", StringComparison.Ordinal))
                continue;
            if (part.StartsWith("where(", StringComparison.Ordinal))
            {
                var inner = part["where(".Length..^1];
                var eq = inner.IndexOf('=');
                var field = inner[..eq].Trim();
                var literal = inner[(eq + 1)..].Trim().Trim('\'');
                var fm = Mapping(current.GetType()).FindMappedElementByName(field);
                if (fm is null) return part;
                var primitive = (PrimitiveType)Activator.CreateInstance(fm.ImplementingType)!;
                primitive.JsonValue = literal;
                current.SetValue(field, primitive);
                continue;
            }
            var name = part;
            var bracket = part.IndexOf('[');
            if (bracket > 0) name = part[..bracket];

            var pm = Mapping(current.GetType()).FindMappedElementByName(name);
            if (pm is null) return part;
            var isLast = parts.Skip(i + 1).All(p => p.StartsWith("where(resolve()", StringComparison.Ordinal) || p.StartsWith("as(", StringComparison.Ordinal) || p.StartsWith("ofType(", StringComparison.Ordinal));
            var cast = NextCast(parts, i) ?? (isLast ? operatorCast : null);
            IReadOnlyList<Type> allowed = cast is not null ? [ModelInfo.GetTypeForFhirType(cast)!] : pm.FhirType;

            Base value;
            if (isLast)
            {
                value = leaf(allowed);
            }
            else
            {
                var type = allowed.Count == 1 ? allowed[0] : pm.ImplementingType;
                if (type.IsAbstract) return part;
                value = (Base)Activator.CreateInstance(type)!;
            }
            if (pm.IsCollection)
            {
                var list = (IList)Activator.CreateInstance(pm.PropertyType)!;
                list.Add(value);
                current.SetValue(name, list);
            }
            else
            {
                current.SetValue(name, value);
            }
            current = value;
        }
        return null;
    }

    private static string? NextCast(List<string> parts, int i)
    {
        if (i + 1 >= parts.Count) return null;
        var next = parts[i + 1];
        if (next.StartsWith("as(", StringComparison.Ordinal)) return next[3..^1];
        if (next.StartsWith("ofType(", StringComparison.Ordinal)) return next[7..^1];
        return null;
    }

    private static List<string> SplitDots(string s)
    {
        var parts = new List<string>();
        int depth = 0, start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '(') depth++;
            else if (s[i] == ')') depth--;
            else if (s[i] == '.' && depth == 0)
            {
                parts.Add(s[start..i]);
                start = i + 1;
            }
        }
        parts.Add(s[start..]);
        return parts;
    }

    // ---- filling every element ------------------------------------------------------------------

    private static readonly string[] ReferenceTargets =
        ["Patient", "Practitioner", "Organization", "Group", "Device", "Location", "RelatedPerson", "Encounter", "PractitionerRole"];

    /// <summary>
    /// A resource with every element set down to <paramref name="maxDepth"/>; <paramref name="variant"/> picks different
    /// choice types, reference targets and reference forms so that several calls cover different shapes.
    /// </summary>
    public static Resource Fill(string type, int variant, int maxDepth = 5)
    {
        var counter = variant * 7;
        var resource = (Resource)FillComplex(ModelInfo.GetTypeForFhirType(type)!, 0, maxDepth, variant, ref counter);
        resource.Id = "r1";
        return resource;
    }

    private static Base FillComplex(Type type, int depth, int maxDepth, int variant, ref int counter)
    {
        var instance = (Base)Activator.CreateInstance(type)!;
        foreach (var pm in Mapping(type).PropertyMappings)
        {
            if (pm.Choice == ChoiceType.ResourceChoice) continue;
            var chosen = pm.Choice == ChoiceType.DatatypeChoice ? pm.FhirType[(variant + counter++) % pm.FhirType.Length] : pm.ImplementingType;
            var value = Make(chosen, depth + 1, maxDepth, variant, ref counter);
            if (value is null) continue;
            if (pm.IsCollection)
            {
                var list = (IList)Activator.CreateInstance(pm.PropertyType)!;
                list.Add(value);
                if (variant % 2 == 1 && Make(chosen, depth + 1, maxDepth, variant + 1, ref counter) is { } second) list.Add(second);
                instance.SetValue(pm.Name, list);
            }
            else
            {
                instance.SetValue(pm.Name, value);
            }
        }
        return instance;
    }

    private static Base? Make(Type type, int depth, int maxDepth, int variant, ref int counter)
    {
        if (type == typeof(XHtml) || type == typeof(Extension) || type == typeof(Narrative) || type.IsAbstract) return null;
        if (type == typeof(ResourceReference))
        {
            var target = ReferenceTargets[(variant + counter++) % ReferenceTargets.Length];
            return (counter % 4) switch
            {
                0 => new ResourceReference($"http://example.org/fhir/{target}/t{counter}/_history/2"),
                1 => new ResourceReference($"{target}/t{counter}/_history/1"),
                _ => new ResourceReference($"{target}/t{counter}") { Display = "Someone" },
            };
        }
        if (typeof(PrimitiveType).IsAssignableFrom(type)) return MakePrimitive(type, variant, ref counter);
        if (depth > maxDepth) return null;
        return FillComplex(type, depth, maxDepth, variant, ref counter);
    }

    private static PrimitiveType? MakePrimitive(Type type, int variant, ref int counter)
    {
        var n = counter++;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Code<>))
        {
            var enumType = type.GetGenericArguments()[0];
            var values = Enum.GetValues(enumType);
            return (PrimitiveType)Activator.CreateInstance(type, values.GetValue((variant + n) % values.Length))!;
        }
        return type.Name switch
        {
            nameof(FhirString) => new FhirString(variant % 2 == 0 ? "Müller text " + n : "Ångström"),
            nameof(Markdown) => new Markdown("**md** " + n),
            nameof(Code) => new Code("code" + n % 3),
            nameof(Id) => new Id("id" + n),
            nameof(FhirUri) => new FhirUri("http://example.org/uri/" + n % 3),
            nameof(FhirUrl) => new FhirUrl("http://example.org/url/" + n % 3),
            nameof(Canonical) => new Canonical(variant % 2 == 0 ? "http://example.org/fhir/StructureDefinition/sd" + n % 3 + "|1.0" : "http://example.org/c" + n % 3),
            nameof(Oid) => new Oid("urn:oid:1.2.3." + n % 3),
            nameof(Uuid) => new Uuid("urn:uuid:c757873d-ec9a-4326-a141-556f43239520"),
            nameof(FhirBoolean) => new FhirBoolean((variant + n) % 2 == 0),
            nameof(FhirDecimal) => new FhirDecimal(variant % 2 == 0 ? 12.50m : 100m),
            nameof(Integer) => new Integer(7 + variant),
            nameof(PositiveInt) => new PositiveInt(3),
            nameof(UnsignedInt) => new UnsignedInt(2),
            nameof(Integer64) => new Integer64(9),
            nameof(Date) => new Date(variant % 2 == 0 ? "2021-03" : "2021-03-04"),
            nameof(FhirDateTime) => new FhirDateTime(variant % 2 == 0 ? "2021-03-04T05:06:07Z" : "2021"),
            nameof(Instant) => new Instant(new DateTimeOffset(2022, 1, 2, 3, 4, 5, TimeSpan.FromHours(1))),
            nameof(Time) => new Time("10:00:00"),
            nameof(Base64Binary) => new Base64Binary([1, 2, 3]),
            _ => null,
        };
    }
}
