using System.Globalization;
using System.Net;
using Hl7.Fhir.Model;
using Ignis.Fhir.Storage;

namespace Ignis.Fhir.Engine;

/// <summary>
/// Batch and transaction Bundles (FHIR R4 §3.1.0.11). A transaction runs in one database transaction:
/// all entries or none; its POST ids are assigned up front so urn:uuid and conditional references can be
/// rewritten before anything is written, and entries run in the order the specification gives
/// (DELETE, POST, PUT/PATCH, GET/HEAD) while the response keeps the request's order.
/// </summary>
internal sealed class BundleProcessor(FhirService service, FhirRequest request, string baseUrl)
{
    public async Task<FhirResponse> ExecuteAsync(CancellationToken ct)
    {
        if (request.Body is not Bundle bundle)
            throw FhirException.BadRequest("A POST to the base URL needs a Bundle of type batch or transaction.");
        return bundle.Type switch
        {
            Bundle.BundleType.Transaction => await TransactionAsync(bundle, ct).ConfigureAwait(false),
            Bundle.BundleType.Batch => await BatchAsync(bundle, ct).ConfigureAwait(false),
            _ => throw FhirException.BadRequest($"A Bundle posted to the base URL must be a batch or a transaction, not '{bundle.Type?.ToString() ?? "(none)"}'.", "Bundle.type"),
        };
    }

    private static int Order(Bundle.HTTPVerb? verb) => verb switch
    {
        Bundle.HTTPVerb.DELETE => 0,
        Bundle.HTTPVerb.POST => 1,
        Bundle.HTTPVerb.PUT or Bundle.HTTPVerb.PATCH => 2,
        _ => 3,
    };

    private async Task<FhirResponse> TransactionAsync(Bundle bundle, CancellationToken ct)
    {
        // A run rewrites references and assigns ids in the Bundle's resources; a run again (PostgreSQL, after a lost
        // race) starts from an untouched copy. SQLite runs a transaction again only after rolling back a group commit in
        // which another write failed, on the same state as before: it reuses the prepared entries, whose assigned ids
        // (kept) and rewritten references then give the same writes.
        var pristine = service.Storage.WritesMayRetry ? (Bundle)bundle.DeepCopy() : null;
        var prepared = Prepare(bundle);
        var runs = 0;
        return await service.Storage.WriteAsync(
            store => Transaction(store, runs++ == 0 || pristine is null ? prepared : Prepare((Bundle)pristine.DeepCopy())), ct).ConfigureAwait(false);
    }

    /// <summary>The entries and their requests, with index rows extracted (outside the write transaction).</summary>
    private (List<(Bundle.EntryComponent Entry, int Index)> Entries, List<EntryRequest> Requests) Prepare(Bundle bundle)
    {
        var entries = bundle.Entry.Select((e, i) => (Entry: e, Index: i)).ToList();
        var requests = entries.Select(x => ToRequest(x.Entry, x.Index)).ToList();
        CheckNoDuplicateTargets(requests);
        foreach (var r in requests) service.PrecomputeIndex(r.Request);
        // The references are found here, outside the write gate: walking every element of every resource was serial time.
        for (var i = 0; i < entries.Count; i++)
            requests[i].References = entries[i].Entry.Resource is { } resource ? References(resource) : [];
        return (entries, requests);
    }

