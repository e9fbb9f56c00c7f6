using Ignis.Smart.Scopes;

namespace Ignis.Smart.Tests;

public class ScopeParsingTests
{
    private const string LabCategory = "http://terminology.hl7.org/CodeSystem/observation-category|laboratory";

    [Theory]
    [InlineData("patient/*.read", ScopeContext.Patient, "*", "rs", ScopeSyntax.V1)]
    [InlineData("user/Observation.write", ScopeContext.User, "Observation", "cud", ScopeSyntax.V1)]
    [InlineData("system/*.*", ScopeContext.System, "*", "cruds", ScopeSyntax.V1)]
    [InlineData("user/Patient.*", ScopeContext.User, "Patient", "cruds", ScopeSyntax.V1)]
    [InlineData("patient/Observation.rs", ScopeContext.Patient, "Observation", "rs", ScopeSyntax.V2)]
    [InlineData("user/*.cruds", ScopeContext.User, "*", "cruds", ScopeSyntax.V2)]
    [InlineData("system/Patient.c", ScopeContext.System, "Patient", "c", ScopeSyntax.V2)]
    [InlineData("patient/Patient.r", ScopeContext.Patient, "Patient", "r", ScopeSyntax.V2)]
    [InlineData("patient/Patient.u", ScopeContext.Patient, "Patient", "u", ScopeSyntax.V2)]
    [InlineData("patient/Patient.d", ScopeContext.Patient, "Patient", "d", ScopeSyntax.V2)]
    [InlineData("patient/Patient.s", ScopeContext.Patient, "Patient", "s", ScopeSyntax.V2)]
    [InlineData("user/Encounter.cud", ScopeContext.User, "Encounter", "cud", ScopeSyntax.V2)]
    [InlineData("user/Encounter.cs", ScopeContext.User, "Encounter", "cs", ScopeSyntax.V2)]
    [InlineData("user/MedicationRequest.rud", ScopeContext.User, "MedicationRequest", "rud", ScopeSyntax.V2)]
    public void Clinical_scopes_parse_into_context_type_permissions_and_syntax(string text, ScopeContext context, string type, string letters, ScopeSyntax syntax)
    {
        Scope.TryParse(text, out var scope, out var error).ShouldBeTrue();
        error.ShouldBe(InvalidScopeReason.None);
        var clinical = scope.ShouldBeOfType<ClinicalScope>();
        clinical.Kind.ShouldBe(ScopeKind.Clinical);
        clinical.Context.ShouldBe(context);
        clinical.ResourceType.ShouldBe(type);
        clinical.Permissions.ToLetters().ShouldBe(letters);
        clinical.Syntax.ShouldBe(syntax);
        clinical.IsV1.ShouldBe(syntax == ScopeSyntax.V1);
        clinical.IsV2.ShouldBe(syntax == ScopeSyntax.V2);
        clinical.IsAnyType.ShouldBe(type == "*");
        clinical.Query.ShouldBeNull();
        clinical.Text.ShouldBe(text);
    }

    [Theory]
    [InlineData("patient/Observation.rs?category=" + LabCategory, "category=" + LabCategory)]
    [InlineData("patient/Observation.rs?category=a|lab&code=http://loinc.org|1234-5", "category=a|lab", "code=http://loinc.org|1234-5")]
    [InlineData("user/Observation.s?code:in=http://example.org/ValueSet/diabetes", "code:in=http://example.org/ValueSet/diabetes")]
    [InlineData("patient/Observation.rs?date=ge2020&date=lt2021", "date=ge2020", "date=lt2021")]
    [InlineData("patient/Observation.rs?category=http%3A%2F%2Fexample.org%7Clab", "category=http://example.org|lab")]
    [InlineData("patient/*.rs?_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N", "_security=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|N")]
    public void Granular_scopes_keep_their_query_as_decoded_name_value_pairs(string text, params string[] pairs)
    {
        Scope.TryParse(text, out var scope, out _).ShouldBeTrue();
        var clinical = scope.ShouldBeOfType<ClinicalScope>();
        clinical.IsV2.ShouldBeTrue();
        clinical.IsGranular.ShouldBeTrue();
        clinical.Query!.Select(p => p.ToString()).ShouldBe(pairs);
        clinical.Query!.Text.ShouldBe(text[(text.IndexOf('?') + 1)..]);
        clinical.ToString().ShouldBe(text);
    }

