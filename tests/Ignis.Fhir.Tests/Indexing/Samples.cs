using Hl7.Fhir.Model;
using Hl7.Fhir.Serialization;

namespace Ignis.Fhir.Tests.Indexing;

/// <summary>Realistic resources, as a US Core client would send them.</summary>
internal static class Samples
{
    private static readonly FhirJsonDeserializer Deserializer = new();

    public static Resource Parse(string json) => Deserializer.Deserialize<Resource>(json);

    public const string Patient = """
    {"resourceType":"Patient","id":"alice","meta":{"versionId":"1","lastUpdated":"2024-01-02T03:04:05Z",
      "profile":["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient|6.1.0"],
      "tag":[{"system":"http://example.org/tags","code":"demo","display":"Demo data"}],
      "security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"N"}],
      "source":"http://example.org/ehr#a1"},
     "identifier":[{"use":"usual","type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0203","code":"MR"}],"text":"Medical Record Number"},
       "system":"http://hospital.example.org/mrn","value":"1032702"},
       {"system":"http://hl7.org/fhir/sid/us-ssn","value":"999-47-5984"}],
     "active":true,
     "name":[{"use":"official","family":"Müller","given":["Alice","Jane"],"prefix":["Ms."],"suffix":["PhD"]},
       {"use":"nickname","given":["Ali"],"text":"Ali M."}],
     "telecom":[{"system":"phone","value":"555-555-5555","use":"home"},{"system":"email","value":"alice@example.org"}],
     "gender":"female","birthDate":"1987-02-20",
     "address":[{"use":"home","line":["49 Meadow St","Apt 2"],"city":"Mounds","district":"Okmulgee","state":"OK","postalCode":"74047","country":"US",
       "period":{"start":"2010-01-01"}}],
     "maritalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-MaritalStatus","code":"M","display":"Married"}],"text":"Married"},
     "communication":[{"language":{"coding":[{"system":"urn:ietf:bcp:47","code":"en-US","display":"English (United States)"}]},"preferred":true}],
     "generalPractitioner":[{"reference":"Practitioner/carol"}],
     "managingOrganization":{"reference":"Organization/org1"},
     "link":[{"other":{"reference":"Patient/alice-old"},"type":"replaces"}]}
    """;

    public const string BloodPressure = """
    {"resourceType":"Observation","id":"bp1","meta":{"profile":["http://hl7.org/fhir/StructureDefinition/bp"]},
     "status":"final",
     "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"vital-signs","display":"Vital Signs"}],"text":"Vital Signs"}],
     "code":{"coding":[{"system":"http://loinc.org","code":"85354-9","display":"Blood pressure panel with all children optional"}],"text":"Blood pressure"},
     "subject":{"reference":"Patient/alice","display":"Alice"},
     "encounter":{"reference":"Encounter/e1"},
     "effectiveDateTime":"2024-03-04T10:15:00+01:00",
     "issued":"2024-03-04T10:20:00.123+01:00",
     "performer":[{"reference":"Practitioner/carol"},{"reference":"Organization/org1"}],
     "interpretation":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation","code":"N"}]}],
     "bodySite":{"coding":[{"system":"http://snomed.info/sct","code":"368209003","display":"Right arm"}]},
     "component":[
       {"code":{"coding":[{"system":"http://loinc.org","code":"8480-6","display":"Systolic blood pressure"}]},
        "valueQuantity":{"value":107,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"}},
       {"code":{"coding":[{"system":"http://loinc.org","code":"8462-4","display":"Diastolic blood pressure"}]},
        "valueQuantity":{"value":60.0,"unit":"mmHg","system":"http://unitsofmeasure.org","code":"mm[Hg]"},
        "dataAbsentReason":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/data-absent-reason","code":"unknown"}]}}]}
    """;

    public const string LabObservation = """
    {"resourceType":"Observation","id":"lab1","status":"final",
     "identifier":[{"system":"urn:oid:1.2.3","value":"lab-778"}],
     "basedOn":[{"reference":"ServiceRequest/sr1"}],
     "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],
     "code":{"coding":[{"system":"http://loinc.org","code":"2339-0","display":"Glucose [Mass/volume] in Blood"}]},
     "subject":{"reference":"http://example.org/fhir/Patient/alice/_history/3"},
     "effectivePeriod":{"start":"2024-03-01","end":"2024-03-02T08:00:00Z"},
     "valueQuantity":{"value":6.3,"unit":"mmol/l","system":"http://unitsofmeasure.org","code":"mmol/L"},
     "specimen":{"reference":"Specimen/s1"},
     "device":{"reference":"Device/d1"},
     "hasMember":[{"reference":"Observation/lab0"}],
     "derivedFrom":[{"reference":"#c1"}],
     "referenceRange":[{"low":{"value":3.1,"unit":"mmol/l","system":"http://unitsofmeasure.org","code":"mmol/L"},
       "high":{"value":6.2,"unit":"mmol/l","system":"http://unitsofmeasure.org","code":"mmol/L"}}]}
    """;

