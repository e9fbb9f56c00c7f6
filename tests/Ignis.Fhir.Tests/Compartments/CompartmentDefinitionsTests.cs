using Hl7.Fhir.Model;
using Ignis.Fhir.Compartments;
using Ignis.Fhir.Search;
using Shouldly;
using Xunit;

namespace Ignis.Fhir.Tests.Compartments;

public class CompartmentDefinitionsTests
{
    private static readonly SearchParameterRegistry Registry = SearchParameterRegistry.Default;

    public static TheoryData<string> PatientCompartmentTypes() => new(CompartmentDefinitions.ResourceTypesIn("Patient"));

    public static TheoryData<string, string> AllMemberships() => new(
        CompartmentDefinitions.CompartmentTypes.SelectMany(c => CompartmentDefinitions.ResourceTypesIn(c).Select(t => (c, t))));

    [Theory]
    [MemberData(nameof(PatientCompartmentTypes))]
    public void Every_patient_compartment_param_is_a_reference_parameter_of_the_registry(string resourceType)
    {
        AssertReferenceParams("Patient", resourceType);
    }

    [Theory]
    [MemberData(nameof(AllMemberships))]
    public void Every_compartment_param_is_a_reference_parameter_of_the_registry(string compartmentType, string resourceType)
    {
        AssertReferenceParams(compartmentType, resourceType);
    }

    private static void AssertReferenceParams(string compartmentType, string resourceType)
    {
        Registry.IsKnownType(resourceType).ShouldBeTrue();
        var codes = CompartmentDefinitions.ParamsFor(compartmentType, resourceType);
        codes.ShouldNotBeNull();
        codes.ShouldNotBeEmpty();
        foreach (var code in codes)
        {
            if (code == CompartmentDefinitions.Self)
            {
                // Membership by identity: only the type that defines the compartment is written this way.
                resourceType.ShouldBe(compartmentType);
                continue;
            }
            var param = Registry.Find(resourceType, code);
            param.ShouldNotBeNull($"{compartmentType} compartment: {resourceType}.{code} is not in the registry");
            param.Type.ShouldBe(SearchParamType.Reference, $"{compartmentType} compartment: {resourceType}.{code}");
        }
    }

    // Number of CompartmentDefinition.resource entries with a param in hl7.fhir.r4.core 4.0.1 (each definition
    // lists 145 entries in all).
    [Theory]
    [InlineData("Patient", 66)]
    [InlineData("Encounter", 25)]
    [InlineData("RelatedPerson", 32)]
    [InlineData("Practitioner", 59)]
    [InlineData("Device", 32)]
    public void Each_compartment_holds_as_many_types_as_the_spec_lists(string compartmentType, int count)
    {
        var types = CompartmentDefinitions.ResourceTypesIn(compartmentType).ToList();
        types.Count.ShouldBe(count);
        types.ShouldBeUnique();
        types.ShouldAllBe(t => Registry.IsKnownType(t));
    }

    [Fact]
    public void The_five_r4_compartments_are_known_and_nothing_else()
    {
        CompartmentDefinitions.CompartmentTypes.ShouldBe(["Patient", "Encounter", "RelatedPerson", "Practitioner", "Device"]);
        CompartmentDefinitions.IsCompartmentType("Patient").ShouldBeTrue();
        CompartmentDefinitions.IsCompartmentType("patient").ShouldBeFalse();
        CompartmentDefinitions.IsCompartmentType("Organization").ShouldBeFalse();
        CompartmentDefinitions.ResourceTypesIn("Organization").ShouldBeEmpty();
        CompartmentDefinitions.ParamsFor("Organization", "Observation").ShouldBeNull();
    }

