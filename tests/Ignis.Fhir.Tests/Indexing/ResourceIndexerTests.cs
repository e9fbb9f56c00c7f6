using Hl7.Fhir.Model;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Shouldly;
using Xunit;

namespace Ignis.Fhir.Tests.Indexing;

public class ResourceIndexerTests
{
    private static readonly SearchParameterRegistry Registry = SearchParameterRegistry.Default;
    private static readonly ResourceIndexer Indexer = new(Registry);

    private static int Id(string type, string code) => Registry.Find(type, code)?.Id ?? throw new ArgumentException($"{type}.{code}");

    private static ResourceIndex Extract(string json) => Indexer.Extract(Samples.Parse(json));

    private static (long Lo, long Hi) Range(string date)
    {
        SearchValues.TryParseDateRange(date, out var lo, out var hi).ShouldBeTrue();
        return (lo, hi);
    }

    // ---- string ----------------------------------------------------------------------------------

    [Fact]
    public void A_name_indexes_family_given_prefix_suffix_and_text_as_separate_strings()
    {
        var name = Id("Patient", "name");
        var values = Extract(Samples.Patient).Strings.Where(s => s.ParamId == name).Select(s => s.Value).ToList();
        values.ShouldBe(["Müller", "Alice", "Jane", "Ms.", "PhD", "Ali", "Ali M."], ignoreOrder: true);
    }

    [Fact]
    public void A_string_is_stored_normalized_for_matching_and_exact_for_display()
    {
        var family = Id("Patient", "family");
        Extract(Samples.Patient).Strings.Where(s => s.ParamId == family)
            .ShouldHaveSingleItem().ShouldBe(new StringEntry(family, "muller", "Müller"));
    }

    [Fact]
    public void An_address_indexes_each_line_and_part()
    {
        var index = Extract(Samples.Patient);
        var address = Id("Patient", "address");
        index.Strings.Where(s => s.ParamId == address).Select(s => s.ValueNorm)
            .ShouldBe(["49 meadow st", "apt 2", "mounds", "okmulgee", "ok", "74047", "us"], ignoreOrder: true);
        index.Strings.ShouldContain(new StringEntry(Id("Patient", "address-city"), "mounds", "Mounds"));
        index.Strings.ShouldContain(new StringEntry(Id("Patient", "address-postalcode"), "74047", "74047"));
    }

    // ---- token -----------------------------------------------------------------------------------

    [Fact]
    public void A_codeable_concept_indexes_each_coding_with_its_display_and_its_text_alone()
    {
        var code = Id("Observation", "code");
        Extract(Samples.BloodPressure).Tokens.Where(t => t.ParamId == code).ShouldBe(
        [
            new TokenEntry(code, "http://loinc.org", "85354-9", "blood pressure panel with all children optional"),
            new TokenEntry(code, null, null, "blood pressure"),
        ], ignoreOrder: true);
    }

    [Fact]
    public void A_codeable_concept_text_that_repeats_a_coding_display_gets_no_row_of_its_own()
    {
        var code = Id("Condition", "code");
        var index = Extract("""
            {"resourceType":"Condition","id":"c1","subject":{"reference":"Patient/p1"},
             "code":{"coding":[{"system":"http://snomed.info/sct","code":"59621000","display":"Essential hypertension"},
                               {"system":"http://example.org","code":"HT"}],
                     "text":"essential HYPERTENSION"}}
            """);
        index.Tokens.Where(t => t.ParamId == code).ShouldBe(
        [
            new TokenEntry(code, "http://snomed.info/sct", "59621000", "essential hypertension"),
            new TokenEntry(code, "http://example.org", "HT", null),
        ], ignoreOrder: true);
    }

    [Fact]
    public void An_identifier_indexes_system_value_and_its_type_for_of_type()
    {
        var identifier = Id("Patient", "identifier");
        var rows = Extract(Samples.Patient).Tokens.Where(t => t.ParamId == identifier).ToList();
        rows.ShouldContain(new TokenEntry(identifier, "http://hospital.example.org/mrn", "1032702", "medical record number",
            "http://terminology.hl7.org/CodeSystem/v2-0203", "MR"));
        rows.ShouldContain(new TokenEntry(identifier, "http://hl7.org/fhir/sid/us-ssn", "999-47-5984", null));
    }

