using Ignis.Smart.Access;
using Ignis.Smart.Scopes;

namespace Ignis.Fhir.Engine;

/// <summary>Records an oracle's answers; once frozen it answers only from the record (anything else: false).</summary>
internal sealed class SnapshotOracle(IResourceOracle inner) : IResourceOracle
{
    private readonly Dictionary<string, bool> _compartments = new(StringComparer.Ordinal);
    private readonly Dictionary<ScopeQuery, bool> _queries = [];
    private bool _frozen;

    public string ResourceType => inner.ResourceType;

    public void Freeze() => _frozen = true;

    public bool IsInPatientCompartment(string patientId)
    {
        if (_compartments.TryGetValue(patientId, out var known)) return known;
        if (_frozen) return false;
        return _compartments[patientId] = inner.IsInPatientCompartment(patientId);
    }

    public bool Matches(ScopeQuery query)
    {
        if (_queries.TryGetValue(query, out var known)) return known;
        if (_frozen) return false;
        return _queries[query] = inner.Matches(query);
    }
}
