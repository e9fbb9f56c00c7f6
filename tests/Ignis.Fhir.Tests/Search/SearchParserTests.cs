using Hl7.Fhir.Model;
using Ignis.Fhir.Search.Query;
using Shouldly;

namespace Ignis.Fhir.Tests.Search;

public class SearchParserTests
{
    private static SearchRequest Parse(string? type, string query, SearchHandling handling = SearchHandling.Strict) =>
        SearchParser.Parse(type, SearchEngine.ParseQueryString(query), handling);

    private static T Single<T>(SearchRequest r) where T : SearchCriterion
    {
        r.Issues.ShouldBeEmpty();
        r.Criteria.Count.ShouldBe(1);
        return r.Criteria[0].ShouldBeOfType<T>();
    }

    [Theory]
    [InlineData("Patient", "foo=bar", SearchIssueKind.UnknownParameter)]
    [InlineData("Patient", "name:foo=x", SearchIssueKind.UnsupportedModifier)]
    [InlineData("Patient", "name=", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "birthdate=2020-13-01", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "birthdate=xx2020", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "birthdate:exact=2020", SearchIssueKind.UnsupportedModifier)]
    [InlineData("Patient", "gender=a|b|c", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "gender=|", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "identifier:of-type=a|b", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "gender:in=http://vs", SearchIssueKind.UnsupportedModifier)]
    [InlineData("Patient", "active:missing=maybe", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "_count=-1", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "_count=abc", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "_total=some", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "_summary=maybe", SearchIssueKind.InvalidValue)]
    [InlineData("Patient", "_sort=nope", SearchIssueKind.InvalidSort)]
    [InlineData("Observation", "_sort=combo-code-value-quantity", SearchIssueKind.InvalidSort)]
    [InlineData("Observation", "_include=Observation:code", SearchIssueKind.InvalidInclude)]
    [InlineData("Observation", "_include=Observation", SearchIssueKind.InvalidInclude)]
    [InlineData("Observation", "_include=Observation:subject:Medication", SearchIssueKind.InvalidInclude)]
    [InlineData("Observation", "_include:deep=Observation:subject", SearchIssueKind.UnsupportedModifier)]
    [InlineData("Observation", "_revinclude=*", SearchIssueKind.InvalidInclude)]
    [InlineData("Observation", "subject=Foo/1", SearchIssueKind.InvalidValue)]
    [InlineData("Observation", "subject:Medication=1", SearchIssueKind.InvalidValue)]
    [InlineData("Observation", "subject:Patient=Group/1", SearchIssueKind.InvalidValue)]
    [InlineData("Observation", "value-quantity=5|http://unitsofmeasure.org|", SearchIssueKind.InvalidValue)]
    [InlineData("Observation", "value-quantity=5|mg", SearchIssueKind.InvalidValue)]
    [InlineData("Observation", "code-value-quantity=http://loinc.org|8480-6", SearchIssueKind.InvalidValue)]
    [InlineData("Observation", "code.name=x", SearchIssueKind.InvalidChain)]
    [InlineData("Observation", "subject:Patient.organization.name=x", SearchIssueKind.InvalidChain)]
    [InlineData("Observation", "subject:Patient.nope=x", SearchIssueKind.InvalidChain)]
    [InlineData("Patient", "_has:Observation:nope:code=x", SearchIssueKind.InvalidChain)]
    [InlineData("Patient", "_has:Observation:patient=x", SearchIssueKind.InvalidChain)]
    [InlineData("Patient", "_has:Nope:patient:code=x", SearchIssueKind.InvalidChain)]
    [InlineData("Patient", "_has:Observation:patient:nope=x", SearchIssueKind.UnknownParameter)]
    [InlineData("Patient", "_text=x", SearchIssueKind.UnsupportedParameter)]
    [InlineData("Patient", "_filter=name eq x", SearchIssueKind.UnsupportedParameter)]
    [InlineData("Patient", "_type=Patient", SearchIssueKind.UnknownParameter)]
    [InlineData(null, "name=x", SearchIssueKind.UnknownParameter)]
    [InlineData(null, "_type=Nope", SearchIssueKind.InvalidValue)]
    [InlineData(null, "_has:Observation:patient:code=x", SearchIssueKind.InvalidChain)]
    [InlineData("Patient", "_cursor=not-a-cursor", SearchIssueKind.InvalidCursor)]
    public void Strict_handling_reports_each_bad_parameter_as_an_error(string? type, string query, SearchIssueKind kind)
    {
        var r = Parse(type, query);
        r.HasErrors.ShouldBeTrue();
        var issue = r.Issues.ShouldHaveSingleItem();
        issue.Kind.ShouldBe(kind);
        issue.Severity.ShouldBe(OperationOutcome.IssueSeverity.Error);
        issue.Parameter.ShouldBe(query.Split('=')[0]);
        issue.Message.ShouldNotBeNullOrWhiteSpace();
    }

