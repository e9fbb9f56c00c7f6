using System.Net;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Serialization;
using Shouldly;

namespace Ignis.Fhir.Tests.Patch;

/// <summary>FHIRPath Patch (FHIR R4 fhirpatch.html), one group per operation type, then the error matrix.</summary>
public class FhirPathPatchTests
{
    private static Patient Sample() => new()
    {
        Id = "p1",
        Identifier = [new Identifier("http://a", "1"), new Identifier("http://b", "2"), new Identifier("http://c", "3")],
        Name = [new HumanName { Family = "Chalmers", Given = ["Peter", "James"] }],
        Gender = AdministrativeGender.Male,
        BirthDate = "1974-12-25",
    };

    private static Parameters Patch(params Parameters.ParameterComponent[] operations) => new() { Parameter = [.. operations] };

    private static Parameters.ParameterComponent Op(string type, string path, string? name = null, DataType? value = null,
        int? index = null, int? source = null, int? destination = null)
    {
        var op = new Parameters.ParameterComponent { Name = "operation" };
        op.Part.Add(new() { Name = "type", Value = new Code(type) });
        op.Part.Add(new() { Name = "path", Value = new FhirString(path) });
        if (name is not null) op.Part.Add(new() { Name = "name", Value = new FhirString(name) });
        if (value is not null) op.Part.Add(new() { Name = "value", Value = value });
        if (index is not null) op.Part.Add(new() { Name = "index", Value = new Integer(index) });
        if (source is not null) op.Part.Add(new() { Name = "source", Value = new Integer(source) });
        if (destination is not null) op.Part.Add(new() { Name = "destination", Value = new Integer(destination) });
        return op;
    }

    private static Parameters.ParameterComponent Part(string name, DataType value) => new() { Name = name, Value = value };

    private static Parameters.ParameterComponent Parts(string name, params Parameters.ParameterComponent[] parts) =>
        new() { Name = name, Part = [.. parts] };

    private static Patient Apply(Patient patient, params Parameters.ParameterComponent[] operations) =>
        (Patient)FhirPathPatch.Apply(patient, Patch(operations));

    private static string?[] Systems(Patient p) => p.Identifier.Select(i => i.System).ToArray();

    // ---- add ----

    [Fact]
    public void Add_sets_a_missing_single_element_as_in_the_spec_birthDate_example()
    {
        var patient = Sample();
        patient.BirthDate = null;
        var result = Apply(patient, Op("add", "Patient", name: "birthDate", value: new Date("1930-01-01")));
        result.BirthDate.ShouldBe("1930-01-01");
    }

    [Fact]
    public void Add_builds_an_anonymous_element_from_parts_as_in_the_spec_contact_example()
    {
        var op = Op("add", "Patient", name: "contact");
        op.Part.Add(Parts("value", Part("name", new HumanName { Text = "a name" })));
        var result = Apply(Sample(), op);
        result.Contact.Count.ShouldBe(1);
        result.Contact[0].Name!.Text.ShouldBe("a name");
    }

    [Fact]
    public void Add_appends_to_a_repeating_element()
    {
        var result = Apply(Sample(), Op("add", "Patient", name: "identifier", value: new Identifier("http://d", "4")));
        Systems(result).ShouldBe(["http://a", "http://b", "http://c", "http://d"]);
    }

    [Fact]
    public void Add_appends_to_an_element_deeper_in_the_resource()
    {
        var result = Apply(Sample(), Op("add", "Patient.name[0]", name: "given", value: new FhirString("Jim")));
        result.Name[0].Given.ShouldBe(["Peter", "James", "Jim"]);
    }

