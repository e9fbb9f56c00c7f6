using Hl7.Fhir.Model;

namespace Ignis.Fhir.Engine;

/// <summary>The interactions <see cref="FhirService"/> implements, for the CapabilityStatement.</summary>
public static class FhirCapabilities
{
    public static IReadOnlyList<CapabilityStatement.TypeRestfulInteraction> TypeInteractions { get; } =
    [
        CapabilityStatement.TypeRestfulInteraction.Read,
        CapabilityStatement.TypeRestfulInteraction.Vread,
        CapabilityStatement.TypeRestfulInteraction.Update,
        CapabilityStatement.TypeRestfulInteraction.Patch,
        CapabilityStatement.TypeRestfulInteraction.Delete,
        CapabilityStatement.TypeRestfulInteraction.HistoryInstance,
        CapabilityStatement.TypeRestfulInteraction.HistoryType,
        CapabilityStatement.TypeRestfulInteraction.Create,
        CapabilityStatement.TypeRestfulInteraction.SearchType,
    ];

    public static IReadOnlyList<CapabilityStatement.SystemRestfulInteraction> SystemInteractions { get; } =
    [
        CapabilityStatement.SystemRestfulInteraction.Transaction,
        CapabilityStatement.SystemRestfulInteraction.Batch,
        CapabilityStatement.SystemRestfulInteraction.SearchSystem,
        CapabilityStatement.SystemRestfulInteraction.HistorySystem,
    ];
}