    private FhirResponse Transaction(IResourceStore store, (List<(Bundle.EntryComponent Entry, int Index)> Entries, List<EntryRequest> Requests) prepared)
    {
        var (entries, requests) = prepared;
        store.LockForWrite(requests
            .Where(r => r.Request is { Id: not null, Interaction: Interaction.Update or Interaction.Patch or Interaction.Delete })
            .Select(r => (r.Request.Type!, r.Request.Id!)).Distinct().ToList());
        var ids = AssignIds(store, entries, requests);
        foreach (var (entry, i) in entries)
            if (entry.Resource is not null && RewriteReferences(store, requests[i].References, ids, i))
            {
                requests[i].Request.PrecomputedIndex = null; // its references changed: extract again from the final body
                requests[i].Request.PrecomputedJson = null;
            }

        var responses = new Bundle.EntryComponent[entries.Count];
        foreach (var i in Enumerable.Range(0, entries.Count).OrderBy(i => Order(entries[i].Entry.Request?.Method)).ThenBy(i => i))
        {
            var r = requests[i];
            FhirResponse response;
            try
            {
                response = r.Request.Interaction == Interaction.Create && r.AssignedId is { } assigned
                    ? CreateWithId(store, r.Request, assigned)
                    : service.Execute(store, r.Request, baseUrl);
            }
            catch (FhirException e)
            {
                e.Outcome.Issue.ForEach(issue => issue.Diagnostics = $"Entry {i}: {issue.Diagnostics}");
                throw;
            }
            if (response.Status >= 400)
            {
                // A failed entry fails the whole transaction; nothing is committed.
                throw new FhirException((HttpStatusCode)response.Status, response.Outcome ?? Outcomes.Error(OperationOutcome.IssueType.Processing, $"Entry {i} failed."));
            }
            responses[i] = ToEntry(response, r.Request.Prefer);
        }
        var result = new Bundle { Type = Bundle.BundleType.TransactionResponse, Id = Guid.NewGuid().ToString(), Entry = [.. responses] };
        return new FhirResponse { Status = 200, Resource = result };
    }

    private async Task<FhirResponse> BatchAsync(Bundle bundle, CancellationToken ct)
    {
        var result = new Bundle { Type = Bundle.BundleType.BatchResponse, Id = Guid.NewGuid().ToString() };
        for (var i = 0; i < bundle.Entry.Count; i++)
        {
            FhirResponse response;
            try
            {
                var r = ToRequest(bundle.Entry[i], i);
                response = await service.ExecuteAsync(r.Request, baseUrl, ct).ConfigureAwait(false);
            }
            catch (FhirException e)
            {
                response = FhirResponse.Error(e);
            }
            result.Entry.Add(ToEntry(response, request.Prefer));
        }
        return new FhirResponse { Status = 200, Resource = result };
    }

    private FhirResponse CreateWithId(IResourceStore store, FhirRequest create, string id)
    {
        service.Authorize(create);
        var stored = service.Store(store, null, create.Type!, id, create.Body!, "POST", create.Decision, create.PrecomputedIndex);
        return new FhirResponse
        {
            Status = 201,
            Stored = stored,
            ETag = FhirResponse.ETagFor(stored.Version),
            LastModified = stored.LastUpdatedOffset,
            Location = FhirService.Location(stored),
        };
    }

    private sealed record EntryRequest(FhirRequest Request, string? FullUrl)
    {
        public string? AssignedId { get; set; }

        /// <summary>Every reference in the entry's resource (found before the transaction; rewritten in it).</summary>
        public List<ResourceReference> References { get; set; } = [];
    }

    private EntryRequest ToRequest(Bundle.EntryComponent entry, int i)
    {
        var req = entry.Request ?? throw FhirException.BadRequest($"Entry {i} has no request.", $"Bundle.entry[{i}].request");
        if (req.Method is null || string.IsNullOrEmpty(req.Url))
            throw FhirException.BadRequest($"Entry {i} needs request.method and request.url.", $"Bundle.entry[{i}].request");
        var url = req.Url;
        if (url.StartsWith(baseUrl + "/", StringComparison.Ordinal)) url = url[(baseUrl.Length + 1)..];
        if (Uri.TryCreate(url, UriKind.Absolute, out var abs) && abs.Scheme is "http" or "https")
            throw FhirException.BadRequest($"Entry {i}: request.url '{FhirService.Truncate(req.Url)}' is not on this server.", $"Bundle.entry[{i}].request.url");
        var question = url.IndexOf('?');
        var path = question < 0 ? url : url[..question];
        var query = question < 0 ? [] : FhirService.ParseCriteria(url[(question + 1)..]);
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var method = req.Method.ToString()!;
        var route = FhirRequest.Route(method, segments);
        if (route is null || route.Value.Interaction is Interaction.Bundle or Interaction.Capabilities && method != "GET")
            throw FhirException.BadRequest($"Entry {i}: '{method} {FhirService.Truncate(req.Url)}' is not a FHIR interaction.", $"Bundle.entry[{i}].request");
        var (interaction, type, id, version, compartment) = route.Value;
        if (interaction == Interaction.Bundle)
            throw FhirException.BadRequest($"Entry {i}: a Bundle may not contain another batch or transaction.", $"Bundle.entry[{i}].request");

        byte[]? patchBody = null;
        Resource? body = entry.Resource;
        if (req.Method == Bundle.HTTPVerb.PATCH)
        {
            // In a Bundle a JSON Patch travels as a Binary resource (R4 §3.1.0.11.2), a FHIRPath Patch as the
            // Parameters resource itself.
            if (entry.Resource is Binary { ContentType: "application/json-patch+json" } binary) patchBody = binary.Data;
            body = entry.Resource as Parameters;
        }
        if (req.Method is Bundle.HTTPVerb.POST or Bundle.HTTPVerb.PUT && body is null)
            throw FhirException.BadRequest($"Entry {i}: {method} needs a resource.", $"Bundle.entry[{i}].resource");

        var fhirRequest = new FhirRequest
        {
            Interaction = interaction,
            Method = method,
            Type = type,
            Id = id,
            Version = version,
            CompartmentType = compartment,
            Query = query,
            Body = body,
            PatchBody = patchBody,
            IfMatch = req.IfMatch,
            IfNoneMatch = req.IfNoneMatch,
            IfNoneExist = req.IfNoneExist,
            IfModifiedSince = req.IfModifiedSince,
            Prefer = request.Prefer,
            StrictHandling = request.StrictHandling,
            Access = request.Access,
        };
        return new EntryRequest(fhirRequest, entry.FullUrl);
    }

