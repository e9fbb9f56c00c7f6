using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Ignis.Bench.Generator;

/// <summary>One generated resource: its type, id and FHIR JSON.</summary>
internal readonly record struct GeneratedResource(string Type, string Id, byte[] Json);

/// <summary>
/// Synthetic clinical records, one patient at a time. Patient n's record depends only on (seed, n), so
/// every run with the same seed writes the same resources with the same ids. A record holds on average
/// 25 resources: the Patient, 1-5 Encounters (3), five vital-sign Observations per Encounter (15),
/// 0-4 laboratory Observations (2), 0-4 Conditions (2) and 0-4 MedicationRequests (2).
/// </summary>
internal static class ClinicalData
{
    public const string Loinc = "http://loinc.org";
    public const string ObservationCategory = "http://terminology.hl7.org/CodeSystem/observation-category";
    private const string Snomed = "http://snomed.info/sct";
    private const string RxNorm = "http://www.nlm.nih.gov/research/umls/rxnorm";
    private const string Ucum = "http://unitsofmeasure.org";
    private const string MrnSystem = "http://hospital.ignis.example/mrn";

    private static readonly DateTime First = new(2015, 1, 1, 0, 0, 0, DateTimeKind.Utc);
    private static readonly int Days = (int)(new DateTime(2025, 12, 31, 0, 0, 0, DateTimeKind.Utc) - First).TotalDays;

    private sealed record Vital(string Code, string Display, string Unit, double Mean, double Sd, int Decimals);

    // Systolic and diastolic pressure are stored as separate Observations (not as components of an
    // 85354-9 panel) so that Observation?code=http://loinc.org|8480-6 selects real rows.
    private static readonly Vital[] Vitals =
    [
        new("8480-6", "Systolic blood pressure", "mm[Hg]", 124, 16, 0),
        new("8462-4", "Diastolic blood pressure", "mm[Hg]", 79, 10, 0),
        new("8867-4", "Heart rate", "/min", 74, 11, 0),
        new("29463-7", "Body weight", "kg", 78, 17, 1),
        new("8310-5", "Body temperature", "Cel", 36.8, 0.4, 1),
    ];

    private static readonly Vital[] Labs =
    [
        new("2339-0", "Glucose [Mass/volume] in Blood", "mg/dL", 104, 22, 0),
        new("4548-4", "Hemoglobin A1c/Hemoglobin.total in Blood", "%", 5.9, 0.9, 1),
        new("2093-3", "Cholesterol [Mass/volume] in Serum or Plasma", "mg/dL", 195, 38, 0),
    ];

    private static readonly (string Code, string Display)[] Conditions =
    [
        ("38341003", "Hypertensive disorder, systemic arterial"), ("44054006", "Diabetes mellitus type 2"),
        ("55822004", "Hyperlipidemia"), ("195967001", "Asthma"), ("35489007", "Depressive disorder"),
        ("162864005", "Body mass index 30+ - obesity"), ("49436004", "Atrial fibrillation"),
        ("13645005", "Chronic obstructive lung disease"), ("69896004", "Rheumatoid arthritis"),
        ("233604007", "Pneumonia"), ("10509002", "Acute bronchitis"), ("444814009", "Viral sinusitis"),
    ];

    private static readonly (string Code, string Display, string Dose)[] Medications =
    [
        ("314076", "lisinopril 10 MG Oral Tablet", "1 tablet by mouth once daily"),
        ("860975", "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet", "1 tablet by mouth daily with evening meal"),
        ("617312", "atorvastatin 10 MG Oral Tablet", "1 tablet by mouth at bedtime"),
        ("895994", "120 ACTUAT fluticasone propionate 0.044 MG/ACTUAT Metered Dose Inhaler", "2 puffs twice daily"),
        ("310965", "ibuprofen 200 MG Oral Tablet", "1-2 tablets every 6 hours as needed"),
        ("308136", "amlodipine 2.5 MG Oral Tablet", "1 tablet by mouth once daily"),
        ("197361", "amlodipine 5 MG Oral Tablet", "1 tablet by mouth once daily"),
        ("312961", "simvastatin 20 MG Oral Tablet", "1 tablet by mouth at bedtime"),
        ("313782", "acetaminophen 325 MG Oral Tablet", "2 tablets every 6 hours as needed"),
        ("308182", "amoxicillin 250 MG Oral Capsule", "1 capsule three times daily for 10 days"),
    ];

    public static string PatientId(long n) => $"pat-{n:D7}";

