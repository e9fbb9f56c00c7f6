using Ignis.Smart.Access;
using Ignis.Smart.Scopes;

namespace Ignis.Smart.Tests;

/// <summary>A resource that knows its patient compartments and its search values, as the engine would.</summary>
internal sealed record FakeResource(string ResourceType, string[] Patients, (string Name, string Value)[] Values) : IResourceOracle
{
    public bool IsInPatientCompartment(string patientId) => Patients.Contains(patientId);

    public bool Matches(ScopeQuery query) => query.All(p => Values.Contains((p.Name, p.Value)));

    public static FakeResource Observation(string patient, string category) =>
        new("Observation", [patient], [("category", category)]);

    public static FakeResource Of(string type, params string[] patients) => new(type, patients, []);

    public override string ToString() => $"{ResourceType} of {string.Join(',', Patients)} {string.Join('&', Values.Select(v => $"{v.Name}={v.Value}"))}";
}