    [Fact]
    public void Lenient_handling_ignores_bad_parameters_and_leaves_them_out_of_the_self_link()
    {
        var r = Parse("Patient", "foo=bar&name=smith&birthdate=garbage&_count=10", SearchHandling.Lenient);
        r.HasErrors.ShouldBeFalse();
        r.Issues.Count.ShouldBe(2);
        r.Issues.ShouldAllBe(i => i.Severity == OperationOutcome.IssueSeverity.Warning);
        r.Criteria.Count.ShouldBe(1);
        r.ToSelfQuery().ShouldBe("name=smith&_count=10");
    }

    [Fact]
    public void Unknown_resource_type_is_an_error_even_when_lenient()
    {
        var r = Parse("Nope", "name=x", SearchHandling.Lenient);
        r.HasErrors.ShouldBeTrue();
        r.Issues.ShouldHaveSingleItem().Kind.ShouldBe(SearchIssueKind.UnknownResourceType);
    }

    [Fact]
    public void Format_and_pretty_are_left_to_the_http_layer()
    {
        var r = Parse("Patient", "_format=json&_pretty=true&name=x");
        r.Issues.ShouldBeEmpty();
        r.ToSelfQuery().ShouldBe("name=x");
    }

    [Fact]
    public void Comma_separates_or_values_and_backslash_escapes_it()
    {
        var c = Single<ParameterCriterion>(Parse("Patient", "name=a\\,b,c"));
        c.AnyOf.Cast<StringSearchValue>().Select(v => v.Raw).ShouldBe(["a,b", "c"]);
    }

    [Fact]
    public void Repetition_means_and()
    {
        Parse("Patient", "name=a&name=b").Criteria.Count.ShouldBe(2);
    }

    [Fact]
    public void String_values_are_normalized_like_the_index()
    {
        var v = Single<ParameterCriterion>(Parse("Patient", "name=M%C3%BCller")).AnyOf[0].ShouldBeOfType<StringSearchValue>();
        v.Raw.ShouldBe("Müller");
        v.Normalized.ShouldBe("muller");
    }

    [Theory]
    [InlineData("name:exact=x", SearchModifier.Exact)]
    [InlineData("name:contains=x", SearchModifier.Contains)]
    [InlineData("name:missing=true", SearchModifier.Missing)]
    [InlineData("gender:not=male", SearchModifier.Not)]
    [InlineData("gender:text=male", SearchModifier.Text)]
    [InlineData("identifier:of-type=http://terminology.hl7.org/CodeSystem/v2-0203|MR|123", SearchModifier.OfType)]
    [InlineData("general-practitioner:Practitioner=1", SearchModifier.Type)]
    [InlineData("_id:not=1", SearchModifier.Not)]
    public void Modifiers_are_recognised(string query, SearchModifier modifier)
    {
        Single<ParameterCriterion>(Parse("Patient", query)).Modifier.ShouldBe(modifier);
    }