    /// <summary>The resources of patient <paramref name="n"/>, the Patient first.</summary>
    public static List<GeneratedResource> Record(ulong seed, long n)
    {
        var rng = Rng.For(seed, n);
        var list = new List<GeneratedResource>(32);
        var pid = PatientId(n);
        var female = rng.Int(2) == 0;
        list.Add(new("Patient", pid, Patient(ref rng, n, pid, female)));

        var encounters = rng.Int(1, 5);
        var encounterDates = new DateTime[encounters];
        for (var e = 0; e < encounters; e++)
        {
            var start = First.AddDays(rng.Int(Days)).AddMinutes(rng.Int(8 * 60, 18 * 60));
            encounterDates[e] = start;
            var eid = $"enc-{n:D7}-{e}";
            list.Add(new("Encounter", eid, Encounter(ref rng, eid, pid, start)));
            for (var v = 0; v < Vitals.Length; v++)
            {
                var oid = $"obs-{n:D7}-{e}-{v}";
                list.Add(new("Observation", oid, Observation(ref rng, oid, pid, eid, Vitals[v], "vital-signs", "Vital Signs", start)));
            }
        }

        var labs = rng.Int(0, 4);
        for (var l = 0; l < labs; l++)
        {
            var e = rng.Int(encounters);
            var oid = $"obs-{n:D7}-lab-{l}";
            var when = encounterDates[e].AddHours(rng.Int(1, 72));
            list.Add(new("Observation", oid, Observation(ref rng, oid, pid, $"enc-{n:D7}-{e}", rng.Pick(Labs), "laboratory", "Laboratory", when)));
        }

        var conditions = rng.Int(0, 4);
        for (var c = 0; c < conditions; c++)
        {
            var e = rng.Int(encounters);
            var cid = $"cond-{n:D7}-{c}";
            list.Add(new("Condition", cid, Condition(ref rng, cid, pid, $"enc-{n:D7}-{e}", encounterDates[e])));
        }

        var meds = rng.Int(0, 4);
        for (var m = 0; m < meds; m++)
        {
            var e = rng.Int(encounters);
            var mid = $"med-{n:D7}-{m}";
            list.Add(new("MedicationRequest", mid, MedicationRequest(ref rng, mid, pid, $"enc-{n:D7}-{e}", encounterDates[e])));
        }
        return list;
    }

    private delegate void Body(Utf8JsonWriter w);