    [Fact]
    public void Add_builds_nested_parts_with_repeating_children()
    {
        var op = Op("add", "Patient", name: "contact");
        op.Part.Add(Parts("value",
            Part("relationship", new CodeableConcept("http://terminology.hl7.org/CodeSystem/v2-0131", "N")),
            Part("relationship", new CodeableConcept("http://terminology.hl7.org/CodeSystem/v2-0131", "C")),
            Part("gender", new Code("female")),
            Parts("name", Part("family", new FhirString("Du Marché")), Part("given", new FhirString("Bénédicte")))));
        var contact = Apply(Sample(), op).Contact.Single();
        contact.Relationship.Select(r => r.Coding[0].Code).ShouldBe(["N", "C"]);
        contact.Gender.ShouldBe(AdministrativeGender.Female);
        contact.Name!.Family.ShouldBe("Du Marché");
        contact.Name.Given.ShouldBe(["Bénédicte"]);
    }

    [Fact]
    public void Add_picks_the_type_of_a_choice_element_from_the_value()
    {
        var result = Apply(Sample(), Op("add", "Patient", name: "deceased", value: new FhirDateTime("2020-02-02T10:00:00Z")));
        result.Deceased.ShouldBeOfType<FhirDateTime>().Value.ShouldBe("2020-02-02T10:00:00Z");
    }

    [Fact]
    public void Add_converts_a_date_into_a_dateTime_choice_without_loss()
    {
        var result = Apply(Sample(), Op("add", "Patient", name: "deceased", value: new Date("2020-02-02")));
        result.Deceased.ShouldBeOfType<FhirDateTime>().Value.ShouldBe("2020-02-02");
    }

    // ---- insert ----

    [Fact]
    public void Insert_at_index_0_puts_the_value_first()
    {
        var result = Apply(Sample(), Op("insert", "Patient.identifier", value: new Identifier("http://z", "0"), index: 0));
        Systems(result).ShouldBe(["http://z", "http://a", "http://b", "http://c"]);
    }

    [Fact]
    public void Insert_at_the_length_of_the_list_appends()
    {
        var result = Apply(Sample(), Op("insert", "Patient.identifier", value: new Identifier("http://z", "0"), index: 3));
        Systems(result).ShouldBe(["http://a", "http://b", "http://c", "http://z"]);
    }

    [Fact]
    public void Insert_in_the_middle_shifts_the_rest()
    {
        var result = Apply(Sample(), Op("insert", "Patient.name[0].given", value: new FhirString("Q"), index: 1));
        result.Name[0].Given.ShouldBe(["Peter", "Q", "James"]);
    }

    [Fact]
    public void Insert_into_an_empty_list_at_0_creates_it()
    {
        var patient = Sample();
        patient.Identifier.Clear();
        var result = Apply(patient, Op("insert", "Patient.identifier", value: new Identifier("http://z", "0"), index: 0));
        Systems(result).ShouldBe(["http://z"]);
    }

    // ---- delete ----

    [Fact]
    public void Delete_removes_a_single_element()
    {
        var result = Apply(Sample(), Op("delete", "Patient.birthDate"));
        result.BirthDate.ShouldBeNull();
    }

    [Fact]
    public void Delete_removes_one_item_of_a_list()
    {
        var result = Apply(Sample(), Op("delete", "Patient.identifier[1]"));
        Systems(result).ShouldBe(["http://a", "http://c"]);
    }

    [Fact]
    public void Delete_selects_with_a_filter()
    {
        var result = Apply(Sample(), Op("delete", "Patient.identifier.where(system = 'http://c')"));
        Systems(result).ShouldBe(["http://a", "http://b"]);
    }

    [Fact]
    public void Delete_of_a_path_that_matches_nothing_changes_nothing()
    {
        var patient = Sample();
        var result = Apply(patient, Op("delete", "Patient.telecom"), Op("delete", "Patient.identifier.where(system = 'http://none')"));
        FhirSerializer.ToJson(result).ShouldBe(FhirSerializer.ToJson(patient));
    }

    // ---- replace ----

    [Fact]
    public void Replace_changes_a_primitive()
    {
        var result = Apply(Sample(), Op("replace", "Patient.birthDate", value: new Date("1930-01-01")));
        result.BirthDate.ShouldBe("1930-01-01");
    }

