using Ignis.Smart.Scopes;

namespace Ignis.Smart.Tests;

public class ScopeNarrowingTests
{
    private const string Lab = "category=http://terminology.hl7.org/CodeSystem/observation-category|laboratory";
    private const string Vital = "category=http://terminology.hl7.org/CodeSystem/observation-category|vital-signs";

    [Theory]
    [InlineData("patient/*.rs", "patient/Observation.r")]
    [InlineData("patient/*.rs", "patient/*.s")]
    [InlineData("patient/*.read", "patient/Observation.rs")]
    [InlineData("patient/*.read", "patient/Observation.read")]
    [InlineData("patient/*.read", "patient/Observation.rs?" + Lab)]
    [InlineData("user/*.*", "user/Observation.cruds")]
    [InlineData("user/Observation.write", "user/Observation.cd")]
    [InlineData("user/Observation.cruds", "user/Observation.write")]
    [InlineData("patient/Observation.rs", "patient/Observation.rs?" + Lab)]
    [InlineData("patient/Observation.rs?" + Lab, "patient/Observation.r?" + Lab)]
    [InlineData("patient/Observation.rs?" + Lab, "patient/Observation.rs?" + Lab + "&code=http://loinc.org|2345-7")]
    [InlineData("patient/Observation.r patient/Observation.s", "patient/Observation.rs")]
    [InlineData("patient/*.r patient/Observation.s", "patient/Observation.rs")]
    [InlineData("system/*.cruds", "system/Patient.rs")]
    [InlineData("openid fhirUser offline_access launch/patient patient/*.rs", "openid patient/Observation.rs")]
    [InlineData("openid fhirUser offline_access launch/patient patient/*.rs", "launch/patient fhirUser")]
    [InlineData("patient/*.rs online_access", "online_access")]
    [InlineData("scim system/*.rs", "scim")]
    public void A_refresh_may_narrow_to_scopes_the_grant_covers(string granted, string requested)
    {
        var result = ScopeSet.Parse(granted).Scopes.Narrow(requested);
        result.IsAllowed.ShouldBeTrue();
        result.Refused.ShouldBeEmpty();
        result.Scopes.ToString().ShouldBe(requested);
    }

    [Theory]
    [InlineData("patient/Observation.rs", "patient/*.rs", "patient/*.rs")]
    [InlineData("patient/Observation.rs", "patient/Observation.rus", "patient/Observation.rus")]
    [InlineData("patient/*.read", "patient/Observation.write", "patient/Observation.write")]
    [InlineData("patient/*.read", "patient/Observation.c", "patient/Observation.c")]
    [InlineData("patient/Observation.rs?" + Lab, "patient/Observation.rs", "patient/Observation.rs")]
    [InlineData("patient/Observation.rs?" + Lab, "patient/Observation.rs?" + Vital, "patient/Observation.rs?" + Vital)]
    [InlineData("patient/Observation.r?" + Lab + " patient/Observation.s", "patient/Observation.rs", "patient/Observation.rs")]
    [InlineData("patient/*.rs", "user/Observation.rs", "user/Observation.rs")]
    [InlineData("user/*.rs", "patient/Observation.rs", "patient/Observation.rs")]
    [InlineData("user/*.cruds", "system/*.cruds", "system/*.cruds")]
    [InlineData("patient/*.rs", "offline_access patient/*.rs", "offline_access")]
    [InlineData("patient/*.rs online_access", "offline_access", "offline_access")]
    [InlineData("patient/*.rs", "patient/*.rs scim", "scim")]
    [InlineData("patient/*.rs", "openid patient/*.rs", "openid")]
    [InlineData("patient/*.rs", "patient/Observation.sr", "patient/Observation.sr")]
    [InlineData("patient/*.rs", "patient/Observation.rs *.*", "*.*")]
    public void A_refresh_may_never_widen_the_grant(string granted, string requested, string refused)
    {
        var result = ScopeSet.Parse(granted).Scopes.Narrow(requested);
        result.IsAllowed.ShouldBeFalse();
        result.Refused.ShouldBe([refused]);
        result.Scopes.ShouldBeEmpty();
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void A_refresh_without_scope_keeps_the_original_grant(string? requested)
    {
        var granted = ScopeSet.Parse("openid fhirUser patient/*.rs offline_access").Scopes;
        var result = granted.Narrow(requested);
        result.IsAllowed.ShouldBeTrue();
        result.Scopes.ShouldBeSameAs(granted);
    }
}