    public const string SmokingStatus = """
    {"resourceType":"Observation","id":"smoke1","status":"final",
     "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"social-history"}]}],
     "code":{"coding":[{"system":"http://loinc.org","code":"72166-2"}],"text":"Tobacco smoking status"},
     "subject":{"reference":"Patient/alice"},
     "effectiveDateTime":"2023",
     "valueCodeableConcept":{"coding":[{"system":"http://snomed.info/sct","code":"266919005","display":"Never smoked tobacco"}],"text":"Never smoker"}}
    """;

    public const string Encounter = """
    {"resourceType":"Encounter","id":"e1","status":"finished",
     "identifier":[{"system":"http://hospital.example.org/visits","value":"v-1001"}],
     "class":{"system":"http://terminology.hl7.org/CodeSystem/v3-ActCode","code":"AMB","display":"ambulatory"},
     "type":[{"coding":[{"system":"http://snomed.info/sct","code":"185349003","display":"Encounter for check up"}],"text":"Check up"}],
     "serviceType":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/service-type","code":"124"}]},
     "priority":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ActPriority","code":"R"}]},
     "subject":{"reference":"Patient/alice"},
     "episodeOfCare":[{"reference":"EpisodeOfCare/ep1"}],
     "basedOn":[{"reference":"ServiceRequest/sr1"}],
     "participant":[{"type":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v3-ParticipationType","code":"PPRF"}]}],
       "period":{"start":"2024-03-04T10:00:00Z","end":"2024-03-04T10:45:00Z"},"individual":{"reference":"Practitioner/carol"}}],
     "appointment":[{"reference":"Appointment/ap1"}],
     "period":{"start":"2024-03-04T10:00:00Z","end":"2024-03-04T11:00:00Z"},
     "length":{"value":60,"unit":"min","system":"http://unitsofmeasure.org","code":"min"},
     "reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"162673000","display":"General examination of patient"}]}],
     "reasonReference":[{"reference":"Condition/c1"}],
     "diagnosis":[{"condition":{"reference":"Condition/c1"},"use":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/diagnosis-role","code":"AD"}]},"rank":1}],
     "account":[{"reference":"Account/acc1"}],
     "hospitalization":{"dischargeDisposition":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/discharge-disposition","code":"home"}]}},
     "location":[{"location":{"reference":"Location/loc1"},"period":{"start":"2024-03-04T10:00:00Z"}}],
     "serviceProvider":{"reference":"Organization/org1"},
     "partOf":{"reference":"Encounter/e0"}}
    """;

    public const string Condition = """
    {"resourceType":"Condition","id":"c1",
     "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]},
     "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]},
     "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}],
     "severity":{"coding":[{"system":"http://snomed.info/sct","code":"24484000","display":"Severe"}]},
     "code":{"coding":[{"system":"http://snomed.info/sct","code":"44054006","display":"Diabetes mellitus type 2"}],"text":"Type 2 diabetes"},
     "bodySite":[{"text":"Pancreas"}],
     "subject":{"reference":"Patient/alice"},"encounter":{"reference":"Encounter/e1"},
     "onsetAge":{"value":34,"unit":"yr","system":"http://unitsofmeasure.org","code":"a"},
     "abatementString":"in remission",
     "recordedDate":"2021-05-06",
     "recorder":{"reference":"Practitioner/carol"},"asserter":{"reference":"Patient/alice"},
     "stage":[{"summary":{"text":"Stage 1"}}],
     "evidence":[{"code":[{"coding":[{"system":"http://snomed.info/sct","code":"169068008"}]}],"detail":[{"reference":"Observation/lab1"}]}]}
    """;

    public const string MedicationRequest = """
    {"resourceType":"MedicationRequest","id":"mr1","status":"active","intent":"order",
     "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/medicationrequest-category","code":"outpatient"}]}],
     "priority":"routine",
     "medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"860975","display":"Metformin 500 MG"}],"text":"Metformin"},
     "subject":{"reference":"Patient/alice"},"encounter":{"reference":"Encounter/e1"},
     "authoredOn":"2024-03-04T10:30:00Z","requester":{"reference":"Practitioner/carol"},
     "performer":{"reference":"Practitioner/carol"},
     "reasonReference":[{"reference":"Condition/c1"}],
     "dosageInstruction":[{"text":"500 mg twice daily","timing":{"repeat":{"boundsPeriod":{"start":"2024-03-04"},"frequency":2,"period":1,"periodUnit":"d"}},
       "doseAndRate":[{"doseQuantity":{"value":500,"unit":"mg","system":"http://unitsofmeasure.org","code":"mg"}}]}],
     "dispenseRequest":{"validityPeriod":{"start":"2024-03-04","end":"2025-03-04"},"numberOfRepeatsAllowed":3,
       "quantity":{"value":60,"unit":"tablet"},"performer":{"reference":"Organization/pharm1"}}}
    """;