    private static byte[] Write(Body body)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private static byte[] Patient(ref Rng rng, long n, string id, bool female)
    {
        var family = Names.Family.Pick(ref rng);
        var given = (female ? Names.Female : Names.Male).Pick(ref rng);
        var middle = rng.Int(3) == 0 ? (female ? Names.Female : Names.Male).Pick(ref rng) : null;
        var birth = new DateTime(1930, 1, 1).AddDays(rng.Int(365 * 93));
        var phone = $"555-{rng.Int(100, 999)}-{rng.Int(1000, 9999)}";
        var street = $"{rng.Int(1, 9999)} {Names.Family.Pick(ref rng)} {(rng.Int(2) == 0 ? "St" : "Ave")}";
        var postalCode = $"62{rng.Int(700, 799)}";
        return Write(w =>
        {
            w.WriteString("resourceType", "Patient");
            w.WriteString("id", id);
            w.WriteStartArray("identifier");
            w.WriteStartObject();
            w.WriteString("use", "usual");
            w.WritePropertyName("type");
            Concept(w, "http://terminology.hl7.org/CodeSystem/v2-0203", "MR", "Medical Record Number");
            w.WriteString("system", MrnSystem);
            w.WriteString("value", $"MRN{n:D8}");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteBoolean("active", true);
            w.WriteStartArray("name");
            w.WriteStartObject();
            w.WriteString("use", "official");
            w.WriteString("family", family);
            w.WriteStartArray("given");
            w.WriteStringValue(given);
            if (middle is not null) w.WriteStringValue(middle);
            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteStartArray("telecom");
            w.WriteStartObject();
            w.WriteString("system", "phone");
            w.WriteString("value", phone);
            w.WriteString("use", "home");
            w.WriteEndObject();
            w.WriteEndArray();
            w.WriteString("gender", female ? "female" : "male");
            w.WriteString("birthDate", birth.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
            w.WriteStartArray("address");
            w.WriteStartObject();
            w.WriteString("use", "home");
            w.WriteStartArray("line");
            w.WriteStringValue(street);
            w.WriteEndArray();
            w.WriteString("city", "Springfield");
            w.WriteString("state", "IL");
            w.WriteString("postalCode", postalCode);
            w.WriteEndObject();
            w.WriteEndArray();
        });
    }

    private static byte[] Encounter(ref Rng rng, string id, string pid, DateTime start)
    {
        var end = start.AddMinutes(rng.Int(15, 90));
        return Write(w =>
        {
            w.WriteString("resourceType", "Encounter");
            w.WriteString("id", id);
            w.WriteString("status", "finished");
            w.WriteStartObject("class");
            w.WriteString("system", "http://terminology.hl7.org/CodeSystem/v3-ActCode");
            w.WriteString("code", "AMB");
            w.WriteString("display", "ambulatory");
            w.WriteEndObject();
            w.WriteStartArray("type");
            Concept(w, Snomed, "185349003", "Encounter for check up");
            w.WriteEndArray();
            Reference(w, "subject", pid);
            w.WriteStartObject("period");
            w.WriteString("start", DateTimeText(start));
            w.WriteString("end", DateTimeText(end));
            w.WriteEndObject();
        });
    }

    private static byte[] Observation(ref Rng rng, string id, string pid, string eid, Vital code, string category, string categoryDisplay, DateTime when)
    {
        var value = Math.Round(Math.Max(code.Mean / 3, rng.Normal(code.Mean, code.Sd)), code.Decimals);
        return Write(w =>
        {
            w.WriteString("resourceType", "Observation");
            w.WriteString("id", id);
            w.WriteString("status", "final");
            w.WriteStartArray("category");
            Concept(w, ObservationCategory, category, categoryDisplay);
            w.WriteEndArray();
            w.WritePropertyName("code");
            Concept(w, Loinc, code.Code, code.Display);
            Reference(w, "subject", pid);
            w.WriteStartObject("encounter");
            w.WriteString("reference", "Encounter/" + eid);
            w.WriteEndObject();
            w.WriteString("effectiveDateTime", DateTimeText(when));
            w.WriteStartObject("valueQuantity");
            w.WriteNumber("value", value);
            w.WriteString("unit", code.Unit);
            w.WriteString("system", Ucum);
            w.WriteString("code", code.Unit);
            w.WriteEndObject();
        });
    }

    private static byte[] Condition(ref Rng rng, string id, string pid, string eid, DateTime recorded)
    {
        var (code, display) = Conditions[rng.Int(Conditions.Length)];
        var onset = recorded.AddDays(-rng.Int(0, 3650));
        var active = rng.Int(4) != 0;
        return Write(w =>
        {
            w.WriteString("resourceType", "Condition");
            w.WriteString("id", id);
            w.WritePropertyName("clinicalStatus");
            Concept(w, "http://terminology.hl7.org/CodeSystem/condition-clinical", active ? "active" : "resolved", null);
            w.WritePropertyName("verificationStatus");
            Concept(w, "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed", null);
            w.WriteStartArray("category");
            Concept(w, "http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item", "Problem List Item");
            w.WriteEndArray();
            w.WritePropertyName("code");
            Concept(w, Snomed, code, display);
            Reference(w, "subject", pid);
            w.WriteStartObject("encounter");
            w.WriteString("reference", "Encounter/" + eid);
            w.WriteEndObject();
            w.WriteString("onsetDateTime", DateTimeText(onset));
            w.WriteString("recordedDate", DateTimeText(recorded));
        });
    }

    private static byte[] MedicationRequest(ref Rng rng, string id, string pid, string eid, DateTime authored)
    {
        var (code, display, dose) = Medications[rng.Int(Medications.Length)];
        var active = rng.Int(3) == 0;
        return Write(w =>
        {
            w.WriteString("resourceType", "MedicationRequest");
            w.WriteString("id", id);
            w.WriteString("status", active ? "active" : "completed");
            w.WriteString("intent", "order");
            w.WritePropertyName("medicationCodeableConcept");
            Concept(w, RxNorm, code, display);
            Reference(w, "subject", pid);
            w.WriteStartObject("encounter");
            w.WriteString("reference", "Encounter/" + eid);
            w.WriteEndObject();
            w.WriteString("authoredOn", DateTimeText(authored));
            w.WriteStartArray("dosageInstruction");
            w.WriteStartObject();
            w.WriteString("text", dose);
            w.WriteEndObject();
            w.WriteEndArray();
        });
    }

    private static void Concept(Utf8JsonWriter w, string system, string code, string? display)
    {
        w.WriteStartObject();
        w.WriteStartArray("coding");
        w.WriteStartObject();
        w.WriteString("system", system);
        w.WriteString("code", code);
        if (display is not null) w.WriteString("display", display);
        w.WriteEndObject();
        w.WriteEndArray();
        if (display is not null) w.WriteString("text", display);
        w.WriteEndObject();
    }

    private static void Reference(Utf8JsonWriter w, string name, string pid)
    {
        w.WriteStartObject(name);
        w.WriteString("reference", "Patient/" + pid);
        w.WriteEndObject();
    }

    private static string DateTimeText(DateTime t) => t.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}