    private static void CheckNoDuplicateTargets(List<EntryRequest> requests)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var r in requests)
        {
            if (r.Request.Id is null || r.Request.Interaction is Interaction.Read or Interaction.VRead) continue;
            var key = $"{r.Request.Type}/{r.Request.Id}";
            if (!seen.Add(key))
                throw FhirException.BadRequest($"The transaction changes {key} more than once.");
        }
    }

    /// <summary>Maps every entry fullUrl to the "Type/id" it will have once the transaction is done.</summary>
    private Dictionary<string, string> AssignIds(IResourceStore store, List<(Bundle.EntryComponent Entry, int Index)> entries, List<EntryRequest> requests)
    {
        var ids = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < entries.Count; i++)
        {
            var r = requests[i];
            string? target = null;
            service.Authorize(r.Request);
            switch (r.Request.Interaction)
            {
                case Interaction.Create:
                    if (r.Request.IfNoneExist is { Length: > 0 } criteria)
                    {
                        store.LockForConditionalWrite(r.Request.Type!);
                        var matches = service.FindForBundle(store, r.Request.Type!, FhirService.ParseCriteria(criteria), r.Request.Decision);
                        if (matches.Count > 1)
                            throw new FhirException(HttpStatusCode.PreconditionFailed, OperationOutcome.IssueType.MultipleMatches,
                                $"Entry {i}: the ifNoneExist criteria match more than one {r.Request.Type}.");
                        if (matches.Count == 1)
                        {
                            target = $"{matches[0].Type}/{matches[0].Id}";
                            r.AssignedId = null;
                            break;
                        }
                    }
                    // Kept when the transaction runs again (SQLite group commit): its references were rewritten to it.
                    r.AssignedId ??= FhirService.NewId();
                    target = $"{r.Request.Type}/{r.AssignedId}";
                    break;
                case Interaction.Update:
                    target = $"{r.Request.Type}/{r.Request.Id}";
                    break;
                case Interaction.ConditionalUpdate:
                    store.LockForConditionalWrite(r.Request.Type!);
                    var found = service.FindForBundle(store, r.Request.Type!, r.Request.Query, r.Request.Decision);
                    if (found.Count == 1) target = $"{found[0].Type}/{found[0].Id}";
                    else if (found.Count == 0)
                    {
                        var id = string.IsNullOrEmpty(r.Request.Body?.Id) ? FhirService.NewId() : r.Request.Body!.Id;
                        r.Request.Body!.Id = id;
                        target = $"{r.Request.Type}/{id}";
                    }
                    break;
            }
            if (target is not null && r.FullUrl is { Length: > 0 } full)
            {
                if (!ids.TryAdd(full, target))
                    throw FhirException.BadRequest($"Entry {i}: fullUrl '{FhirService.Truncate(full)}' is used by more than one entry.", $"Bundle.entry[{i}].fullUrl");
            }
        }
        return ids;
    }

    /// <returns>Whether any reference changed.</returns>
    private bool RewriteReferences(IResourceStore store, List<ResourceReference> references, Dictionary<string, string> ids, int i)
    {
        var changed = false;
        foreach (var reference in references)
        {
            var value = reference.Reference;
            if (string.IsNullOrEmpty(value) || value.StartsWith('#')) continue;
            if (ids.TryGetValue(value, out var mapped))
            {
                changed |= mapped != value;
                reference.Reference = mapped;
                continue;
            }
            if (value.StartsWith("urn:uuid:", StringComparison.Ordinal) || value.StartsWith("urn:oid:", StringComparison.Ordinal))
                throw FhirException.BadRequest($"Entry {i}: the reference '{FhirService.Truncate(value)}' matches no fullUrl in the transaction.");
            var question = value.IndexOf('?');
            if (question > 0 && !value[..question].Contains('/'))
            {
                // Conditional reference (R4 §3.1.0.11.3): "Patient?identifier=x" must match exactly one resource.
                var type = value[..question];
                if (!service.Registry.IsKnownType(type))
                    throw FhirException.BadRequest($"Entry {i}: the conditional reference '{FhirService.Truncate(value)}' names an unknown type.");
                // Resolving the reference is a search by the caller: it sees only what the grant lets it search.
                var lookup = new FhirRequest { Interaction = Interaction.SearchType, Method = "GET", Type = type, Access = request.Access };
                service.Authorize(lookup);
                store.LockForConditionalWrite(type);
                var matches = service.FindForBundle(store, type, FhirService.ParseCriteria(value[(question + 1)..]), lookup.Decision);
                if (matches.Count != 1)
                    throw new FhirException(HttpStatusCode.PreconditionFailed, OperationOutcome.IssueType.MultipleMatches,
                        $"Entry {i}: the conditional reference '{FhirService.Truncate(value)}' matches {(matches.Count == 0 ? "no" : "more than one")} resource.");
                reference.Reference = $"{type}/{matches[0].Id}";
                ids[value] = reference.Reference;
                changed = true;
            }
        }
        return changed;
    }

    /// <summary>Every reference in <paramref name="node"/>, depth first (a reference before the references inside it).</summary>
    internal static List<ResourceReference> References(Base node)
    {
        var found = new List<ResourceReference>();
        Collect(node, found);
        return found;
    }

    private static void Collect(Base node, List<ResourceReference> found)
    {
        foreach (var (_, value) in node.EnumerateElements())
        {
            switch (value)
            {
                case Base b:
                    Visit(b, found);
                    break;
                case System.Collections.IEnumerable list and not string:
                    foreach (var item in list)
                        if (item is Base bi) Visit(bi, found);
                    break;
            }
        }
    }

    private static void Visit(Base node, List<ResourceReference> found)
    {
        // A primitive (string, code, dateTime, ...) can hold a reference only in an extension: most have none, and were
        // most of the walk.
        if (node is PrimitiveType { Extension.Count: 0 }) return;
        if (node is ResourceReference reference) found.Add(reference);
        Collect(node, found);
    }

    private static Bundle.EntryComponent ToEntry(FhirResponse response, PreferReturn prefer)
    {
        var entry = new Bundle.EntryComponent
        {
            Response = new Bundle.ResponseComponent
            {
                Status = $"{response.Status} {StatusText(response.Status)}",
                Location = response.Location,
                Etag = response.ETag,
                LastModified = response.LastModified,
            },
        };
        if (response.Status >= 400)
        {
            entry.Response.Outcome = response.Outcome;
            return entry;
        }
        if (prefer == PreferReturn.Representation)
        {
            entry.Resource = response.Resource ?? (response.Stored?.Json is { } json ? Serialization.FhirSerializer.FromStoredJson(json) : null);
        }
        else if (prefer == PreferReturn.OperationOutcome)
        {
            entry.Response.Outcome = response.Outcome ?? Outcomes.Information($"{response.Status} {StatusText(response.Status)}");
        }
        return entry;
    }

    internal static string StatusText(int status) => status switch
    {
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        _ => ((HttpStatusCode)status).ToString(),
    };
}
