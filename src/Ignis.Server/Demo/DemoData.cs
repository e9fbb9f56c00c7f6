using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Storage;

namespace Ignis.Server.Demo;

/// <summary>
/// The demo record of DESIGN.md: Patient/alice and Patient/dave with realistic clinical data,
/// Practitioner/carol and an Organization. Seeded through a transaction, the same path as any client.
/// </summary>
public static class DemoData
{
    private const string Loinc = "http://loinc.org";
    private const string Snomed = "http://snomed.info/sct";
    private const string Rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
    private const string Cvx = "http://hl7.org/fhir/sid/cvx";
    private const string Ucum = "http://unitsofmeasure.org";
    private const string ObsCategory = "http://terminology.hl7.org/CodeSystem/observation-category";

    public static async Task<int> SeedIfEmptyAsync(FhirService service)
    {
        using (var store = service.Storage.OpenReader())
            if (!store.IsEmpty()) return 0;

        var resources = Build();
        var bundle = new Bundle { Type = Bundle.BundleType.Transaction };
        foreach (var r in resources)
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                FullUrl = $"urn:ignis:demo:{r.TypeName}/{r.Id}",
                Resource = r,
                Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.PUT, Url = $"{r.TypeName}/{r.Id}" },
            });
        var response = await service.ExecuteAsync(
            new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle, Prefer = PreferReturn.Minimal },
            "http://localhost/fhir");
        if (response.Status != 200)
            throw new InvalidOperationException("Seeding the demo data failed: " + response.Outcome?.Issue.FirstOrDefault()?.Diagnostics);
        return resources.Count;
    }

    public static List<Resource> Build()
    {
        var list = new List<Resource>
        {
            new Organization
            {
                Id = "ignis-clinic",
                Active = true,
                Name = "Ignis Community Clinic",
                Identifier = [new Identifier("http://hl7.org/fhir/sid/us-npi", "1144221847")],
                Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Phone, ContactPoint.ContactPointUse.Work, "+1 555 0100")],
                Address = [new Address { Line = ["1 Main Street"], City = "Springfield", State = "IL", PostalCode = "62701", Country = "US" }],
            },
            new Practitioner
            {
                Id = "carol",
                Active = true,
                Identifier = [new Identifier("http://hl7.org/fhir/sid/us-npi", "1972648396")],
                Name = [new HumanName { Family = "Nguyen", Given = ["Carol"], Prefix = ["Dr."] }],
                Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Email, ContactPoint.ContactPointUse.Work, "carol@clinic.example")],
                Gender = AdministrativeGender.Female,
                Qualification = [new Practitioner.QualificationComponent { Code = new CodeableConcept("http://terminology.hl7.org/CodeSystem/v2-0360", "MD", "Doctor of Medicine") }],
            },
        };
        list.AddRange(PatientRecord(new PatientSpec("alice", "Alice", "Johnson", AdministrativeGender.Female, "1987-04-12", "MRN-1001",
            [("44054006", "Diabetes mellitus type 2", "2019-06-01"), ("38341003", "Hypertensive disorder", "2020-02-14")],
            ("91936005", "Allergy to penicillin", "764146007", "Penicillin"),
            [("860975", "metformin 500 MG Oral Tablet"), ("314076", "lisinopril 10 MG Oral Tablet")], 0)));
        list.AddRange(PatientRecord(new PatientSpec("dave", "Dave", "Okafor", AdministrativeGender.Male, "1974-11-30", "MRN-1002",
            [("195967001", "Asthma", "2005-09-20"), ("55822004", "Hyperlipidemia", "2018-03-08")],
            ("91935009", "Allergy to peanuts", "256349002", "Peanut"),
            [("745679", "albuterol 0.09 MG/ACTUAT Metered Dose Inhaler"), ("617312", "atorvastatin 20 MG Oral Tablet")], 1)));
        return list;
    }

    private sealed record PatientSpec(string Id, string Given, string Family, AdministrativeGender Gender, string BirthDate, string Mrn,
        (string Code, string Display, string Onset)[] Conditions, (string Code, string Display, string Substance, string SubstanceDisplay) Allergy,
        (string Code, string Display)[] Medications, int Variant);

    private static IEnumerable<Resource> PatientRecord(PatientSpec p)
    {
        var patientRef = new ResourceReference($"Patient/{p.Id}", $"{p.Given} {p.Family}");
        var carol = new ResourceReference("Practitioner/carol", "Dr. Carol Nguyen");
        yield return new Patient
        {
            Id = p.Id,
            Active = true,
            Identifier = [new Identifier("http://clinic.example/mrn", p.Mrn) { Type = new CodeableConcept("http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical record number") }],
            Name = [new HumanName { Use = HumanName.NameUse.Official, Family = p.Family, Given = [p.Given] }],
            Telecom = [new ContactPoint(ContactPoint.ContactPointSystem.Email, ContactPoint.ContactPointUse.Home, $"{p.Id}@mail.example")],
            Gender = p.Gender,
            BirthDate = p.BirthDate,
            Address = [new Address { Line = [$"{12 + p.Variant * 7} Oak Avenue"], City = "Springfield", State = "IL", PostalCode = "62704", Country = "US" }],
            GeneralPractitioner = [carol],
            ManagingOrganization = new ResourceReference("Organization/ignis-clinic"),
        };

        string[] visits = p.Variant == 0 ? ["2024-01-15", "2024-06-20", "2025-02-03"] : ["2023-11-02", "2024-08-14", "2025-03-21"];
        for (var v = 0; v < visits.Length; v++)
        {
            var day = visits[v];
            var encId = $"{p.Id}-enc-{v + 1}";
            var encRef = new ResourceReference($"Encounter/{encId}");
            yield return new Encounter
            {
                Id = encId,
                Status = Encounter.EncounterStatus.Finished,
                Class = new Coding("http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory"),
                Type = [new CodeableConcept(Snomed, "185349003", "Encounter for check up")],
                Subject = patientRef,
                Participant = [new Encounter.ParticipantComponent { Individual = carol }],
                Period = new Period { Start = $"{day}T09:00:00Z", End = $"{day}T09:30:00Z" },
                ServiceProvider = new ResourceReference("Organization/ignis-clinic"),
            };
            var sys = 120 + p.Variant * 8 + v * 3;
            var dia = 78 + p.Variant * 4 + v;
            yield return Vital($"{p.Id}-bp-{v + 1}", patientRef, encRef, day, "85354-9", "Blood pressure panel with all children optional", null, null,
                [("8480-6", "Systolic blood pressure", sys), ("8462-4", "Diastolic blood pressure", dia)]);
            yield return Vital($"{p.Id}-hr-{v + 1}", patientRef, encRef, day, "8867-4", "Heart rate", 68m + p.Variant * 5 + v, "/min", []);
            yield return Vital($"{p.Id}-weight-{v + 1}", patientRef, encRef, day, "29463-7", "Body weight", 64.5m + p.Variant * 18 - v * 0.7m, "kg", []);
            yield return Vital($"{p.Id}-temp-{v + 1}", patientRef, encRef, day, "8310-5", "Body temperature", 36.7m + v * 0.1m, "Cel", []);
            yield return Lab($"{p.Id}-glucose-{v + 1}", patientRef, encRef, day, "2339-0", "Glucose [Mass/volume] in Blood", 98m + p.Variant * 12 + v * 4, "mg/dL", 70, 99);
            yield return Lab($"{p.Id}-hba1c-{v + 1}", patientRef, encRef, day, "4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", 6.1m + p.Variant * 0.4m - v * 0.1m, "%", 4, 5.6m);
            yield return Lab($"{p.Id}-chol-{v + 1}", patientRef, encRef, day, "2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", 185m + p.Variant * 40 - v * 6, "mg/dL", 0, 200);
        }
        yield return Vital($"{p.Id}-height-1", patientRef, new ResourceReference($"Encounter/{p.Id}-enc-1"), visits[0], "8302-2", "Body height", 165m + p.Variant * 13, "cm", []);

        for (var c = 0; c < p.Conditions.Length; c++)
        {
            var (code, display, onset) = p.Conditions[c];
            yield return new Condition
            {
                Id = $"{p.Id}-cond-{c + 1}",
                ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-clinical", "active", "Active"),
                VerificationStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", "Confirmed"),
                Category = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item")],
                Code = new CodeableConcept(Snomed, code, display) { Text = display },
                Subject = patientRef,
                Onset = new FhirDateTime(onset),
                RecordedDate = onset,
                Recorder = carol,
            };
        }

        yield return new AllergyIntolerance
        {
            Id = $"{p.Id}-allergy-1",
            ClinicalStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "active", "Active"),
            VerificationStatus = new CodeableConcept("http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "confirmed", "Confirmed"),
            Type = AllergyIntolerance.AllergyIntoleranceType.Allergy,
            Category = [p.Variant == 0 ? AllergyIntolerance.AllergyIntoleranceCategory.Medication : AllergyIntolerance.AllergyIntoleranceCategory.Food],
            Criticality = AllergyIntolerance.AllergyIntoleranceCriticality.High,
            Code = new CodeableConcept(Snomed, p.Allergy.Code, p.Allergy.Display),
            Patient = patientRef,
            RecordedDate = "2015-05-05",
            Recorder = carol,
            Reaction = [new AllergyIntolerance.ReactionComponent
            {
                Substance = new CodeableConcept(Snomed, p.Allergy.Substance, p.Allergy.SubstanceDisplay),
                Manifestation = [new CodeableConcept(Snomed, "247472004", "Hives")],
                Severity = AllergyIntolerance.AllergyIntoleranceSeverity.Moderate,
            }],
        };

        for (var m = 0; m < p.Medications.Length; m++)
        {
            var (code, display) = p.Medications[m];
            yield return new MedicationRequest
            {
                Id = $"{p.Id}-medrx-{m + 1}",
                Status = MedicationRequest.MedicationrequestStatus.Active,
                Intent = MedicationRequest.MedicationRequestIntent.Order,
                Category = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/medicationrequest-category", "community", "Community")],
                Medication = new CodeableConcept(Rxnorm, code, display),
                Subject = patientRef,
                Encounter = new ResourceReference($"Encounter/{p.Id}-enc-{m + 1}"),
                AuthoredOn = visits[m],
                Requester = carol,
                ReasonReference = [new ResourceReference($"Condition/{p.Id}-cond-{m + 1}")],
                DosageInstruction = [new Dosage { Text = m == 0 ? "Take one tablet daily" : "As directed" }],
            };
        }

        (string Code, string Display, string Date)[] vaccines = [("140", "Influenza, seasonal, injectable, preservative free", "2024-10-01"), ("213", "SARS-COV-2 (COVID-19) vaccine, UNSPECIFIED FORMULATION", "2023-09-15")];
        for (var i = 0; i < vaccines.Length; i++)
            yield return new Immunization
            {
                Id = $"{p.Id}-imm-{i + 1}",
                Status = Immunization.ImmunizationStatusCodes.Completed,
                VaccineCode = new CodeableConcept(Cvx, vaccines[i].Code, vaccines[i].Display),
                Patient = patientRef,
                Occurrence = new FhirDateTime(vaccines[i].Date),
                PrimarySource = true,
                Performer = [new Immunization.PerformerComponent { Actor = carol }],
            };
    }

    private static Observation Vital(string id, ResourceReference patient, ResourceReference encounter, string day, string code, string display,
        decimal? value, string? unit, (string Code, string Display, decimal Value)[] components)
    {
        var o = Base(id, patient, encounter, day, code, display, "vital-signs", "Vital Signs");
        if (value is { } v) o.Value = new Quantity(v, unit!, Ucum) { Unit = unit };
        foreach (var c in components)
            o.Component.Add(new Observation.ComponentComponent
            {
                Code = new CodeableConcept(Loinc, c.Code, c.Display),
                Value = new Quantity(c.Value, "mm[Hg]", Ucum) { Unit = "mmHg" },
            });
        return o;
    }

    private static Observation Lab(string id, ResourceReference patient, ResourceReference encounter, string day, string code, string display,
        decimal value, string unit, decimal low, decimal high)
    {
        var o = Base(id, patient, encounter, day, code, display, "laboratory", "Laboratory");
        o.Value = new Quantity(value, unit, Ucum) { Unit = unit };
        o.ReferenceRange = [new Observation.ReferenceRangeComponent { Low = new Quantity(low, unit, Ucum), High = new Quantity(high, unit, Ucum) }];
        o.Interpretation = [new CodeableConcept("http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation", value > high ? "H" : "N", value > high ? "High" : "Normal")];
        return o;
    }

    private static Observation Base(string id, ResourceReference patient, ResourceReference encounter, string day, string code, string display,
        string category, string categoryDisplay) => new()
    {
        Id = id,
        Status = ObservationStatus.Final,
        Category = [new CodeableConcept(ObsCategory, category, categoryDisplay)],
        Code = new CodeableConcept(Loinc, code, display) { Text = display },
        Subject = patient,
        Encounter = encounter,
        Effective = new FhirDateTime($"{day}T09:10:00Z"),
        Issued = new DateTimeOffset(DateTime.Parse(day + "T12:00:00Z", System.Globalization.CultureInfo.InvariantCulture).ToUniversalTime()),
        Performer = [new ResourceReference("Practitioner/carol")],
    };
}