    [Theory]
    [InlineData("url:below=http://x", SearchModifier.Below)]
    [InlineData("url:above=http://x/y", SearchModifier.Above)]
    public void Uri_modifiers_are_recognised(string query, SearchModifier modifier)
    {
        Single<ParameterCriterion>(Parse("ValueSet", query)).Modifier.ShouldBe(modifier);
    }

    [Theory]
    [InlineData("gender=male", null, false, "male")]
    [InlineData("gender=http://hl7.org/fhir/administrative-gender|male", "http://hl7.org/fhir/administrative-gender", true, "male")]
    [InlineData("gender=|male", null, true, "male")]
    [InlineData("gender=http://hl7.org/fhir/administrative-gender|", "http://hl7.org/fhir/administrative-gender", true, null)]
    public void Token_forms_are_parsed(string query, string? system, bool systemGiven, string? code)
    {
        var v = Single<ParameterCriterion>(Parse("Patient", query)).AnyOf[0].ShouldBeOfType<TokenSearchValue>();
        v.System.ShouldBe(system);
        v.SystemGiven.ShouldBe(systemGiven);
        v.Code.ShouldBe(code);
    }

    [Fact]
    public void Of_type_carries_the_identifier_type_and_value()
    {
        var v = Single<ParameterCriterion>(Parse("Patient", "identifier:of-type=http://sys|MR|123")).AnyOf[0].ShouldBeOfType<TokenSearchValue>();
        (v.TypeSystem, v.TypeCode, v.Code).ShouldBe(("http://sys", "MR", "123"));
    }

    [Theory]
    [InlineData("2020", SearchPrefix.Eq)]
    [InlineData("eq2020", SearchPrefix.Eq)]
    [InlineData("ne2020", SearchPrefix.Ne)]
    [InlineData("gt2020", SearchPrefix.Gt)]
    [InlineData("lt2020", SearchPrefix.Lt)]
    [InlineData("ge2020", SearchPrefix.Ge)]
    [InlineData("le2020", SearchPrefix.Le)]
    [InlineData("sa2020", SearchPrefix.Sa)]
    [InlineData("eb2020", SearchPrefix.Eb)]
    [InlineData("ap2020", SearchPrefix.Ap)]
    public void Date_prefixes_are_parsed(string value, SearchPrefix prefix)
    {
        var v = Single<ParameterCriterion>(Parse("Patient", "birthdate=" + value)).AnyOf[0].ShouldBeOfType<DateSearchValue>();
        v.Prefix.ShouldBe(prefix);
        new DateTime(v.Lo).ShouldBe(new DateTime(2020, 1, 1));
        new DateTime(v.Hi + 1).ShouldBe(new DateTime(2021, 1, 1));
    }

    [Fact]
    public void Date_time_with_offset_is_converted_to_utc()
    {
        var v = Single<ParameterCriterion>(Parse("Patient", "birthdate=2020-01-01T10:00:00%2B02:00")).AnyOf[0].ShouldBeOfType<DateSearchValue>();
        new DateTime(v.Lo).ShouldBe(new DateTime(2020, 1, 1, 8, 0, 0));
    }

    [Fact]
    public void Number_keeps_its_precision_range()
    {
        var v = Single<ParameterCriterion>(Parse("RiskAssessment", "probability=gt0.80")).AnyOf[0].ShouldBeOfType<NumberSearchValue>();
        v.Prefix.ShouldBe(SearchPrefix.Gt);
        v.Value.ShouldBe(0.80m);
        v.Lo.ShouldBe(0.795, 1e-12);
        v.Hi.ShouldBe(0.805, 1e-12);
    }

