using Hl7.Fhir.Model;
using Ignis.Fhir.Serialization;
using Shouldly;
using Xunit;

namespace Ignis.Fhir.Tests.Serialization;

public class JsonTemplateTests
{
    private const string WithMeta = """
        {"resourceType":"Observation","id":"o1","meta":{"versionId":"7","lastUpdated":"2020-01-01T00:00:00Z","profile":["http://example.org/p"],
         "tag":[{"system":"http://example.org/t","code":"x"}]},"status":"final","code":{"text":"heart rate"},
         "contained":[{"resourceType":"Patient","id":"c","meta":{"versionId":"3","lastUpdated":"2019-05-05T10:00:00Z"}}],
         "subject":{"reference":"#c"},"valueQuantity":{"value":72,"unit":"/min"}}
        """;

    private const string WithoutMeta = """{"resourceType":"Patient","id":"p1","name":[{"family":"Müller","given":["Jürgen"]}],"gender":"male"}""";

    // Whole seconds, micro- and milliseconds, and a time that needs every digit (Ignis writes whole microseconds).
    public static TheoryData<string, int, long> Cases()
    {
        var data = new TheoryData<string, int, long>();
        foreach (var json in new[] { WithMeta, WithoutMeta })
            foreach (var (version, ticks) in new[] { (1, 639_000_000_000_000_000L), (2, 639_000_000_000_000_010L), (12, 639_000_000_001_230_000L), (345, 639_012_345_678_901_230L) })
                data.Add(json, version, ticks);
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_filled_template_is_the_json_of_the_resource_with_that_version_and_time(string json, int version, long ticks)
    {
        var body = FhirSerializer.FromStoredJson(json);
        var template = JsonTemplate.Create(body).ShouldNotBeNull();
        FhirSerializer.ToJson(body).ShouldBe(FhirSerializer.ToJson(FhirSerializer.FromStoredJson(json)), "making the template leaves the resource as it was");

        body.Meta ??= new Meta();
        body.Meta.VersionId = version.ToString(System.Globalization.CultureInfo.InvariantCulture);
        body.Meta.LastUpdated = new DateTimeOffset(ticks, TimeSpan.Zero);
        template.Fill(version, ticks).ShouldBe(FhirSerializer.ToJson(body));
        template.Id.ShouldBe(body.Id);
    }

    [Fact]
    public void A_resource_without_an_id_gets_no_template()
    {
        JsonTemplate.Create(FhirSerializer.FromStoredJson("""{"resourceType":"Patient","gender":"male"}""")).ShouldBeNull();
    }
}
