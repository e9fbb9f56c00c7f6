using Hl7.Fhir.FhirPath;
using Hl7.Fhir.Model;
using Hl7.FhirPath;
using Hl7.FhirPath.Expressions;

namespace Ignis.Fhir.Search.Indexing;

/// <summary>
/// The general FHIRPath engine, for the expressions <see cref="FastPath"/> does not handle.
/// </summary>
internal static class FhirPathSelector
{
    // The default symbol table lacks FHIR's own functions (resolve(), extension(), ...): without them
    // "subject.where(resolve() is Patient)" fails to compile.
    private static readonly FhirPathCompiler Compiler = new(new SymbolTable().AddStandardFP().AddFhirExtensions());

    public static CompiledExpression Compile(string expression) => Compiler.Compile(expression);

    /// <summary>
    /// An evaluation context whose resolve() answers a stub resource of the referenced type: the
    /// expressions only test the type ("resolve() is Patient"), and without a resolver they silently
    /// select nothing. Contained references are resolved by the engine itself.
    /// </summary>
    public static FhirEvaluationContext Context(PocoNode root) => new()
    {
        Resource = root,
        RootResource = root,
        ElementResolver = ResolveStub,
    };

    private static PocoNode? ResolveStub(string reference)
    {
        var parsed = ReferenceParser.Parse(reference);
        if (parsed.TargetType is null || ModelInfo.GetTypeForFhirType(parsed.TargetType) is not { } type) return null;
        var stub = (Resource)Activator.CreateInstance(type)!;
        stub.Id = parsed.TargetId;
        return stub.ToPocoNode();
    }

    /// <summary>The POCO behind each result; system values (e.g. the Boolean of "exists()") come back as FHIR primitives.</summary>
    public static void AddResults(IEnumerable<PocoNode> nodes, List<Base> output)
    {
        foreach (var node in nodes)
        {
            if (node.Poco is { } poco) output.Add(poco);
        }
    }
}