    [Theory]
    [InlineData("value-quantity=le5.4|http://unitsofmeasure.org|mg", SearchPrefix.Le, "http://unitsofmeasure.org", "mg")]
    [InlineData("value-quantity=5.4||mg", SearchPrefix.Eq, null, "mg")]
    [InlineData("value-quantity=5.4", SearchPrefix.Eq, null, null)]
    public void Quantity_forms_are_parsed(string query, SearchPrefix prefix, string? system, string? code)
    {
        var v = Single<ParameterCriterion>(Parse("Observation", query)).AnyOf[0].ShouldBeOfType<QuantitySearchValue>();
        (v.Prefix, v.Value, v.System, v.Code).ShouldBe((prefix, 5.4m, system, code));
    }

    [Theory]
    [InlineData("subject=123", null, "123", null)]
    [InlineData("subject=Patient/123", "Patient", "123", null)]
    [InlineData("subject=Patient/123/_history/2", "Patient", "123", null)]
    [InlineData("subject=http://example.org/fhir/Patient/123", "Patient", "123", "http://example.org/fhir/Patient/123")]
    [InlineData("subject:Patient=123", "Patient", "123", null)]
    public void Reference_forms_are_parsed(string query, string? type, string id, string? url)
    {
        var v = Single<ParameterCriterion>(Parse("Observation", query)).AnyOf[0].ShouldBeOfType<ReferenceSearchValue>();
        (v.Type, v.Id, v.Url).ShouldBe((type, id, url));
    }

    [Fact]
    public void Canonical_reference_keeps_its_version()
    {
        var v = Single<ParameterCriterion>(Parse("Questionnaire", "definition=http://x/Q|2")).AnyOf[0];
        v.ShouldBeOfType<UriSearchValue>().Uri.ShouldBe("http://x/Q|2");
    }

    [Fact]
    public void Composite_splits_components_on_dollar()
    {
        var c = Single<ParameterCriterion>(Parse("Observation", "code-value-quantity=http://loinc.org|8480-6$gt100"));
        var v = c.AnyOf[0].ShouldBeOfType<CompositeSearchValue>();
        v.Components[0].ShouldBeOfType<TokenSearchValue>().Code.ShouldBe("8480-6");
        var q = v.Components[1].ShouldBeOfType<QuantitySearchValue>();
        (q.Prefix, q.Value).ShouldBe((SearchPrefix.Gt, 100m));
    }

    [Fact]
    public void Chain_with_type_targets_that_type()
    {
        var c = Single<ChainCriterion>(Parse("Observation", "subject:Patient.name=smith"));
        c.Targets.ShouldHaveSingleItem().Type.ShouldBe("Patient");
    }

    [Fact]
    public void Chain_without_type_covers_each_target_type_defining_the_parameter()
    {
        var c = Single<ChainCriterion>(Parse("Observation", "subject.name=smith"));
        c.Targets.Select(t => t.Type).ShouldContain("Patient");
        c.Targets.Select(t => t.Type).ShouldNotContain("Device");
    }

    [Fact]
    public void Has_is_parsed_and_may_nest()
    {
        var h = Single<HasCriterion>(Parse("Patient", "_has:Observation:patient:code=1234-5"));
        (h.SourceType, h.Reference.Code).ShouldBe(("Observation", "patient"));
        var nested = Single<HasCriterion>(Parse("Patient", "_has:Observation:patient:_has:Provenance:target:agent=Practitioner/1"));
        nested.Inner.ShouldBeOfType<HasCriterion>();
    }

