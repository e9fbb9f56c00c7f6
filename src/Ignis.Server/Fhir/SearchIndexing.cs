using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Storage;

namespace Ignis.Server.Fhir;

internal static class SearchIndexing
{
    public static Func<Resource, ResourceIndex> Create(SearchParameterRegistry registry) => new ResourceIndexer(registry).Extract;

    public static IFhirSearch CreateSearch(SearchParameterRegistry registry) => new NoSearch();

    private sealed class NoSearch : IFhirSearch
    {
        public IReadOnlyList<StoredResource> Find(ResourceStore store, string type, IReadOnlyList<KeyValuePair<string, string>> criteria, int limit) =>
            throw new FhirException(System.Net.HttpStatusCode.NotImplemented, OperationOutcome.IssueType.NotSupported, "search pending");
        public Bundle Search(ResourceStore store, FhirRequest request, string baseUrl) =>
            throw new FhirException(System.Net.HttpStatusCode.NotImplemented, OperationOutcome.IssueType.NotSupported, "search pending");
    }
}
