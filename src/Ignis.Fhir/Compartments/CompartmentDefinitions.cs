using System.Collections.Frozen;
using System.Collections.ObjectModel;

namespace Ignis.Fhir.Compartments;

/// <summary>
/// The five base compartments of FHIR R4 (Patient, Encounter, RelatedPerson, Practitioner, Device): for each,
/// the resource types that can be in it and the search parameters that put a resource there. A resource is in
/// the compartment of, say, Patient/123 when one of the listed reference parameters of its type refers to
/// Patient/123.
/// </summary>
/// <remarks>
/// The rows are the <c>CompartmentDefinition.resource</c> entries of hl7.fhir.r4.core 4.0.1 that carry a
/// <c>param</c>, in the spec's order; entries without one (the type is never in that compartment) are left out.
/// Source and version evidence: docs/arch/adr-0002-compartments-from-r4-data.md.
/// </remarks>
public static class CompartmentDefinitions
{
    /// <summary>
    /// The spec's marker for "the resource that defines the compartment": Encounter/1 is in the compartment of
    /// Encounter/1 by its id, not through a search parameter.
    /// </summary>
    public const string Self = "{def}";

    private sealed record Row(string ResourceType, string[] Params);

    // Built in the static constructor: field initializers run in text order, and the rows are at the bottom.
    private static readonly FrozenDictionary<string, Row[]> RowsByCompartment;
    private static readonly FrozenDictionary<string, FrozenDictionary<string, Entry>> ByCompartment;

    private sealed record Entry(ReadOnlyCollection<string> Params, ReadOnlyCollection<string> ReferenceParams);

    static CompartmentDefinitions()
    {
        RowsByCompartment = new Dictionary<string, Row[]>(StringComparer.Ordinal)
        {
            ["Patient"] = PatientRows,
            ["Encounter"] = EncounterRows,
            ["RelatedPerson"] = RelatedPersonRows,
            ["Practitioner"] = PractitionerRows,
            ["Device"] = DeviceRows,
        }.ToFrozenDictionary(StringComparer.Ordinal);
        ByCompartment = RowsByCompartment.ToFrozenDictionary(
            kv => kv.Key,
            kv => kv.Value.ToFrozenDictionary(
                r => r.ResourceType,
                r => new Entry(Array.AsReadOnly(r.Params), Array.AsReadOnly(r.Params.Where(c => c != Self).ToArray())),
                StringComparer.Ordinal),
            StringComparer.Ordinal);
    }

    private static readonly ReadOnlyCollection<string> OrderedCompartmentTypes =
        Array.AsReadOnly(["Patient", "Encounter", "RelatedPerson", "Practitioner", "Device"]);

    /// <summary>The compartment types R4 defines: Patient, Encounter, RelatedPerson, Practitioner, Device.</summary>
    public static IReadOnlyList<string> CompartmentTypes => OrderedCompartmentTypes;

    /// <summary>Whether <paramref name="type"/> names a compartment (case-sensitive, like FHIR type names).</summary>
    public static bool IsCompartmentType(string type) => ByCompartment.ContainsKey(type);

    /// <summary>
    /// The spec's parameter codes that put a <paramref name="resourceType"/> in a <paramref name="compartmentType"/>
    /// compartment, as written in R4 (may include <see cref="Self"/>); null when that type is never in the
    /// compartment or the compartment type is unknown.
    /// </summary>
    public static IReadOnlyList<string>? ParamsFor(string compartmentType, string resourceType) =>
        ByCompartment.TryGetValue(compartmentType, out var rows) && rows.TryGetValue(resourceType, out var entry) ? entry.Params : null;

    /// <summary>
    /// The resource types the spec lists with at least one parameter for <paramref name="compartmentType"/>, in the
    /// spec's (alphabetical) order; empty for an unknown compartment type.
    /// </summary>
    public static IEnumerable<string> ResourceTypesIn(string compartmentType) =>
        RowsByCompartment.TryGetValue(compartmentType, out var rows) ? rows.Select(r => r.ResourceType) : [];

