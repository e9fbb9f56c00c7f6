using Hl7.Fhir.Model;
using Ignis.Fhir.Storage;

namespace Ignis.Fhir.Engine;

/// <summary>What the interactions need from search: matching for conditional operations and searchset Bundles.</summary>
public interface IFhirSearch
{
    /// <summary>
    /// The current resources of <paramref name="type"/> matching <paramref name="criteria"/>, at most
    /// <paramref name="limit"/>. Invalid criteria throw a 400 <see cref="FhirException"/>.
    /// </summary>
    /// <param name="decision">When access is controlled: only the rows the caller may search are considered.</param>
    IReadOnlyList<StoredResource> Find(IResourceStore store, string type, IReadOnlyList<KeyValuePair<string, string>> criteria, int limit,
        Ignis.Smart.Access.AccessDecision? decision);

    /// <summary>A type-level, system-level or compartment search as a searchset Bundle (restricted by <see cref="FhirRequest.Decision"/>).</summary>
    Bundle Search(IResourceStore store, FhirRequest request, string baseUrl);
}
