using System.Net;
using Hl7.Fhir.Model;
using Ignis.Fhir.Compartments;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Storage;
using Ignis.Smart.Access;
using Ignis.Smart.Scopes;

namespace Ignis.Fhir.Engine;

/// <summary>
/// Applies the Ignis.Smart access decision to the FHIR interactions: which interaction is asked for, and
/// how the decision's row filters become search restrictions (inside the SQL, so results are filtered,
/// never post-filtered) and checks on single resources.
/// </summary>
internal static class AccessEnforcement
{
    /// <summary>The access question an interaction asks; null for those open to anyone (capabilities).</summary>
    public static AccessRequest? ToAccessRequest(FhirRequest r, SearchParameterRegistry registry) => r.Interaction switch
    {
        Interaction.Read => AccessRequest.Read(r.Type!),
        Interaction.VRead => AccessRequest.VRead(r.Type!),
        Interaction.SearchType or Interaction.SearchCompartment => AccessRequest.Search(r.Type!),
        Interaction.SearchSystem => AccessRequest.SearchSystem(TypesOf(r, registry)),
        Interaction.HistoryInstance => AccessRequest.HistoryInstance(r.Type!),
        Interaction.HistoryType => AccessRequest.HistoryType(r.Type!),
        Interaction.HistorySystem => AccessRequest.HistorySystem(registry.ResourceTypes),
        Interaction.Create => AccessRequest.Create(r.Type!, conditional: !string.IsNullOrEmpty(r.IfNoneExist)),
        Interaction.Update => AccessRequest.Update(r.Type!),
        Interaction.ConditionalUpdate => AccessRequest.Update(r.Type!, conditional: true),
        Interaction.Patch => AccessRequest.Patch(r.Type!),
        Interaction.ConditionalPatch => AccessRequest.Patch(r.Type!, conditional: true),
        Interaction.Delete => AccessRequest.Delete(r.Type!),
        Interaction.ConditionalDelete => AccessRequest.Delete(r.Type!, conditional: true),
        _ => null,
    };

    private static IEnumerable<string> TypesOf(FhirRequest r, SearchParameterRegistry registry)
    {
        var types = r.Query.Where(kv => kv.Key == "_type")
            .SelectMany(kv => kv.Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Where(registry.IsKnownType).Distinct().ToList();
        return types.Count > 0 ? types : registry.ResourceTypes;
    }

    public static FhirException Forbidden(AccessDenial denial) =>
        new(HttpStatusCode.Forbidden, OperationOutcome.IssueType.Forbidden, denial.Message);

    /// <summary>
    /// Puts the decision into a search: every type the search can return or look at (matches, includes, chain
    /// targets, _has sources) is limited to the rows the scopes allow; a type with no grant contributes nothing.
    /// </summary>
    public static void Restrict(SearchRequest search, AccessDecision decision, ScopePermissions permission, SearchParameterRegistry registry)
    {
        if (decision.Request.IsSystemLevel && decision.AllowedTypes is { } allowed) search.LimitTypes(allowed);
        foreach (var type in TypesInPlay(search, registry))
        {
            var access = decision.For(type, permission);
            if (access.IsUnrestricted) continue;
            search.AddRestrictionGroups(type, Groups(access, type));
        }
    }

    /// <summary>
    /// The alternatives (OR) of criteria (AND) that express a type's row filters. A compartment is itself an OR of
    /// reference parameters, so it is distributed over the filter's granular criteria.
    /// </summary>
    public static List<List<KeyValuePair<string, string>>> Groups(TypeAccess access, string type)
    {
        var groups = new List<List<KeyValuePair<string, string>>>();
        foreach (var filter in access.AnyOf)
        {
            var query = filter.Query?.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)).ToList() ?? [];
            if (filter.PatientCompartment is not { } patient)
            {
                if (query.Count > 0) groups.Add(query);
                continue;
            }
            foreach (var member in CompartmentCriteria(type, patient))
                groups.Add([member, .. query]);
        }
        return groups;
    }

    private static IEnumerable<KeyValuePair<string, string>> CompartmentCriteria(string type, string patientId)
    {
        foreach (var param in CompartmentDefinitions.ReferenceParamsFor("Patient", type))
            yield return new(param, "Patient/" + patientId);
        if (CompartmentDefinitions.IsCompartmentOwner("Patient", type))
            yield return new("_id", patientId);
    }

    private static IEnumerable<string> TypesInPlay(SearchRequest search, SearchParameterRegistry registry)
    {
        var types = new HashSet<string>(search.Types, StringComparer.Ordinal);
        foreach (var include in search.Includes)
        {
            if (include.TargetType is { } target) types.Add(target);
            else if (include.Params.Any(p => p.Targets.Count == 0)) return registry.ResourceTypes;
            else foreach (var t in include.Params.SelectMany(p => p.Targets)) types.Add(t);
        }
        foreach (var include in search.RevIncludes) types.Add(include.SourceType);
        foreach (var criterion in search.Criteria) AddCriterionTypes(criterion, types);
        return types.Where(registry.IsKnownType);
    }

    private static void AddCriterionTypes(SearchCriterion criterion, HashSet<string> types)
    {
        switch (criterion)
        {
            case ChainCriterion chain:
                foreach (var target in chain.Targets)
                {
                    types.Add(target.Type);
                    AddCriterionTypes(target.Inner, types);
                }
                break;
            case HasCriterion has:
                types.Add(has.SourceType);
                AddCriterionTypes(has.Inner, types);
                break;
        }
    }
}

/// <summary>
/// A stored resource as the access decision sees it, answered from the same index rows search uses: inside a
/// write's transaction it sees the version being written.
/// </summary>
internal sealed class StoredResourceOracle(IResourceStore store, StoredResource resource, IFhirSearch search) : IResourceOracle
{
    public string ResourceType => resource.Type;

    public bool IsInPatientCompartment(string patientId)
    {
        if (CompartmentDefinitions.IsCompartmentOwner("Patient", resource.Type) && resource.Id == patientId) return true;
        var parameters = CompartmentDefinitions.ReferenceParamsFor("Patient", resource.Type);
        return parameters.Count > 0 && store.References(resource.ResKey,
            parameters.Select(p => SearchParam.StableId(resource.Type, p)).ToArray(), "Patient", patientId);
    }

    public bool Matches(ScopeQuery query)
    {
        var criteria = new List<KeyValuePair<string, string>> { new("_id", resource.Id) };
        criteria.AddRange(query.Select(p => new KeyValuePair<string, string>(p.Name, p.Value)));
        try
        {
            return search.Find(store, resource.Type, criteria, 1, decision: null).Count == 1;
        }
        catch (FhirException)
        {
            return false; // a parameter this type does not know matches nothing (fail closed)
        }
    }
}