    /// <summary>
    /// The reference search parameters of <paramref name="resourceType"/> that put it in the compartment
    /// (<see cref="ParamsFor"/> without <see cref="Self"/>); empty when none.
    /// </summary>
    public static IReadOnlyList<string> ReferenceParamsFor(string compartmentType, string resourceType) =>
        ByCompartment.TryGetValue(compartmentType, out var rows) && rows.TryGetValue(resourceType, out var entry)
            ? entry.ReferenceParams
            : [];

    /// <summary>
    /// Whether a resource of <paramref name="resourceType"/> is the one that defines a
    /// <paramref name="compartmentType"/> compartment, and so belongs to it by its own id: Patient/123 is in the
    /// compartment of Patient/123.
    /// </summary>
    /// <remarks>
    /// Every R4 definition says "the identity of the compartment is the same as the [resource]", but only the
    /// Encounter, RelatedPerson and Practitioner rows write this as <see cref="Self"/>; the Patient row lists only
    /// <c>link</c> and the Device row nothing. We apply the stated identity to all five (R5 adds <see cref="Self"/>
    /// to the Patient row), so a patient-scoped token reaches its own Patient resource.
    /// </remarks>
    public static bool IsCompartmentOwner(string compartmentType, string resourceType) =>
        IsCompartmentType(compartmentType) && string.Equals(compartmentType, resourceType, StringComparison.Ordinal);

    // Transcribed from hl7.fhir.r4.core 4.0.1, CompartmentDefinition-{patient,encounter,relatedPerson,practitioner,device}.json.

    private static readonly Row[] PatientRows =
    [
        new("Account", ["subject"]),
        new("AdverseEvent", ["subject"]),
        new("AllergyIntolerance", ["patient", "recorder", "asserter"]),
        new("Appointment", ["actor"]),
        new("AppointmentResponse", ["actor"]),
        new("AuditEvent", ["patient"]),
        new("Basic", ["patient", "author"]),
        new("BodyStructure", ["patient"]),
        new("CarePlan", ["patient", "performer"]),
        new("CareTeam", ["patient", "participant"]),
        new("ChargeItem", ["subject"]),
        new("Claim", ["patient", "payee"]),
        new("ClaimResponse", ["patient"]),
        new("ClinicalImpression", ["subject"]),
        new("Communication", ["subject", "sender", "recipient"]),
        new("CommunicationRequest", ["subject", "sender", "recipient", "requester"]),
        new("Composition", ["subject", "author", "attester"]),
        new("Condition", ["patient", "asserter"]),
        new("Consent", ["patient"]),
        new("Coverage", ["policy-holder", "subscriber", "beneficiary", "payor"]),
        new("CoverageEligibilityRequest", ["patient"]),
        new("CoverageEligibilityResponse", ["patient"]),
        new("DetectedIssue", ["patient"]),
        new("DeviceRequest", ["subject", "performer"]),
        new("DeviceUseStatement", ["subject"]),
        new("DiagnosticReport", ["subject"]),
        new("DocumentManifest", ["subject", "author", "recipient"]),
        new("DocumentReference", ["subject", "author"]),
        new("Encounter", ["patient"]),
        new("EnrollmentRequest", ["subject"]),
        new("EpisodeOfCare", ["patient"]),
        new("ExplanationOfBenefit", ["patient", "payee"]),
        new("FamilyMemberHistory", ["patient"]),
        new("Flag", ["patient"]),
        new("Goal", ["patient"]),
        new("Group", ["member"]),
        new("ImagingStudy", ["patient"]),
        new("Immunization", ["patient"]),
        new("ImmunizationEvaluation", ["patient"]),
        new("ImmunizationRecommendation", ["patient"]),
        new("Invoice", ["subject", "patient", "recipient"]),
        new("List", ["subject", "source"]),
        new("MeasureReport", ["patient"]),
        new("Media", ["subject"]),
        new("MedicationAdministration", ["patient", "performer", "subject"]),
        new("MedicationDispense", ["subject", "patient", "receiver"]),
        new("MedicationRequest", ["subject"]),
        new("MedicationStatement", ["subject"]),
        new("MolecularSequence", ["patient"]),
        new("NutritionOrder", ["patient"]),
        new("Observation", ["subject", "performer"]),
        new("Patient", ["link"]),
        new("Person", ["patient"]),
        new("Procedure", ["patient", "performer"]),
        new("Provenance", ["patient"]),
        new("QuestionnaireResponse", ["subject", "author"]),
        new("RelatedPerson", ["patient"]),
        new("RequestGroup", ["subject", "participant"]),
        new("ResearchSubject", ["individual"]),
        new("RiskAssessment", ["subject"]),
        new("Schedule", ["actor"]),
        new("ServiceRequest", ["subject", "performer"]),
        new("Specimen", ["subject"]),
        new("SupplyDelivery", ["patient"]),
        new("SupplyRequest", ["subject"]),
        new("VisionPrescription", ["patient"]),
    ];

