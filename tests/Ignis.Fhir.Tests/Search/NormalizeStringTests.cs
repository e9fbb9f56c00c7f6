using Ignis.Fhir.Search;
using Shouldly;
using Xunit;

namespace Ignis.Fhir.Tests.Search;

public class NormalizeStringTests
{
    [Theory]
    [InlineData("Müller", "muller")]
    [InlineData("Ångström", "angstrom")]
    [InlineData("Zoe\u0308", "zoe")]
    [InlineData("Nguyễn Đức", "nguyen đuc")]
    [InlineData("ÇELİK", "celik")]
    [InlineData("Smith", "smith")]
    public void Normalizing_lower_cases_and_removes_accents_under_invariant_globalization(string value, string expected) =>
        SearchValues.NormalizeString(value).ShouldBe(expected);
}