    [Fact]
    public void Replace_changes_a_complex_element_in_a_list()
    {
        var result = Apply(Sample(), Op("replace", "Patient.name[0]", value: new HumanName { Family = "Other" }));
        result.Name.Single().Family.ShouldBe("Other");
        result.Name[0].Given.ShouldBeEmpty();
    }

    [Fact]
    public void Replace_converts_a_string_into_a_code_of_a_required_value_set()
    {
        var result = Apply(Sample(), Op("replace", "Patient.gender", value: new FhirString("female")));
        result.Gender.ShouldBe(AdministrativeGender.Female);
    }

    [Fact]
    public void Replace_converts_a_code_into_a_string_element()
    {
        var result = Apply(Sample(), Op("replace", "Patient.name[0].family", value: new Code("Smith")));
        result.Name[0].Family.ShouldBe("Smith");
    }

    [Fact]
    public void Replace_of_a_choice_element_may_change_its_type()
    {
        var patient = Sample();
        patient.Deceased = new FhirBoolean(true);
        var result = Apply(patient, Op("replace", "Patient.deceased", value: new FhirDateTime("2020-02-02")));
        result.Deceased.ShouldBeOfType<FhirDateTime>();
    }

    // ---- move ----

    [Fact]
    public void Move_takes_the_item_at_source_to_destination()
    {
        var result = Apply(Sample(), Op("move", "Patient.identifier", source: 0, destination: 2));
        Systems(result).ShouldBe(["http://b", "http://c", "http://a"]);
    }

    [Fact]
    public void Move_towards_the_front()
    {
        var result = Apply(Sample(), Op("move", "Patient.identifier", source: 2, destination: 0));
        Systems(result).ShouldBe(["http://c", "http://a", "http://b"]);
    }

    // ---- the whole patch ----

    [Fact]
    public void Operations_apply_in_order_each_seeing_the_result_of_the_one_before()
    {
        var result = Apply(Sample(),
            Op("insert", "Patient.identifier", value: new Identifier("http://z", "0"), index: 0),
            Op("move", "Patient.identifier", source: 0, destination: 3),
            Op("delete", "Patient.identifier.where(system = 'http://a')"));
        Systems(result).ShouldBe(["http://b", "http://c", "http://z"]);
    }

    [Fact]
    public void The_input_resource_is_left_unchanged()
    {
        var patient = Sample();
        var before = FhirSerializer.ToJson(patient);
        Apply(patient,
            Op("add", "Patient", name: "active", value: new FhirBoolean(true)),
            Op("insert", "Patient.identifier", value: new Identifier("http://z", "0"), index: 0),
            Op("delete", "Patient.birthDate"),
            Op("replace", "Patient.name[0].family", value: new FhirString("Other")),
            Op("move", "Patient.name[0].given", source: 0, destination: 1));
        FhirSerializer.ToJson(patient).ShouldBe(before);
    }

    [Fact]
    public void The_result_does_not_share_values_with_the_patch()
    {
        var identifier = new Identifier("http://z", "0");
        var result = Apply(Sample(), Op("add", "Patient", name: "identifier", value: identifier));
        result.Identifier[^1].Value = "changed";
        identifier.Value.ShouldBe("0");
    }

    [Fact]
    public void A_later_malformed_operation_stops_the_patch_before_anything_is_applied()
    {
        var patient = Sample();
        var e = Should.Throw<FhirException>(() => Apply(patient,
            Op("delete", "Patient.birthDate"),
            Op("move", "Patient.identifier")));
        e.Status.ShouldBe(HttpStatusCode.BadRequest);
        e.Outcome.Issue[0].Expression.ShouldBe(["Parameters.parameter[1]"]);
    }

    // ---- malformed patch documents: 400 naming the operation ----

    private static Parameters.ParameterComponent Without(Parameters.ParameterComponent op, string part)
    {
        op.Part.RemoveAll(p => p.Name == part);
        return op;
    }

