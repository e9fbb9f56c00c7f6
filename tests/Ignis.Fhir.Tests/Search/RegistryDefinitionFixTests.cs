using Ignis.Fhir.Search;
using Shouldly;
using Xunit;

namespace Ignis.Fhir.Tests.Search;

public class RegistryDefinitionFixTests
{
    private static readonly SearchParameterRegistry Registry = SearchParameterRegistry.Default;

    [Fact]
    public void Document_relationship_reads_relatesto_from_target_and_relation_from_code()
    {
        var components = Registry.Find("DocumentReference", "relationship")!.Components;
        components.Select(c => (c.Code, c.Expression)).ShouldBe([("relatesto", "target"), ("relation", "code")]);
    }

    [Fact]
    public void Code_value_date_casts_to_the_fhir_date_time_type()
    {
        var components = Registry.Find("Observation", "code-value-date")!.Components;
        components[1].Expression.ShouldBe("value.as(dateTime) | value.as(Period)");
    }
}
