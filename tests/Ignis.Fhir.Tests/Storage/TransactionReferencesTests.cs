using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Tests.Providers;
using Shouldly;
using static Ignis.Fhir.Tests.Providers.StoreInteractionTests;
using Task = System.Threading.Tasks.Task;

namespace Ignis.Fhir.Tests.Storage;

/// <summary>
/// A transaction rewrites every urn:uuid reference to the id its entry got (R4 §3.1.0.11.2), wherever it sits: the
/// references are found before the write transaction, and the walk skips primitives unless they carry extensions.
/// </summary>
public sealed class TransactionReferencesTests : IDisposable
{
    private readonly EngineTestStore _engine = new();
    private FhirService Service => _engine.Service;

    public void Dispose() => _engine.Dispose();

    private const string PatientUrn = "urn:uuid:7d0c4f4e-0000-4000-8000-000000000001";

    [Fact]
    public async Task References_in_extensions_of_primitives_and_in_nested_elements_are_rewritten()
    {
        var patient = new Patient { Name = [new HumanName { Family = "Refwalk" }] };
        var observation = new Observation
        {
            Status = ObservationStatus.Final,
            Code = new CodeableConcept("http://loinc.org", "8867-4"),
            Subject = new ResourceReference(PatientUrn),
            // A reference inside an extension of a primitive (the status code) and one inside a backbone element.
            StatusElement = new Code<ObservationStatus>(ObservationStatus.Final)
            {
                Extension = [new Extension("http://example.org/recorded-for", new ResourceReference(PatientUrn))],
            },
            Performer = [new ResourceReference("Practitioner/keep-me")],
            Component = [new Observation.ComponentComponent
            {
                Code = new CodeableConcept("http://loinc.org", "8480-6"),
                Extension = [new Extension("http://example.org/source", new ResourceReference(PatientUrn))],
            }],
        };
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry =
            [
                new Bundle.EntryComponent { FullUrl = PatientUrn, Resource = patient, Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" } },
                new Bundle.EntryComponent { Resource = observation, Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Observation" } },
            ],
        };

        var response = await Run(Service, new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle });

        response.Status.ShouldBe(200, response.Outcome?.Issue.FirstOrDefault()?.Diagnostics);
        var entries = ((Bundle)response.Resource!).Entry;
        var patientId = entries[0].Response!.Location!.Split('/')[1];
        var observationId = entries[1].Response!.Location!.Split('/')[1];
        var stored = (Observation)Ignis.Fhir.Serialization.FhirSerializer.FromStoredJson((await Run(Service, Get("Observation", observationId))).Stored!.Json!);
        stored.Subject!.Reference.ShouldBe("Patient/" + patientId);
        stored.StatusElement.Extension.Single().Value.ShouldBeOfType<ResourceReference>().Reference.ShouldBe("Patient/" + patientId);
        stored.Component.Single().Extension.Single().Value.ShouldBeOfType<ResourceReference>().Reference.ShouldBe("Patient/" + patientId);
        stored.Performer.Single().Reference.ShouldBe("Practitioner/keep-me");
        (await Run(Service, SearchFor("Observation", "subject=Patient/" + patientId))).Resource.ShouldBeOfType<Bundle>().Entry.ShouldHaveSingleItem();
    }

    [Fact]
    public async Task A_urn_uuid_in_an_extension_of_a_primitive_that_matches_no_entry_fails_the_transaction()
    {
        var patient = new Patient
        {
            BirthDateElement = new Date("1970-01-01") { Extension = [new Extension("http://example.org/x", new ResourceReference("urn:uuid:7d0c4f4e-0000-4000-8000-00000000dead"))] },
        };
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Transaction,
            Entry = [new Bundle.EntryComponent { Resource = patient, Request = new Bundle.RequestComponent { Method = Bundle.HTTPVerb.POST, Url = "Patient" } }],
        };

        var response = await Run(Service, new FhirRequest { Interaction = Interaction.Bundle, Method = "POST", Body = bundle });

        response.Status.ShouldBe(400);
        (await Run(Service, SearchFor("Patient", "birthdate=1970-01-01"))).Resource.ShouldBeOfType<Bundle>().Entry.ShouldBeEmpty();
    }
}