    [Fact]
    public void Result_parameters_are_carried()
    {
        var r = Parse("Observation",
            "_count=50&_total=none&_summary=data&_elements=id,code&_sort=-date,code&_include=Observation:subject:Patient&_revinclude:iterate=Provenance:target");
        r.Issues.ShouldBeEmpty();
        r.Count.ShouldBe(50);
        r.Total.ShouldBe(SearchTotal.None);
        r.Summary.ShouldBe(SearchSummary.Data);
        r.Elements.ShouldBe(["id", "code"]);
        r.Sort.Select(s => (s.Code, s.Descending)).ShouldBe([("date", true), ("code", false)]);
        var inc = r.Includes.ShouldHaveSingleItem();
        (inc.SourceType, inc.Params[0].Code, inc.TargetType, inc.Iterate).ShouldBe(("Observation", "subject", "Patient", false));
        var rev = r.RevIncludes.ShouldHaveSingleItem();
        (rev.SourceType, rev.Iterate, rev.Reverse).ShouldBe(("Provenance", true, true));
    }

    [Fact]
    public void Defaults_are_twenty_per_page_with_a_bounded_total()
    {
        var r = Parse("Patient", "");
        (r.Count, r.Total, r.Summary, r.CountOnly).ShouldBe((20, SearchTotal.Auto, (SearchSummary?)null, false));
        Parse("Patient", "_total=accurate").Total.ShouldBe(SearchTotal.Accurate);
        Parse("Patient", "_total=estimate").Total.ShouldBe(SearchTotal.Auto);
    }

    [Fact]
    public void Count_above_the_maximum_is_clamped()
    {
        Parse("Patient", "_count=5000").Count.ShouldBe(SearchParser.MaxCount);
    }

    [Fact]
    public void Summary_count_and_count_zero_ask_for_no_entries()
    {
        Parse("Patient", "_summary=count").CountOnly.ShouldBeTrue();
        Parse("Patient", "_count=0").CountOnly.ShouldBeTrue();
    }

    [Fact]
    public void Include_star_takes_every_reference_parameter()
    {
        var r = Parse("Observation", "_include=*");
        r.Includes.ShouldHaveSingleItem().Params.Count.ShouldBeGreaterThan(5);
        Parse("Observation", "_include=Observation:*").Includes.ShouldHaveSingleItem().Params.Count.ShouldBeGreaterThan(5);
    }

    [Fact]
    public void System_search_accepts_common_parameters_and_type()
    {
        var r = Parse(null, "_type=Patient,Observation&_tag=http://x|y&_lastUpdated=ge2020&_id=1");
        r.Issues.ShouldBeEmpty();
        r.Types.ShouldBe(["Observation", "Patient"]);
        r.Criteria.Count.ShouldBe(3);
        ((ParameterCriterion)r.Criteria[0]).Params.Count.ShouldBe(2);
    }

    [Fact]
    public void System_search_with_type_accepts_parameters_common_to_those_types()
    {
        Parse(null, "_type=Observation,Condition&code=x").Issues.ShouldBeEmpty();
        Parse(null, "_type=Observation,Patient&code=x").Issues.ShouldHaveSingleItem().Kind.ShouldBe(SearchIssueKind.UnknownParameter);
    }

    [Fact]
    public void Self_query_keeps_accepted_parameters_in_order_and_encodes_values()
    {
        var r = Parse("Observation", "code=http://loinc.org|8480-6&date=ge2020-01-01T00:00:00%2B01:00&_count=5&name=a b");
        r.ToSelfQuery().ShouldBe("code=http://loinc.org|8480-6&date=ge2020-01-01T00:00:00%2B01:00&_count=5");
        r.ToPageQuery("abc").ShouldEndWith("&_cursor=abc");
    }

    [Fact]
    public void Restrictions_are_not_in_the_self_link_and_reject_invalid_criteria()
    {
        var r = Parse("Observation", "code=x");
        r.AddRestriction("Observation", ("subject", "Patient/1"), ("performer", "Patient/1"));
        r.ToSelfQuery().ShouldBe("code=x");
        r.Restrictions.ShouldHaveSingleItem().AnyOf.Count.ShouldBe(2);
        Should.Throw<ArgumentException>(() => r.AddRestriction("Observation", ("nope", "1")));
        Should.Throw<ArgumentException>(() => r.AddRestriction("Nope", ("subject", "1")));
    }
}
