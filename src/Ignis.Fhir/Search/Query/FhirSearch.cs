using System.Net;
using Hl7.Fhir.Model;
using Ignis.Fhir.Compartments;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Ignis.Smart.Access;
using Ignis.Smart.Scopes;

namespace Ignis.Fhir.Search.Query;

/// <summary>
/// Search for the interactions: parses the request, runs it on the store's connection (inside its transaction
/// when there is one) and builds the searchset Bundle with its self, next and previous links.
/// </summary>
public sealed class FhirSearch(SearchParameterRegistry registry) : IFhirSearch
{
    public IReadOnlyList<StoredResource> Find(IResourceStore store, string type, IReadOnlyList<KeyValuePair<string, string>> criteria, int limit,
        AccessDecision? decision)
    {
        try
        {
            var request = SearchParser.Parse(type, criteria.Where(kv => kv.Key is not ("_format" or "_pretty")).ToList(), SearchHandling.Strict, registry);
            if (request.HasErrors) throw Invalid(request.Issues);
            if (decision is not null) AccessEnforcement.Restrict(request, decision, ScopePermissions.Search, registry);
            // Microsoft.Data.Sqlite completes these synchronously; the interactions run synchronously inside the write transaction
            // (on PostgreSQL this blocks the thread for the round trips).
            return SearchEngine.FindAsync(store.Connection, store.Transaction, request, limit).GetAwaiter().GetResult();
        }
        catch (SearchRequestException e)
        {
            throw Invalid(e.Issues);
        }
    }

    public Bundle Search(IResourceStore store, FhirRequest fhirRequest, string baseUrl)
    {
        var handling = fhirRequest.StrictHandling ? SearchHandling.Strict : SearchHandling.Lenient;
        var request = SearchParser.Parse(fhirRequest.Type, fhirRequest.Query, handling, registry);
        if (request.HasErrors) throw Invalid(request.Issues);

        if (fhirRequest.Decision is { } decision) AccessEnforcement.Restrict(request, decision, decision.Permission, registry);
        var path = fhirRequest.Type ?? "";
        if (fhirRequest.Interaction == Interaction.SearchCompartment)
        {
            path = $"{fhirRequest.CompartmentType}/{fhirRequest.Id}/{fhirRequest.Type}";
            RestrictToCompartment(request, fhirRequest.CompartmentType!, fhirRequest.Id!, fhirRequest.Type!);
        }

        var result = SearchEngine.ExecuteAsync(store.Connection, store.Transaction, request, CancellationToken.None).GetAwaiter().GetResult();
        var bundle = new Bundle
        {
            Type = Bundle.BundleType.Searchset,
            Id = Guid.NewGuid().ToString(),
            Meta = new Meta { LastUpdated = DateTimeOffset.UtcNow },
            Total = result.Total,
        };
        var self = request.ToSelfQuery();
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = Url(baseUrl, path, self) });
        if (result.NextCursor is not null)
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = Url(baseUrl, path, request.ToPageQuery(result.NextCursor)) });
        if (result.PreviousCursor is not null)
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "previous", Url = Url(baseUrl, path, request.ToPageQuery(result.PreviousCursor)) });

        foreach (var r in result.Matches) bundle.Entry.Add(Entry(baseUrl, r, Bundle.SearchEntryMode.Match));
        foreach (var r in result.Included) bundle.Entry.Add(Entry(baseUrl, r, Bundle.SearchEntryMode.Include));

        // Lenient handling: say which parameters were ignored, so the client is not misled by a wider result.
        var ignored = request.Issues.Where(i => i.Severity is OperationOutcome.IssueSeverity.Warning or OperationOutcome.IssueSeverity.Error).ToList();
        if (ignored.Count > 0)
        {
            var outcome = new OperationOutcome();
            foreach (var issue in ignored)
                outcome.Issue.Add(new OperationOutcome.IssueComponent
                {
                    Severity = OperationOutcome.IssueSeverity.Warning,
                    Code = issue.Code,
                    Diagnostics = issue.Message + " The parameter was ignored.",
                });
            bundle.Entry.Add(new Bundle.EntryComponent
            {
                Resource = outcome,
                Search = new Bundle.SearchComponent { Mode = Bundle.SearchEntryMode.Outcome },
            });
        }
        return bundle;
    }

    /// <summary>
    /// Compartment search (R4 §3.1.1.5.5): the resources of <paramref name="type"/> that reference the compartment's
    /// resource through one of the parameters of the R4 CompartmentDefinition.
    /// </summary>
    private static void RestrictToCompartment(SearchRequest request, string compartmentType, string id, string type)
    {
        if (!CompartmentDefinitions.IsCompartmentType(compartmentType))
            throw FhirException.BadRequest($"{compartmentType} is not a compartment; compartments are {string.Join(", ", CompartmentDefinitions.CompartmentTypes)}.");
        var criteria = CompartmentDefinitions.ReferenceParamsFor(compartmentType, type)
            .Select(p => new KeyValuePair<string, string>(p, $"{compartmentType}/{id}")).ToList();
        if (CompartmentDefinitions.IsCompartmentOwner(compartmentType, type))
            criteria.Add(new("_id", id));
        if (criteria.Count == 0)
            throw new FhirException(HttpStatusCode.NotFound, OperationOutcome.IssueType.NotFound,
                $"{type} resources are never in the {compartmentType} compartment.");
        request.AddRestriction(type, criteria);
    }

    private static Bundle.EntryComponent Entry(string baseUrl, StoredResource r, Bundle.SearchEntryMode mode) => new()
    {
        FullUrl = $"{baseUrl}/{r.Type}/{r.Id}",
        Resource = FhirSerializer.FromStoredJson(r.Json!),
        Search = new Bundle.SearchComponent { Mode = mode },
    };

    private static string Url(string baseUrl, string path, string query) =>
        $"{baseUrl}/{path}" + (query.Length > 0 ? "?" + query : "");

    private static FhirException Invalid(IReadOnlyList<SearchIssue> issues)
    {
        var outcome = new OperationOutcome();
        foreach (var issue in issues)
            outcome.Issue.Add(new OperationOutcome.IssueComponent
            {
                Severity = OperationOutcome.IssueSeverity.Error,
                Code = issue.Code,
                Diagnostics = issue.Message,
                Expression = issue.Parameter is { Length: > 0 } p ? [p] : [],
            });
        var notFound = issues.Any(i => i.Kind == SearchIssueKind.UnknownResourceType);
        return new FhirException(notFound ? HttpStatusCode.NotFound : HttpStatusCode.BadRequest, outcome);
    }
}