    // Hand-copied from the R4 Patient compartment page (hl7.org/fhir/R4/compartmentdefinition-patient.html).
    [Theory]
    [InlineData("Observation", "subject,performer")]
    [InlineData("Condition", "patient,asserter")]
    [InlineData("Encounter", "patient")]
    [InlineData("AllergyIntolerance", "patient,recorder,asserter")]
    [InlineData("MedicationRequest", "subject")]
    [InlineData("MedicationStatement", "subject")]
    [InlineData("MedicationAdministration", "patient,performer,subject")]
    [InlineData("MedicationDispense", "subject,patient,receiver")]
    [InlineData("Immunization", "patient")]
    [InlineData("Procedure", "patient,performer")]
    [InlineData("DiagnosticReport", "subject")]
    [InlineData("CarePlan", "patient,performer")]
    [InlineData("CareTeam", "patient,participant")]
    [InlineData("DocumentReference", "subject,author")]
    [InlineData("Claim", "patient,payee")]
    [InlineData("ExplanationOfBenefit", "patient,payee")]
    [InlineData("Coverage", "policy-holder,subscriber,beneficiary,payor")]
    [InlineData("Appointment", "actor")]
    [InlineData("Patient", "link")]
    [InlineData("RelatedPerson", "patient")]
    [InlineData("Group", "member")]
    [InlineData("Provenance", "patient")]
    [InlineData("AuditEvent", "patient")]
    [InlineData("ResearchSubject", "individual")]
    [InlineData("ServiceRequest", "subject,performer")]
    [InlineData("Consent", "patient")]
    public void Patient_compartment_rows_match_the_spec(string resourceType, string codes)
    {
        CompartmentDefinitions.ParamsFor("Patient", resourceType).ShouldBe(codes.Split(','));
    }

    [Theory]
    [InlineData("Practitioner")]
    [InlineData("PractitionerRole")]
    [InlineData("Organization")]
    [InlineData("Location")]
    [InlineData("Medication")]
    [InlineData("Device")]
    [InlineData("Task")]
    [InlineData("Contract")]
    [InlineData("Bundle")]
    [InlineData("Binary")]
    public void Types_the_spec_keeps_out_of_the_patient_compartment_are_absent(string resourceType)
    {
        CompartmentDefinitions.ParamsFor("Patient", resourceType).ShouldBeNull();
        CompartmentDefinitions.ReferenceParamsFor("Patient", resourceType).ShouldBeEmpty();
        CompartmentDefinitions.ResourceTypesIn("Patient").ShouldNotContain(resourceType);
    }

    [Theory]
    [InlineData("Encounter", "Encounter", "{def}")]
    [InlineData("Encounter", "Observation", "encounter")]
    [InlineData("Encounter", "ChargeItem", "context")]
    [InlineData("Encounter", "DocumentManifest", "related-ref")]
    [InlineData("Practitioner", "Practitioner", "{def}")]
    [InlineData("Practitioner", "Patient", "general-practitioner")]
    [InlineData("Practitioner", "Encounter", "practitioner,participant")]
    [InlineData("Practitioner", "MessageHeader", "receiver,author,responsible,enterer")]
    [InlineData("RelatedPerson", "RelatedPerson", "{def}")]
    [InlineData("RelatedPerson", "Patient", "link")]
    [InlineData("RelatedPerson", "Coverage", "policy-holder,subscriber,payor")]
    [InlineData("Device", "Observation", "subject,device")]
    [InlineData("Device", "Claim", "procedure-udi,item-udi,detail-udi,subdetail-udi")]
    public void Other_compartment_rows_match_the_spec(string compartmentType, string resourceType, string codes)
    {
        CompartmentDefinitions.ParamsFor(compartmentType, resourceType).ShouldBe(codes.Split(','));
    }

    [Fact]
    public void Reference_params_leave_out_the_self_marker()
    {
        CompartmentDefinitions.ReferenceParamsFor("Encounter", "Encounter").ShouldBeEmpty();
        CompartmentDefinitions.ReferenceParamsFor("Patient", "Patient").ShouldBe(["link"]);
        CompartmentDefinitions.ReferenceParamsFor("Patient", "Observation").ShouldBe(["subject", "performer"]);
    }

    [Theory]
    [InlineData("Patient")]
    [InlineData("Encounter")]
    [InlineData("RelatedPerson")]
    [InlineData("Practitioner")]
    [InlineData("Device")]
    public void The_resource_that_defines_a_compartment_is_its_owner(string compartmentType)
    {
        CompartmentDefinitions.IsCompartmentOwner(compartmentType, compartmentType).ShouldBeTrue();
        CompartmentDefinitions.IsCompartmentOwner(compartmentType, "Observation").ShouldBeFalse();
    }

    [Fact]
    public void Only_the_five_compartment_types_own_a_compartment()
    {
        CompartmentDefinitions.IsCompartmentOwner("Organization", "Organization").ShouldBeFalse();
        // R4 writes no row for Device in the Device compartment: ownership is the only way in.
        CompartmentDefinitions.ParamsFor("Device", "Device").ShouldBeNull();
    }
}