    [Fact]
    public void A_contact_point_token_is_its_value_without_a_system()
    {
        var index = Extract(Samples.Patient);
        index.Tokens.ShouldContain(new TokenEntry(Id("Patient", "phone"), null, "555-555-5555", null));
        index.Tokens.ShouldContain(new TokenEntry(Id("Patient", "email"), null, "alice@example.org", null));
        index.Tokens.Where(t => t.ParamId == Id("Patient", "telecom")).Count().ShouldBe(2);
        index.Tokens.ShouldNotContain(t => t.ParamId == Id("Patient", "email") && t.Code == "555-555-5555");
    }

    [Fact]
    public void Code_and_boolean_primitives_are_tokens_without_a_system()
    {
        var index = Extract(Samples.Patient);
        index.Tokens.ShouldContain(new TokenEntry(Id("Patient", "gender"), null, "female", null));
        index.Tokens.ShouldContain(new TokenEntry(Id("Patient", "active"), null, "true", null));
    }

    [Theory]
    [InlineData(null, null)]
    [InlineData(false, "false")]
    [InlineData(true, "true")]
    public void Patient_deceased_is_true_for_a_death_date_or_a_true_flag(bool? flag, string? expected)
    {
        var patient = new Patient { Id = "p", Deceased = flag is { } f ? new FhirBoolean(f) : null };
        var rows = Indexer.Extract(patient).Tokens.Where(t => t.ParamId == Id("Patient", "deceased")).Select(t => t.Code).ToList();
        if (flag is null) rows.ShouldBe(["false"]);
        else rows.ShouldBe([expected]);

        var dead = new Patient { Id = "p", Deceased = new FhirDateTime("2020-01-01") };
        Indexer.Extract(dead).Tokens.Where(t => t.ParamId == Id("Patient", "deceased")).Select(t => t.Code).ShouldBe(["true"]);
    }

