using System.Text;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Serialization;

namespace Ignis.Fhir.Tests.Serialization;

/// <summary>
/// Narratives are validated against the FHIR XHTML rules (no script, no event attributes) even though bodies
/// without a narrative skip that (costly) validator.
/// </summary>
public class NarrativeValidationTests
{
    private static void Parse(string json) => FhirSerializer.Parse(Encoding.UTF8.GetBytes(json), FhirFormat.Json);

    [Fact]
    public void A_plain_narrative_is_accepted()
    {
        Parse("""{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\">Alice</div>"}}""");
    }

    [Fact]
    public void A_narrative_with_a_script_is_rejected()
    {
        Assert.Throws<FhirException>(() => Parse(
            """{"resourceType":"Patient","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></div>"}}"""));
    }

    [Fact]
    public void A_narrative_spelled_with_json_escapes_is_still_validated()
    {
        Assert.Throws<FhirException>(() => Parse(
            """{"resourceType":"Patient","text":{"status":"generated","\u0064iv":"<\u0064iv xmlns=\"http://www.w3.org/1999/xhtml\"><script>alert(1)</script></\u0064iv>"}}"""));
    }

    [Fact]
    public void A_contained_narrative_with_a_script_is_rejected()
    {
        Assert.Throws<FhirException>(() => Parse(
            """{"resourceType":"Observation","status":"final","code":{"text":"x"},"contained":[{"resourceType":"Patient","id":"p","text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\" onclick=\"x()\">p</div>"}}]}"""));
    }

    [Fact]
    public void A_body_without_a_narrative_still_gets_the_strict_rules()
    {
        Assert.Throws<FhirException>(() => Parse("""{"resourceType":"Patient","gender":"robot"}"""));
        Assert.Throws<FhirException>(() => Parse("""{"resourceType":"Patient","unknownElement":1}"""));
        Assert.Throws<FhirException>(() => Parse("""{"resourceType":"Patient","birthDate":"2020-13-45"}"""));
    }
}