    private static readonly Dictionary<string, Func<Parameters.ParameterComponent>> MalformedCases = new()
    {
        ["parameter not named operation"] = () => new Parameters.ParameterComponent { Name = "op", Part = Op("delete", "Patient.birthDate").Part },
        ["operation with a value instead of parts"] = () => new Parameters.ParameterComponent { Name = "operation", Value = new FhirString("delete") },
        ["missing type"] = () => Without(Op("delete", "Patient.birthDate"), "type"),
        ["unknown type"] = () => Op("upsert", "Patient.birthDate"),
        ["type that is not a code or string"] = () => With(Without(Op("delete", "Patient.birthDate"), "type"), Part("type", new Integer(1))),
        ["missing path"] = () => Without(Op("delete", "Patient.birthDate"), "path"),
        ["empty path"] = () => Op("delete", " "),
        ["path that is not FHIRPath"] = () => Op("delete", "Patient.name("),
        ["unknown part"] = () => With(Op("delete", "Patient.birthDate"), Part("where", new FhirString("x"))),
        ["duplicate part"] = () => With(Op("delete", "Patient.birthDate"), Part("path", new FhirString("Patient.gender"))),
        ["add without name"] = () => Op("add", "Patient", value: new FhirBoolean(true)),
        ["add without value"] = () => Op("add", "Patient", name: "active"),
        ["insert without value"] = () => Op("insert", "Patient.identifier", index: 0),
        ["replace without value"] = () => Op("replace", "Patient.birthDate"),
        ["value with no content"] = () => With(Op("replace", "Patient.birthDate"), new Parameters.ParameterComponent { Name = "value" }),
        ["value with both value and parts"] = () => With(Op("add", "Patient", name: "contact"),
            new Parameters.ParameterComponent { Name = "value", Value = new FhirString("x"), Part = [Part("gender", new Code("male"))] }),
        ["value part without a name"] = () => With(Op("add", "Patient", name: "contact"),
            Parts("value", new Parameters.ParameterComponent { Value = new Code("male") })),
        ["insert without index"] = () => Op("insert", "Patient.identifier", value: new Identifier("http://z", "0")),
        ["insert with a negative index"] = () => Op("insert", "Patient.identifier", value: new Identifier("http://z", "0"), index: -1),
        ["insert with an index that is not an integer"] = () => With(Op("insert", "Patient.identifier", value: new Identifier("http://z", "0")), Part("index", new FhirString("0"))),
        ["move without source"] = () => Op("move", "Patient.identifier", destination: 0),
        ["move without destination"] = () => Op("move", "Patient.identifier", source: 0),
    };

    private static Parameters.ParameterComponent With(Parameters.ParameterComponent op, params Parameters.ParameterComponent[] extra)
    {
        op.Part.AddRange(extra);
        return op;
    }

    public static TheoryData<string> MalformedCaseNames => new(MalformedCases.Keys);

    [Theory]
    [MemberData(nameof(MalformedCaseNames))]
    public void A_malformed_operation_is_400_naming_the_operation(string @case)
    {
        var e = Should.Throw<FhirException>(() => FhirPathPatch.Apply(Sample(),
            Patch(Op("delete", "Patient.telecom"), MalformedCases[@case]())));
        e.Status.ShouldBe(HttpStatusCode.BadRequest);
        e.Outcome.Issue.Single().Code.ShouldBe(OperationOutcome.IssueType.Invalid);
        e.Outcome.Issue[0].Expression.ShouldBe(["Parameters.parameter[1]"]);
        e.Outcome.Issue[0].Diagnostics.ShouldStartWith("Patch operation 1 ");
    }

    // ---- well-formed operations that do not fit the resource: 422 ----