    private static readonly Row[] EncounterRows =
    [
        new("CarePlan", ["encounter"]),
        new("CareTeam", ["encounter"]),
        new("ChargeItem", ["context"]),
        new("Claim", ["encounter"]),
        new("ClinicalImpression", ["encounter"]),
        new("Communication", ["encounter"]),
        new("CommunicationRequest", ["encounter"]),
        new("Composition", ["encounter"]),
        new("Condition", ["encounter"]),
        new("DeviceRequest", ["encounter"]),
        new("DiagnosticReport", ["encounter"]),
        new("DocumentManifest", ["related-ref"]),
        new("DocumentReference", ["encounter"]),
        new("Encounter", ["{def}"]),
        new("ExplanationOfBenefit", ["encounter"]),
        new("Media", ["encounter"]),
        new("MedicationAdministration", ["context"]),
        new("MedicationRequest", ["encounter"]),
        new("NutritionOrder", ["encounter"]),
        new("Observation", ["encounter"]),
        new("Procedure", ["encounter"]),
        new("QuestionnaireResponse", ["encounter"]),
        new("RequestGroup", ["encounter"]),
        new("ServiceRequest", ["encounter"]),
        new("VisionPrescription", ["encounter"]),
    ];

    private static readonly Row[] RelatedPersonRows =
    [
        new("AdverseEvent", ["recorder"]),
        new("AllergyIntolerance", ["asserter"]),
        new("Appointment", ["actor"]),
        new("AppointmentResponse", ["actor"]),
        new("Basic", ["author"]),
        new("CarePlan", ["performer"]),
        new("CareTeam", ["participant"]),
        new("ChargeItem", ["enterer", "performer-actor"]),
        new("Claim", ["payee"]),
        new("Communication", ["sender", "recipient"]),
        new("CommunicationRequest", ["sender", "recipient", "requester"]),
        new("Composition", ["author"]),
        new("Condition", ["asserter"]),
        new("Coverage", ["policy-holder", "subscriber", "payor"]),
        new("DocumentManifest", ["author", "recipient"]),
        new("DocumentReference", ["author"]),
        new("Encounter", ["participant"]),
        new("ExplanationOfBenefit", ["payee"]),
        new("Invoice", ["recipient"]),
        new("MedicationAdministration", ["performer"]),
        new("MedicationStatement", ["source"]),
        new("Observation", ["performer"]),
        new("Patient", ["link"]),
        new("Person", ["link"]),
        new("Procedure", ["performer"]),
        new("Provenance", ["agent"]),
        new("QuestionnaireResponse", ["author", "source"]),
        new("RelatedPerson", ["{def}"]),
        new("RequestGroup", ["participant"]),
        new("Schedule", ["actor"]),
        new("ServiceRequest", ["performer"]),
        new("SupplyRequest", ["requester"]),
    ];