    public const string AllergyIntolerance = """
    {"resourceType":"AllergyIntolerance","id":"al1",
     "clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},
     "verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification","code":"confirmed"}]},
     "type":"allergy","category":["medication"],"criticality":"high",
     "code":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"7980","display":"Penicillin G"}]},
     "patient":{"reference":"Patient/alice"},"onsetDateTime":"2004","recordedDate":"2014-10-09T14:58:00+11:00",
     "recorder":{"reference":"Practitioner/carol"},"asserter":{"reference":"Patient/alice"},
     "lastOccurrence":"2012-06",
     "reaction":[{"substance":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"7980"}]},
       "manifestation":[{"coding":[{"system":"http://snomed.info/sct","code":"39579001","display":"Anaphylactic reaction"}]}],
       "onset":"2012-06-12","severity":"severe","exposureRoute":{"coding":[{"system":"http://snomed.info/sct","code":"34206005"}]}}]}
    """;

    public const string Immunization = """
    {"resourceType":"Immunization","id":"im1","status":"completed",
     "vaccineCode":{"coding":[{"system":"http://hl7.org/fhir/sid/cvx","code":"140","display":"Influenza, seasonal, injectable"}]},
     "patient":{"reference":"Patient/alice"},"encounter":{"reference":"Encounter/e1"},
     "occurrenceDateTime":"2023-10-01","primarySource":true,"location":{"reference":"Location/loc1"},
     "manufacturer":{"reference":"Organization/vaxco"},"lotNumber":"AAJN11K","expirationDate":"2024-02-15",
     "performer":[{"actor":{"reference":"Practitioner/carol"}}],
     "reasonCode":[{"coding":[{"system":"http://snomed.info/sct","code":"429060002"}]}],
     "reaction":[{"date":"2023-10-02","detail":{"reference":"Observation/lab1"}}],
     "protocolApplied":[{"series":"Flu","doseNumberPositiveInt":1,"targetDisease":[{"coding":[{"system":"http://snomed.info/sct","code":"6142004"}]}]}]}
    """;

    public const string DiagnosticReport = """
    {"resourceType":"DiagnosticReport","id":"dr1","status":"final",
     "category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0074","code":"LAB"}]}],
     "code":{"coding":[{"system":"http://loinc.org","code":"24323-8","display":"Comprehensive metabolic panel"}]},
     "subject":{"reference":"Patient/alice"},"encounter":{"reference":"Encounter/e1"},
     "effectiveDateTime":"2024-03-01T08:00:00Z","issued":"2024-03-02T09:00:00Z",
     "performer":[{"reference":"Organization/lab"}],"resultsInterpreter":[{"reference":"Practitioner/carol"}],
     "specimen":[{"reference":"Specimen/s1"}],"result":[{"reference":"Observation/lab1"}],
     "conclusionCode":[{"coding":[{"system":"http://snomed.info/sct","code":"281900007"}]}],
     "presentedForm":[{"contentType":"application/pdf","url":"http://example.org/reports/dr1.pdf"}]}
    """;

    public const string Claim = """
    {"resourceType":"Claim","id":"cl1","status":"active","use":"claim",
     "type":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/claim-type","code":"oral"}]},
     "patient":{"reference":"Patient/alice"},"created":"2024-03-05","enterer":{"reference":"Practitioner/carol"},
     "insurer":{"reference":"Organization/ins1"},"provider":{"reference":"Organization/org1"},
     "priority":{"coding":[{"code":"normal"}]},
     "insurance":[{"sequence":1,"focal":true,"coverage":{"reference":"Coverage/cov1"}}],
     "item":[{"sequence":1,"productOrService":{"coding":[{"code":"1200"}]},"servicedDate":"2024-03-04",
       "unitPrice":{"value":135.57,"currency":"USD"},"net":{"value":135.57,"currency":"USD"},
       "encounter":[{"reference":"Encounter/e1"}],"udi":[{"reference":"Device/d1"}]}],
     "total":{"value":135.57,"currency":"USD"}}
    """;

    public static IEnumerable<(string Name, string Json)> All() =>
    [
        (nameof(Patient), Patient), (nameof(BloodPressure), BloodPressure), (nameof(LabObservation), LabObservation),
        (nameof(SmokingStatus), SmokingStatus), (nameof(Encounter), Encounter), (nameof(Condition), Condition),
        (nameof(MedicationRequest), MedicationRequest), (nameof(AllergyIntolerance), AllergyIntolerance),
        (nameof(Immunization), Immunization), (nameof(DiagnosticReport), DiagnosticReport), (nameof(Claim), Claim),
    ];
}
