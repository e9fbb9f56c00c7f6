using Hl7.Fhir.Model;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Shouldly;
using Xunit;

namespace Ignis.Fhir.Tests.Indexing;

/// <summary>
/// The fast evaluator must select exactly what the FHIRPath engine selects, for every parameter: both indexers run
/// over realistic resources and over resources of every type with every element filled, and their rows must match.
/// </summary>
public class FastPathEquivalenceTests
{
    private static readonly SearchParameterRegistry Registry = SearchParameterRegistry.Default;
    private static readonly ResourceIndexer Fast = new(Registry);
    private static readonly ResourceIndexer FhirPathOnly = new(Registry, fhirPathOnly: true);

    public static TheoryData<string> SampleNames() => new(Samples.All().Select(s => s.Name));

    public static TheoryData<string> ResourceTypes() => new(Registry.ResourceTypes.Order(StringComparer.Ordinal));

    [Theory]
    [MemberData(nameof(SampleNames))]
    public void Fast_path_and_FHIRPath_index_a_realistic_resource_identically(string sample)
    {
        var resource = Samples.Parse(Samples.All().Single(s => s.Name == sample).Json);
        AssertSameRows(resource);
    }

    [Theory]
    [MemberData(nameof(ResourceTypes))]
    public void Fast_path_and_FHIRPath_index_a_fully_populated_resource_identically(string resourceType)
    {
        for (var variant = 0; variant < 3; variant++) AssertSameRows(ModelBuilder.Fill(resourceType, variant));
    }

    [Fact]
    public void Nearly_every_parameter_runs_on_the_fast_path()
    {
        var slow = Registry.ResourceTypes
            .SelectMany(t => Fast.EvaluatorsFor(t).Where(kv => !kv.Value).Select(kv => t + "." + kv.Key))
            .Order(StringComparer.Ordinal)
            .ToList();
        slow.ShouldBe(["Bundle.composition", "Bundle.message", "Patient.deceased"], ignoreOrder: true);
    }

    private static void AssertSameRows(Resource resource)
    {
        var fast = Rows(Fast.Extract(resource));
        var reference = Rows(FhirPathOnly.Extract(resource));
        var missing = reference.Except(fast).ToList();
        var extra = fast.Except(reference).ToList();
        (missing.Count + extra.Count).ShouldBe(0,
            $"{resource.TypeName}: missing from fast path: {string.Join("; ", missing.Take(10))} | only in fast path: {string.Join("; ", extra.Take(10))}");
        fast.Count.ShouldBeGreaterThan(0);
    }

    private static List<string> Rows(ResourceIndex index)
    {
        var names = Registry.ResourceTypes.SelectMany(Registry.For).GroupBy(p => p.Id).ToDictionary(g => g.Key, g => g.First().Code);
        string N(int id) => names.TryGetValue(id, out var n) ? n : id.ToString();
        return
        [
            .. index.Strings.Select(e => $"{N(e.ParamId)} {e with { ParamId = 0 }}"),
            .. index.Tokens.Select(e => $"{N(e.ParamId)} {e with { ParamId = 0 }}"),
            .. index.Dates.Select(e => $"{N(e.ParamId)} {e with { ParamId = 0 }}"),
            .. index.Numbers.Select(e => $"{N(e.ParamId)} {e with { ParamId = 0 }}"),
            .. index.Quantities.Select(e => $"{N(e.ParamId)} {e with { ParamId = 0 }}"),
            .. index.References.Select(e => $"{N(e.ParamId)} {e with { ParamId = 0 }}"),
            .. index.Uris.Select(e => $"{N(e.ParamId)} {e with { ParamId = 0 }}"),
            .. index.Composites.Select(e => $"{N(e.ParamId)} {e with { ParamId = 0 }}"),
        ];
    }
}
