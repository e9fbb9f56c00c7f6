using Hl7.Fhir.Model;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Shouldly;
using Xunit;

namespace Ignis.Fhir.Tests.Indexing;

/// <summary>
/// Every reference parameter of every resource type, generated from the registry: a resource whose element on the
/// parameter's path references a target must produce that ReferenceEntry. Reference parameters that filter with
/// "resolve() is T" silently index nothing when resolve() is not wired up, which only a test per parameter catches.
/// </summary>
public class ReferenceParameterTests
{
    private static readonly SearchParameterRegistry Registry = SearchParameterRegistry.Default;
    private static readonly ResourceIndexer Indexer = new(Registry);

    public static TheoryData<string, string> ReferenceParameters()
    {
        var data = new TheoryData<string, string>();
        foreach (var type in Registry.ResourceTypes.Order(StringComparer.Ordinal))
        {
            foreach (var p in Registry.For(type).Where(p => p.Type == SearchParamType.Reference && p.Expression is not null)
                         .OrderBy(p => p.Code, StringComparer.Ordinal))
                data.Add(type, p.Code);
        }
        return data;
    }

    [Fact]
    public void The_clinical_resources_all_have_reference_parameters_in_the_table()
    {
        string[] clinical =
        [
            "AllergyIntolerance", "Condition", "Encounter", "Observation", "MedicationRequest", "Immunization", "Procedure",
            "DiagnosticReport", "CarePlan", "CareTeam", "Goal", "DocumentReference", "ServiceRequest", "Claim",
            "ExplanationOfBenefit", "Coverage", "Appointment", "MedicationAdministration", "MedicationStatement", "Specimen", "Device",
        ];
        var covered = ReferenceParameters().Select(row => (string)row.Data.Item1).ToHashSet();
        foreach (var type in clinical) covered.ShouldContain(type);
        ReferenceParameters().Count.ShouldBeGreaterThan(400);
    }

    [Theory]
    [MemberData(nameof(ReferenceParameters))]
    public void Each_branch_of_a_reference_parameter_indexes_the_reference_it_finds(string resourceType, string code)
    {
        var param = Registry.Find(resourceType, code)!;
        foreach (var branch in SearchParameterRegistry.SplitTopLevelUnion(param.Expression!))
        {
            var resolveType = ResolveType(branch);
            var target = resolveType ?? (param.Targets.Contains("Patient") ? "Patient" : param.Targets.FirstOrDefault() ?? "Patient");

            var resource = ModelBuilder.NewResource(resourceType);
            Base? leaf = null;
            var problem = ModelBuilder.SetAlongPath(resource, branch, allowed => leaf = Leaf(allowed, target));
            problem.ShouldBeNull($"test builder could not follow '{branch}'");
            leaf.ShouldNotBeNull(branch);

            var references = Indexer.Extract(resource).References.Where(r => r.ParamId == param.Id).ToList();
            if (leaf is PrimitiveType)
                references.ShouldContain(new ReferenceEntry(param.Id, null, null, "http://example.org/fhir/Library/lib1", "1.0"), branch);
            else
                references.ShouldContain(new ReferenceEntry(param.Id, target, "p1", null), branch);

            if (resolveType is null) continue;
            var other = resolveType == "Group" ? "Patient" : "Group";
            var wrongType = ModelBuilder.NewResource(resourceType);
            ModelBuilder.SetAlongPath(wrongType, branch, allowed => Leaf(allowed, other));
            Indexer.Extract(wrongType).References.Where(r => r.ParamId == param.Id).ShouldBeEmpty(
                $"'{branch}' must not index a reference to {other}");
        }
    }

    private static Base Leaf(IReadOnlyList<Type> allowed, string target)
    {
        if (allowed.Contains(typeof(ResourceReference))) return new ResourceReference($"{target}/p1");
        if (allowed.Any(t => typeof(Resource).IsAssignableFrom(t)))
        {
            var r = ModelBuilder.NewResource(target);
            r.Id = "p1";
            return r;
        }
        const string url = "http://example.org/fhir/Library/lib1|1.0";
        return allowed.Contains(typeof(Canonical)) ? new Canonical(url) : new FhirUri(url);
    }

    private static string? ResolveType(string branch)
    {
        const string marker = "where(resolve() is ";
        var i = branch.IndexOf(marker, StringComparison.Ordinal);
        return i < 0 ? null : branch[(i + marker.Length)..branch.IndexOf(')', i + marker.Length)].Trim();
    }
}
