using Ignis.Smart.Scopes;

namespace Ignis.Smart.Access;

/// <summary>
/// One resource (a stored version, or the body of a write) as the FHIR engine sees it, answering the
/// two questions the access decision cannot answer without the FHIR model. Implemented by the engine
/// with the production compartment table and search indexer, so the answer is the same one a search
/// would give.
/// </summary>
public interface IResourceOracle
{
    /// <summary>The resource type.</summary>
    string ResourceType { get; }

    /// <summary>
    /// Whether the resource is in the compartment of <c>Patient/{patientId}</c> (R4 CompartmentDefinition,
    /// plus Patient/{patientId} itself). A type that cannot be in a Patient compartment answers false.
    /// </summary>
    bool IsInPatientCompartment(string patientId);

    /// <summary>
    /// Whether the resource matches every parameter of <paramref name="query"/>, as a search with those
    /// parameters would. A parameter the engine does not know for this type must answer false (fail closed).
    /// </summary>
    bool Matches(ScopeQuery query);
}