    private static readonly Row[] PractitionerRows =
    [
        new("Account", ["subject"]),
        new("AdverseEvent", ["recorder"]),
        new("AllergyIntolerance", ["recorder", "asserter"]),
        new("Appointment", ["actor"]),
        new("AppointmentResponse", ["actor"]),
        new("AuditEvent", ["agent"]),
        new("Basic", ["author"]),
        new("CarePlan", ["performer"]),
        new("CareTeam", ["participant"]),
        new("ChargeItem", ["enterer", "performer-actor"]),
        new("Claim", ["enterer", "provider", "payee", "care-team"]),
        new("ClaimResponse", ["requestor"]),
        new("ClinicalImpression", ["assessor"]),
        new("Communication", ["sender", "recipient"]),
        new("CommunicationRequest", ["sender", "recipient", "requester"]),
        new("Composition", ["subject", "author", "attester"]),
        new("Condition", ["asserter"]),
        new("CoverageEligibilityRequest", ["enterer", "provider"]),
        new("CoverageEligibilityResponse", ["requestor"]),
        new("DetectedIssue", ["author"]),
        new("DeviceRequest", ["requester", "performer"]),
        new("DiagnosticReport", ["performer"]),
        new("DocumentManifest", ["subject", "author", "recipient"]),
        new("DocumentReference", ["subject", "author", "authenticator"]),
        new("Encounter", ["practitioner", "participant"]),
        new("EpisodeOfCare", ["care-manager"]),
        new("ExplanationOfBenefit", ["enterer", "provider", "payee", "care-team"]),
        new("Flag", ["author"]),
        new("Group", ["member"]),
        new("Immunization", ["performer"]),
        new("Invoice", ["participant"]),
        new("Linkage", ["author"]),
        new("List", ["source"]),
        new("Media", ["subject", "operator"]),
        new("MedicationAdministration", ["performer"]),
        new("MedicationDispense", ["performer", "receiver"]),
        new("MedicationRequest", ["requester"]),
        new("MedicationStatement", ["source"]),
        new("MessageHeader", ["receiver", "author", "responsible", "enterer"]),
        new("NutritionOrder", ["provider"]),
        new("Observation", ["performer"]),
        new("Patient", ["general-practitioner"]),
        new("PaymentNotice", ["provider"]),
        new("PaymentReconciliation", ["requestor"]),
        new("Person", ["practitioner"]),
        new("Practitioner", ["{def}"]),
        new("PractitionerRole", ["practitioner"]),
        new("Procedure", ["performer"]),
        new("Provenance", ["agent"]),
        new("QuestionnaireResponse", ["author", "source"]),
        new("RequestGroup", ["participant", "author"]),
        new("ResearchStudy", ["principalinvestigator"]),
        new("RiskAssessment", ["performer"]),
        new("Schedule", ["actor"]),
        new("ServiceRequest", ["performer", "requester"]),
        new("Specimen", ["collector"]),
        new("SupplyDelivery", ["supplier", "receiver"]),
        new("SupplyRequest", ["requester"]),
        new("VisionPrescription", ["prescriber"]),
    ];

    private static readonly Row[] DeviceRows =
    [
        new("Account", ["subject"]),
        new("Appointment", ["actor"]),
        new("AppointmentResponse", ["actor"]),
        new("AuditEvent", ["agent"]),
        new("ChargeItem", ["enterer", "performer-actor"]),
        new("Claim", ["procedure-udi", "item-udi", "detail-udi", "subdetail-udi"]),
        new("Communication", ["sender", "recipient"]),
        new("CommunicationRequest", ["sender", "recipient"]),
        new("Composition", ["author"]),
        new("DetectedIssue", ["author"]),
        new("DeviceRequest", ["device", "subject", "requester", "performer"]),
        new("DeviceUseStatement", ["device"]),
        new("DiagnosticReport", ["subject"]),
        new("DocumentManifest", ["subject", "author"]),
        new("DocumentReference", ["subject", "author"]),
        new("ExplanationOfBenefit", ["procedure-udi", "item-udi", "detail-udi", "subdetail-udi"]),
        new("Flag", ["author"]),
        new("Group", ["member"]),
        new("Invoice", ["participant"]),
        new("List", ["subject", "source"]),
        new("Media", ["subject"]),
        new("MedicationAdministration", ["device"]),
        new("MessageHeader", ["target"]),
        new("Observation", ["subject", "device"]),
        new("Provenance", ["agent"]),
        new("QuestionnaireResponse", ["author"]),
        new("RequestGroup", ["author"]),
        new("RiskAssessment", ["performer"]),
        new("Schedule", ["actor"]),
        new("ServiceRequest", ["performer", "requester"]),
        new("Specimen", ["subject"]),
        new("SupplyRequest", ["requester"]),
    ];
}
