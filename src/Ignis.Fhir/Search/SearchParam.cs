using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search;

/// <summary>One search parameter as it applies to one resource type.</summary>
/// <param name="ResourceType">The resource type it applies to ("Resource" params are copied to every type).</param>
/// <param name="Code">The code used in the query string (e.g. "subject", "_lastUpdated").</param>
/// <param name="Type">The FHIR search parameter type.</param>
/// <param name="Expression">The FHIRPath expression, narrowed to this resource type; null when not indexed (e.g. _id).</param>
/// <param name="Targets">For reference parameters, the resource types a reference may point to.</param>
/// <param name="Components">For composite parameters, the components in order.</param>
/// <param name="Url">The canonical URL of the definition.</param>
public sealed record SearchParam(
    string ResourceType,
    string Code,
    SearchParamType Type,
    string? Expression,
    IReadOnlyList<string> Targets,
    IReadOnlyList<SearchParamComponentInfo> Components,
    string Url,
    string? Description)
{
    /// <summary>Stable numeric id stored in the index tables (FNV-1a of "Type.code").</summary>
    public int Id { get; } = StableId(ResourceType, Code);

    public static int StableId(string resourceType, string code)
    {
        unchecked
        {
            uint hash = 2166136261;
            foreach (var ch in resourceType + "." + code)
            {
                hash ^= ch;
                hash *= 16777619;
            }
            return (int)(hash & 0x7FFFFFFF);
        }
    }
}

/// <summary>A component of a composite parameter: its own type and an expression relative to the composite's element.</summary>
public sealed record SearchParamComponentInfo(string Code, SearchParamType Type, string Expression, string DefinitionUrl);