    [Fact]
    public void Meta_tags_and_security_labels_are_tokens_and_profile_and_source_are_uris()
    {
        var index = Extract(Samples.Patient);
        index.Tokens.ShouldContain(new TokenEntry(Id("Patient", "_tag"), "http://example.org/tags", "demo", "demo data"));
        index.Tokens.ShouldContain(new TokenEntry(Id("Patient", "_security"), "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "N", null));
        index.Uris.ShouldContain(new UriEntry(Id("Patient", "_profile"), "http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0"));
        index.Uris.ShouldContain(new UriEntry(Id("Patient", "_source"), "http://example.org/ehr#a1"));
    }

    [Fact]
    public void Id_and_last_updated_are_left_to_the_resource_table()
    {
        var index = Extract(Samples.Patient);
        int[] ids = [Id("Patient", "_id"), Id("Patient", "_lastUpdated")];
        index.Tokens.ShouldNotContain(t => ids.Contains(t.ParamId));
        index.Dates.ShouldNotContain(d => ids.Contains(d.ParamId));
    }

    // ---- date ------------------------------------------------------------------------------------

    [Fact]
    public void A_date_covers_the_whole_of_its_precision()
    {
        var birthdate = Id("Patient", "birthdate");
        var (lo, hi) = Range("1987-02-20");
        Extract(Samples.Patient).Dates.ShouldContain(new DateEntry(birthdate, lo, hi));
        new DateTime(hi + 1, DateTimeKind.Utc).ShouldBe(new DateTime(1987, 2, 21, 0, 0, 0, DateTimeKind.Utc));
    }

    [Fact]
    public void A_period_runs_from_the_start_of_its_start_to_the_end_of_its_end()
    {
        var date = Id("Observation", "date");
        Extract(Samples.LabObservation).Dates.Where(d => d.ParamId == date)
            .ShouldHaveSingleItem().ShouldBe(new DateEntry(date, Range("2024-03-01").Lo, Range("2024-03-02T08:00:00Z").Hi));
    }

    [Fact]
    public void A_period_without_an_end_is_open_to_the_end_of_time()
    {
        var encounter = new Encounter { Id = "e", Period = new Period { Start = "2024-03-04" } };
        var date = Id("Encounter", "date");
        Indexer.Extract(encounter).Dates.ShouldBe([new DateEntry(date, Range("2024-03-04").Lo, DateTime.MaxValue.Ticks)]);
    }

    [Fact]
    public void A_timing_indexes_its_events_and_its_bounds()
    {
        var observation = new Observation
        {
            Id = "o",
            Effective = new Timing
            {
                EventElement = [new FhirDateTime("2024-01-01T10:00:00Z")],
                Repeat = new Timing.RepeatComponent { Bounds = new Period { Start = "2024-02-01", End = "2024-02-28" } },
            },
        };
        var date = Id("Observation", "date");
        Indexer.Extract(observation).Dates.ShouldBe(
        [
            new DateEntry(date, Range("2024-01-01T10:00:00Z").Lo, Range("2024-01-01T10:00:00Z").Hi),
            new DateEntry(date, Range("2024-02-01").Lo, Range("2024-02-28").Hi),
        ], ignoreOrder: true);
    }

    [Fact]
    public void A_date_time_with_an_offset_is_stored_in_utc()
    {
        var date = Id("Observation", "date");
        var row = Extract(Samples.BloodPressure).Dates.Single(d => d.ParamId == date);
        new DateTime(row.Lo, DateTimeKind.Utc).ShouldBe(new DateTime(2024, 3, 4, 9, 15, 0, DateTimeKind.Utc));
    }

    // ---- number ----------------------------------------------------------------------------------

    [Fact]
    public void A_decimal_covers_its_stated_precision()
    {
        var risk = new RiskAssessment { Id = "r", Prediction = [new RiskAssessment.PredictionComponent { Probability = new FhirDecimal(0.40m) }] };
        Indexer.Extract(risk).Numbers.ShouldBe([new NumberEntry(Id("RiskAssessment", "probability"), 0.395, 0.405)]);
    }

    [Fact]
    public void An_integer_is_exact()
    {
        var sequence = new MolecularSequence { Id = "m", Variant = [new MolecularSequence.VariantComponent { Start = 100, End = 120 }] };
        var index = Indexer.Extract(sequence);
        index.Numbers.ShouldContain(new NumberEntry(Id("MolecularSequence", "variant-start"), 100, 100));
        index.Numbers.ShouldContain(new NumberEntry(Id("MolecularSequence", "variant-end"), 120, 120));
    }

    // ---- quantity --------------------------------------------------------------------------------

    [Fact]
    public void A_quantity_indexes_its_coded_unit_and_also_its_display_unit_when_they_differ()
    {
        var valueQuantity = Id("Observation", "value-quantity");
        Extract(Samples.LabObservation).Quantities.Where(q => q.ParamId == valueQuantity).ShouldBe(
        [
            new QuantityEntry(valueQuantity, "http://unitsofmeasure.org", "mmol/L", 6.25, 6.35),
            new QuantityEntry(valueQuantity, null, "mmol/l", 6.25, 6.35),
        ], ignoreOrder: true);
    }

    [Fact]
    public void A_quantity_without_a_code_is_indexed_by_its_unit()
    {
        var observation = new Observation { Id = "o", Value = new Quantity { Value = 5, Unit = "tablets" } };
        var valueQuantity = Id("Observation", "value-quantity");
        Indexer.Extract(observation).Quantities.Where(q => q.ParamId == valueQuantity)
            .ShouldBe([new QuantityEntry(valueQuantity, null, "tablets", 4.5, 5.5)]);
    }

    [Fact]
    public void Component_quantities_are_indexed_for_component_and_combo_parameters()
    {
        var index = Extract(Samples.BloodPressure);
        var component = Id("Observation", "component-value-quantity");
        index.Quantities.Where(q => q.ParamId == component && q.System != null).Select(q => (q.Lo, q.Hi))
            .ShouldBe([(106.5, 107.5), (59.95, 60.05)], ignoreOrder: true);
        index.Quantities.Count(q => q.ParamId == Id("Observation", "combo-value-quantity")).ShouldBe(4);
        index.Quantities.ShouldNotContain(q => q.ParamId == Id("Observation", "value-quantity"));
    }

    [Fact]
    public void An_age_is_indexed_as_a_quantity()
    {
        Extract(Samples.Condition).Quantities
            .ShouldContain(new QuantityEntry(Id("Condition", "onset-age"), "http://unitsofmeasure.org", "a", 33.5, 34.5));
    }

    [Fact]
    public void A_range_is_one_quantity_row_from_its_low_to_its_high()
    {
        var condition = new Condition
        {
            Id = "c",
            Onset = new Hl7.Fhir.Model.Range
            {
                Low = new Quantity(10, "a", "http://unitsofmeasure.org"),
                High = new Quantity(20, "a", "http://unitsofmeasure.org"),
            },
        };
        Indexer.Extract(condition).Quantities.ShouldBe([new QuantityEntry(Id("Condition", "onset-age"), "http://unitsofmeasure.org", "a", 9.5, 20.5)]);
    }

    [Fact]
    public void Money_is_a_quantity_in_its_iso_4217_currency()
    {
        var invoice = new Invoice { Id = "i", TotalNet = new Money { Value = 135.57m, Currency = Money.Currencies.USD } };
        Indexer.Extract(invoice).Quantities.ShouldBe(
            [new QuantityEntry(Id("Invoice", "totalnet"), "urn:iso:std:iso:4217", "USD", 135.565, 135.575)]);
    }

    // ---- reference -------------------------------------------------------------------------------

    [Fact]
    public void A_local_reference_indexes_type_and_id()
    {
        var index = Extract(Samples.BloodPressure);
        index.References.ShouldContain(new ReferenceEntry(Id("Observation", "subject"), "Patient", "alice", null));
        index.References.ShouldContain(new ReferenceEntry(Id("Observation", "patient"), "Patient", "alice", null));
        index.References.ShouldContain(new ReferenceEntry(Id("Observation", "performer"), "Organization", "org1", null));
    }

    [Fact]
    public void An_absolute_reference_keeps_its_url_without_the_version_and_also_its_type_and_id()
    {
        Extract(Samples.LabObservation).References.ShouldContain(
            new ReferenceEntry(Id("Observation", "patient"), "Patient", "alice", "http://example.org/fhir/Patient/alice"));
    }

    [Fact]
    public void A_versioned_local_reference_drops_the_version()
    {
        var observation = new Observation { Id = "o", Subject = new ResourceReference("Patient/p1/_history/4") };
        Indexer.Extract(observation).References.ShouldContain(new ReferenceEntry(Id("Observation", "subject"), "Patient", "p1", null));
    }

    [Fact]
    public void A_reference_to_a_contained_resource_is_not_indexed()
    {
        Extract(Samples.LabObservation).References.ShouldNotContain(r => r.ParamId == Id("Observation", "derived-from"));
    }

    [Fact]
    public void A_subject_that_is_not_a_patient_does_not_index_the_patient_parameter()
    {
        var observation = new Observation { Id = "o", Subject = new ResourceReference("Group/g1") };
        var index = Indexer.Extract(observation);
        index.References.ShouldContain(new ReferenceEntry(Id("Observation", "subject"), "Group", "g1", null));
        index.References.ShouldNotContain(r => r.ParamId == Id("Observation", "patient"));
    }

    [Fact]
    public void A_canonical_reference_splits_url_and_version()
    {
        var response = new QuestionnaireResponse { Id = "q", Questionnaire = "http://example.org/Questionnaire/phq9|2.0" };
        Indexer.Extract(response).References.ShouldBe(
            [new ReferenceEntry(Id("QuestionnaireResponse", "questionnaire"), null, null, "http://example.org/Questionnaire/phq9", "2.0")]);
    }

    // ---- composite -------------------------------------------------------------------------------

    [Fact]
    public void Code_value_quantity_pairs_the_code_with_the_value_of_the_same_observation()
    {
        var composite = Id("Observation", "code-value-quantity");
        var rows = Extract(Samples.LabObservation).Composites.Where(c => c.ParamId == composite).ToList();
        rows.ShouldContain(new CompositeEntry(composite,
            new CompositePart("http://loinc.org", "2339-0", null, null),
            new CompositePart("http://unitsofmeasure.org", "mmol/L", 6.25, 6.35), null));
    }

    [Fact]
    public void Component_code_value_quantity_never_pairs_values_across_components()
    {
        var composite = Id("Observation", "component-code-value-quantity");
        var rows = Extract(Samples.BloodPressure).Composites.Where(c => c.ParamId == composite && c.C2.System != null).ToList();
        rows.Select(r => (r.C1.Code, r.C2.Lo)).ShouldBe([("8480-6", 106.5), ("8462-4", 59.95)], ignoreOrder: true);
    }

    [Fact]
    public void Code_value_concept_pairs_the_code_with_each_coding_of_the_value()
    {
        var composite = Id("Observation", "code-value-concept");
        Extract(Samples.SmokingStatus).Composites.Where(c => c.ParamId == composite).ShouldBe(
        [
            new CompositeEntry(composite, new CompositePart("http://loinc.org", "72166-2", null, null),
                new CompositePart("http://snomed.info/sct", "266919005", null, null), null),
        ]);
    }

    [Fact]
    public void Code_value_date_stores_the_date_range_as_ticks()
    {
        var observation = new Observation
        {
            Id = "o",
            Code = new CodeableConcept("http://loinc.org", "21112-8"),
            Value = new FhirDateTime("1980-05-06"),
        };
        var composite = Id("Observation", "code-value-date");
        var (lo, hi) = Range("1980-05-06");
        Indexer.Extract(observation).Composites.ShouldBe(
            [new CompositeEntry(composite, new CompositePart("http://loinc.org", "21112-8", null, null), new CompositePart(null, null, lo, hi), null)]);
    }

    [Fact]
    public void A_composite_component_can_read_from_the_resource_root()
    {
        var sequence = new MolecularSequence
        {
            Id = "m",
            ReferenceSeq = new MolecularSequence.ReferenceSeqComponent { Chromosome = new CodeableConcept("http://example.org/chr", "1") },
            Variant = [new MolecularSequence.VariantComponent { Start = 100, End = 120 }],
        };
        var composite = Id("MolecularSequence", "chromosome-variant-coordinate");
        Indexer.Extract(sequence).Composites.Where(c => c.ParamId == composite).ShouldBe(
        [
            new CompositeEntry(composite, new CompositePart("http://example.org/chr", "1", null, null),
                new CompositePart(null, null, 100, 100), new CompositePart(null, null, 120, 120)),
        ]);
    }

    [Fact]
    public void Document_relationship_pairs_the_target_reference_with_the_relation_code()
    {
        var document = new DocumentReference
        {
            Id = "d",
            RelatesTo = [new DocumentReference.RelatesToComponent { Code = DocumentRelationshipType.Replaces, Target = new ResourceReference("DocumentReference/d0") }],
        };
        var composite = Id("DocumentReference", "relationship");
        Indexer.Extract(document).Composites.ShouldBe(
            [new CompositeEntry(composite, new CompositePart(null, "DocumentReference/d0", null, null), new CompositePart(null, "replaces", null, null), null)]);
    }

    // ---- the whole resource ----------------------------------------------------------------------

    [Fact]
    public void Identical_rows_from_one_resource_are_stored_once()
    {
        var patient = new Patient
        {
            Id = "p",
            Name = [new HumanName { Family = "Smith", Given = ["Ann"] }, new HumanName { Family = "Smith", Given = ["Ann"] }],
        };
        var index = Indexer.Extract(patient);
        index.Strings.Count(s => s.ParamId == Id("Patient", "family")).ShouldBe(1);
        index.Strings.Count(s => s.ParamId == Id("Patient", "name")).ShouldBe(2);
    }

    [Fact]
    public void One_indexer_serves_concurrent_requests_with_the_same_results()
    {
        var resources = Samples.All().Select(s => Samples.Parse(s.Json)).ToArray();
        var shared = new ResourceIndexer(Registry);
        var expected = resources.Select(r => Fingerprint(Indexer.Extract(r))).ToArray();
        var results = new string[resources.Length * 50];
        Parallel.For(0, results.Length, i => results[i] = Fingerprint(shared.Extract(resources[i % resources.Length])));
        for (var i = 0; i < results.Length; i++) results[i].ShouldBe(expected[i % resources.Length]);
    }

    private static string Fingerprint(ResourceIndex index) => string.Join("\n",
        index.Strings.Select(e => e.ToString()).Concat(index.Tokens.Select(e => e.ToString())).Concat(index.Dates.Select(e => e.ToString()))
            .Concat(index.Numbers.Select(e => e.ToString())).Concat(index.Quantities.Select(e => e.ToString()))
            .Concat(index.References.Select(e => e.ToString())).Concat(index.Uris.Select(e => e.ToString()))
            .Concat(index.Composites.Select(e => e.ToString())));
}