    private static readonly Dictionary<string, Func<Parameters.ParameterComponent>> UnprocessableCases = new()
    {
        ["replace of a path matching several elements"] = () => Op("replace", "Patient.name.given", value: new FhirString("x")),
        ["delete of a path matching several elements"] = () => Op("delete", "Patient.identifier"),
        ["replace of a path matching nothing"] = () => Op("replace", "Patient.telecom", value: new ContactPoint()),
        ["add at a path matching nothing"] = () => Op("add", "Patient.contact", name: "gender", value: new Code("male")),
        ["add at a path matching several elements"] = () => Op("add", "Patient.identifier", name: "use", value: new Code("usual")),
        ["add of an unknown element"] = () => Op("add", "Patient", name: "shoeSize", value: new Integer(42)),
        ["add of a single element that exists"] = () => Op("add", "Patient", name: "birthDate", value: new Date("1930-01-01")),
        ["value of the wrong type"] = () => Op("replace", "Patient.birthDate", value: new FhirBoolean(true)),
        ["complex value of the wrong type"] = () => Op("add", "Patient", name: "identifier", value: new HumanName { Family = "x" }),
        ["code not in the required value set"] = () => Op("replace", "Patient.gender", value: new FhirString("robot")),
        ["dateTime with a time into a date"] = () => Op("replace", "Patient.birthDate", value: new FhirDateTime("2020-01-01T10:00:00Z")),
        ["value type outside a choice"] = () => Op("add", "Patient", name: "deceased", value: new FhirString("yes")),
        ["parts naming an unknown element"] = () => With(Op("add", "Patient", name: "contact"), Parts("value", Part("shoeSize", new Integer(42)))),
        ["parts repeating a single element"] = () => With(Op("add", "Patient", name: "contact"),
            Parts("value", Part("gender", new Code("male")), Part("gender", new Code("female")))),
        ["parts for a primitive"] = () => With(Op("add", "Patient", name: "active"), Parts("value", Part("value", new FhirBoolean(true)))),
        ["insert past the end"] = () => Op("insert", "Patient.identifier", value: new Identifier("http://z", "0"), index: 4),
        ["insert into a single element"] = () => Op("insert", "Patient.birthDate", value: new Date("1930-01-01"), index: 0),
        ["insert at a path selecting part of a list"] = () => Op("insert", "Patient.identifier.where(system = 'http://a')", value: new Identifier("http://z", "0"), index: 0),
        ["insert at a path selecting several lists"] = () => Op("insert", "Patient.identifier.system", value: new FhirUri("http://z"), index: 0),
        ["move with source past the end"] = () => Op("move", "Patient.identifier", source: 3, destination: 0),
        ["move with destination past the end"] = () => Op("move", "Patient.identifier", source: 0, destination: 3),
        ["move in a list that is not there"] = () => Op("move", "Patient.telecom", source: 0, destination: 0),
        ["delete of the whole resource"] = () => Op("delete", "Patient"),
        ["replace of the whole resource"] = () => Op("replace", "Patient", value: new FhirString("x")),
        ["path selecting a computed value"] = () => Op("replace", "1 + 1", value: new Integer(3)),
    };

    public static TheoryData<string> UnprocessableCaseNames => new(UnprocessableCases.Keys);

    [Theory]
    [MemberData(nameof(UnprocessableCaseNames))]
    public void An_operation_that_does_not_fit_the_resource_is_422_naming_the_operation(string @case)
    {
        var patient = Sample();
        var before = FhirSerializer.ToJson(patient);
        var e = Should.Throw<FhirException>(() => FhirPathPatch.Apply(patient,
            Patch(Op("delete", "Patient.telecom"), UnprocessableCases[@case]())));
        e.Status.ShouldBe(HttpStatusCode.UnprocessableEntity);
        e.Outcome.Issue.Single().Code.ShouldBe(OperationOutcome.IssueType.Processing);
        e.Outcome.Issue[0].Expression.ShouldBe(["Parameters.parameter[1]"]);
        e.Outcome.Issue[0].Diagnostics.ShouldStartWith("Patch operation 1 (");
        FhirSerializer.ToJson(patient).ShouldBe(before);
    }
}