    [Theory]
    [InlineData("patient/Observation.sr", InvalidScopeReason.InvalidPermissions)]
    [InlineData("patient/Observation.rr", InvalidScopeReason.InvalidPermissions)]
    [InlineData("patient/Observation.scrud", InvalidScopeReason.InvalidPermissions)]
    [InlineData("patient/Observation.x", InvalidScopeReason.InvalidPermissions)]
    [InlineData("patient/Observation.R", InvalidScopeReason.InvalidPermissions)]
    [InlineData("patient/Observation.Read", InvalidScopeReason.InvalidPermissions)]
    [InlineData("patient/Observation.readwrite", InvalidScopeReason.InvalidPermissions)]
    [InlineData("patient/Observation.rs.x", InvalidScopeReason.InvalidPermissions)]
    [InlineData("patient/Observation.", InvalidScopeReason.MissingPermissions)]
    [InlineData("patient/Observation", InvalidScopeReason.MissingPermissions)]
    [InlineData("patient/observation.rs", InvalidScopeReason.InvalidResourceType)]
    [InlineData("patient/.rs", InvalidScopeReason.InvalidResourceType)]
    [InlineData("patient/Obs-ervation.rs", InvalidScopeReason.InvalidResourceType)]
    [InlineData("patient/**.rs", InvalidScopeReason.InvalidResourceType)]
    [InlineData("group/Observation.rs", InvalidScopeReason.UnknownContext)]
    [InlineData("Patient/Observation.rs", InvalidScopeReason.UnknownContext)]
    [InlineData("https://example.org/scope", InvalidScopeReason.UnknownContext)]
    [InlineData("patient/Observation.read?category=lab", InvalidScopeReason.QueryOnV1Scope)]
    [InlineData("patient/Observation.*?category=lab", InvalidScopeReason.QueryOnV1Scope)]
    [InlineData("patient/Observation.rs?", InvalidScopeReason.InvalidQuery)]
    [InlineData("patient/Observation.rs?category", InvalidScopeReason.InvalidQuery)]
    [InlineData("patient/Observation.rs?=lab", InvalidScopeReason.InvalidQuery)]
    [InlineData("patient/Observation.rs?category=", InvalidScopeReason.InvalidQuery)]
    [InlineData("patient/Observation.rs?category=a&&code=b", InvalidScopeReason.InvalidQuery)]
    [InlineData("patient/Observation.rs?cat(egory)=a", InvalidScopeReason.InvalidQuery)]
    [InlineData("patient/Observation.rs?category=a?b", InvalidScopeReason.InvalidQuery)]
    [InlineData("*.*", InvalidScopeReason.MissingContext)]
    [InlineData("*.read", InvalidScopeReason.MissingContext)]
    [InlineData("Observation.read", InvalidScopeReason.MissingContext)]
    [InlineData("Observation.rs", InvalidScopeReason.MissingContext)]
    [InlineData("launch/practitioner", InvalidScopeReason.UnknownLaunchContext)]
    [InlineData("launch/", InvalidScopeReason.UnknownLaunchContext)]
    [InlineData("openid\"", InvalidScopeReason.IllegalCharacter)]
    [InlineData("back\\slash", InvalidScopeReason.IllegalCharacter)]
    [InlineData("pati\u00e9nt/*.rs", InvalidScopeReason.IllegalCharacter)]
    [InlineData("tab\there", InvalidScopeReason.IllegalCharacter)]
    [InlineData("*", InvalidScopeReason.Malformed)]
    [InlineData("-scim", InvalidScopeReason.Malformed)]
    [InlineData("", InvalidScopeReason.Malformed)]
    public void Invalid_scopes_are_reported_with_their_reason_and_never_throw(string text, InvalidScopeReason reason)
    {
        Scope.TryParse(text, out var scope, out var error).ShouldBeFalse();
        scope.ShouldBeNull();
        error.ShouldBe(reason);

        var parsed = ScopeSet.Parse($"openid {text} fhirUser");
        parsed.Scopes.ToString().ShouldBe("openid fhirUser");
        if (text.Length > 0 && !text.Contains(' '))
            parsed.Invalid.ShouldBe([new InvalidScope(text, reason)]);
    }

    [Theory]
    [InlineData("launch", ScopeKind.Launch)]
    [InlineData("launch/patient", ScopeKind.LaunchPatient)]
    [InlineData("launch/encounter", ScopeKind.LaunchEncounter)]
    [InlineData("openid", ScopeKind.OpenId)]
    [InlineData("fhirUser", ScopeKind.FhirUser)]
    [InlineData("profile", ScopeKind.Profile)]
    [InlineData("offline_access", ScopeKind.OfflineAccess)]
    [InlineData("online_access", ScopeKind.OnlineAccess)]
    [InlineData("scim", ScopeKind.Other)]
    [InlineData("introspection", ScopeKind.Other)]
    [InlineData("email", ScopeKind.Other)]
    [InlineData("fhiruser", ScopeKind.Other)]
    [InlineData("OPENID", ScopeKind.Other)]
    [InlineData("api:read", ScopeKind.Other)]
    public void Launch_identity_and_plain_scopes_parse_by_exact_case_sensitive_name(string text, ScopeKind kind)
    {
        Scope.TryParse(text, out var scope, out _).ShouldBeTrue();
        scope.ShouldNotBeOfType<ClinicalScope>();
        scope.Kind.ShouldBe(kind);
        scope.Text.ShouldBe(text);
    }

    [Theory]
    [InlineData("openid fhirUser launch/patient patient/*.rs offline_access")]
    [InlineData("launch openid profile user/Observation.rs?category=" + LabCategory + " user/Patient.read online_access")]
    [InlineData("system/*.cruds system/*.* scim")]
    [InlineData("patient/Observation.rs?category=http%3A%2F%2Fexample.org%7Clab")]
    [InlineData("")]
    public void A_scope_set_writes_back_the_string_it_was_parsed_from(string text)
    {
        var parsed = ScopeSet.Parse(text);
        parsed.Invalid.ShouldBeEmpty();
        parsed.Scopes.ToString().ShouldBe(text);
        ScopeSet.Parse(parsed.Scopes.ToString()).Scopes.ShouldBe(parsed.Scopes);
    }

    [Theory]
    [InlineData("  openid   openid patient/*.rs  ", "openid patient/*.rs")]
    [InlineData("patient/*.rs patient/*.rs patient/*.sr patient/*.sr", "patient/*.rs")]
    [InlineData(null, "")]
    public void Parsing_drops_duplicates_and_extra_spaces_keeping_first_order(string? text, string expected)
    {
        var parsed = ScopeSet.Parse(text);
        parsed.Scopes.ToString().ShouldBe(expected);
        parsed.Invalid.Count.ShouldBeLessThanOrEqualTo(1);
    }

    [Fact]
    public void A_mixed_scope_string_separates_valid_from_invalid_and_exposes_helpers()
    {
        var parsed = ScopeSet.Parse("openid fhirUser launch/patient patient/*.read patient/Observation.rs?category=" + LabCategory + " user/Foo.sr scim *.*");

        parsed.Scopes.Select(s => s.Text).ShouldBe(["openid", "fhirUser", "launch/patient", "patient/*.read", "patient/Observation.rs?category=" + LabCategory, "scim"]);
        parsed.Invalid.ShouldBe([new InvalidScope("user/Foo.sr", InvalidScopeReason.InvalidPermissions), new InvalidScope("*.*", InvalidScopeReason.MissingContext)]);
        parsed.Scopes.Clinical.Select(c => c.IsV1).ShouldBe([true, false]);
        parsed.Scopes.Contains(ScopeKind.OpenId).ShouldBeTrue();
        parsed.Scopes.Contains(ScopeKind.OfflineAccess).ShouldBeFalse();
        parsed.Scopes.Contains("scim").ShouldBeTrue();
        parsed.Scopes.Contains("Scim").ShouldBeFalse();
    }

    [Fact]
    public void Hostile_input_is_reported_not_thrown()
    {
        var junk = string.Concat(Enumerable.Range(0, 2000).Select(i => (char)(i % 256)));
        var parsed = ScopeSet.Parse(junk + " patient/" + new string('A', 100_000) + ".rs " + "patient/Observation.rs?" + string.Join('&', Enumerable.Repeat("a=%ZZ", 1000)));
        parsed.Scopes.Clinical.Count.ShouldBe(1); // the query of repeated a=%ZZ is valid; the decoder leaves bad escapes alone
        parsed.Invalid.ShouldNotBeEmpty();
    }
}
