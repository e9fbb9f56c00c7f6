using System.Globalization;
using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using Hl7.Fhir.Model;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Serialization;
using Ignis.Fhir.Storage;
using Ignis.Smart.Access;
using Microsoft.Data.Sqlite;

namespace Ignis.Fhir.Engine;

/// <summary>
/// Executes FHIR interactions against the store: the one place where reads, writes, versions and
/// history are decided. The REST layer and Bundle processing both call <see cref="ExecuteAsync"/>.
/// </summary>
public sealed partial class FhirService
{
    private readonly IFhirStore storage;
    private readonly SearchParameterRegistry registry;
    private readonly Func<Resource, ResourceIndex> index;
    private readonly IFhirSearch search;

    public FhirService(IFhirStore storage, SearchParameterRegistry registry, Func<Resource, ResourceIndex> index, IFhirSearch search)
    {
        this.storage = storage;
        this.registry = registry;
        this.index = index;
        this.search = search;
    }

    /// <summary>On the SQLite database <paramref name="database"/>, its writers queued by <paramref name="gate"/>.</summary>
    public FhirService(FhirDatabase database, SearchParameterRegistry registry, Func<Resource, ResourceIndex> index, IFhirSearch search, WriteGate gate)
        : this(new SqliteFhirStore(database, gate), registry, index, search)
    {
    }

    public const int DefaultHistoryCount = 20;
    public const int MaxCount = 1000;

    public SearchParameterRegistry Registry => registry;

    [GeneratedRegex(@"^[A-Za-z0-9\-\.]{1,64}$")]
    private static partial Regex IdPattern();

    public static bool IsValidId(string id) => IdPattern().IsMatch(id);

    public async Task<FhirResponse> ExecuteAsync(FhirRequest request, string baseUrl, CancellationToken ct = default)
    {
        try
        {
            ValidateTarget(request);
            if (request.Interaction == Interaction.Bundle)
                return await new BundleProcessor(this, request, baseUrl).ExecuteAsync(ct).ConfigureAwait(false);

            if (IsWrite(request.Interaction))
            {
                PrecomputeIndex(request);
                // A write that runs again (PostgreSQL, after a lost race) starts from the body's own id.
                var bodyId = request.Body?.Id;
                return await storage.WriteAsync(store =>
                {
                    if (request.Body is { } body) body.Id = bodyId;
                    return Execute(store, request, baseUrl);
                }, ct).ConfigureAwait(false);
            }
            using (var store = storage.OpenReader())
                return Execute(store, request, baseUrl);
        }
        catch (FhirException e)
        {
            return FhirResponse.Error(e);
        }
        catch (Exception e) when (storage.IsUnavailable(e))
        {
            return FhirResponse.Error(Unavailable());
        }
    }

    /// <summary>
    /// Creates <paramref name="resources"/> (all of <paramref name="type"/>) in one write transaction, as a transaction
    /// Bundle of POSTs without conditions or references between its entries would, without the Bundle: for a server's
    /// own records written in bulk (the security log's AuditEvents), where building, preparing and answering a Bundle
    /// cost more than the writes. Ids are assigned and index rows extracted before the transaction, so a run again (a
    /// rolled-back group commit, a lost race on PostgreSQL) writes the same rows. Returns the ids in order.
    /// </summary>
    public async Task<IReadOnlyList<string>> CreateAllAsync(string type, IReadOnlyList<Resource> resources, CancellationToken ct = default)
    {
        var ids = new string[resources.Count];
        var indexes = new ResourceIndex[resources.Count];
        for (var i = 0; i < resources.Count; i++)
        {
            if (resources[i].TypeName != type)
                throw FhirException.BadRequest($"The body is a {resources[i].TypeName}, not a {type}.", "Resource.resourceType");
            ids[i] = NewId();
            indexes[i] = index(resources[i]);
        }
        await storage.WriteAsync(store =>
        {
            for (var i = 0; i < resources.Count; i++) Store(store, null, type, ids[i], resources[i], "POST", null, indexes[i]);
            return ids.Length;
        }, ct).ConfigureAwait(false);
        return ids;
    }

    /// <summary>503: the database cannot be reached (a PostgreSQL server down, restarting or out of connections).</summary>
    internal static FhirException Unavailable() =>
        new(HttpStatusCode.ServiceUnavailable, OperationOutcome.IssueType.Transient,
            "The database is not reachable at the moment; nothing was changed by this request. Try again later.");

    public static bool IsWrite(Interaction i) => i is Interaction.Create or Interaction.Update or Interaction.ConditionalUpdate
        or Interaction.Patch or Interaction.ConditionalPatch or Interaction.Delete or Interaction.ConditionalDelete;

    /// <summary>The storage provider this service runs on.</summary>
    public IFhirStore Storage => storage;

    /// <summary>
    /// Extracts the index rows of a create's or update's body outside the write gate (extraction reads only the
    /// body's elements, none of which the store changes: it sets only id and meta.versionId/lastUpdated).
    /// </summary>
    internal void PrecomputeIndex(FhirRequest request)
    {
        if (request.Interaction is Interaction.Create or Interaction.Update or Interaction.ConditionalUpdate
            && request.Body is { } body && body.TypeName == request.Type)
        {
            request.PrecomputedIndex = index(body);
            // An update keeps the id of the URL (checked inside), so its JSON can be made here too.
            if (request.Interaction == Interaction.Update && body.Id == request.Id) request.PrecomputedJson = JsonTemplate.Create(body);
        }
    }

    private void ValidateTarget(FhirRequest request)
    {
        if (request.Type is not null && !registry.IsKnownType(request.Type))
            throw new FhirException(HttpStatusCode.NotFound, OperationOutcome.IssueType.NotSupported,
                $"'{request.Type}' is not a resource type this server supports.");
        if (request.CompartmentType is not null && !registry.IsKnownType(request.CompartmentType))
            throw new FhirException(HttpStatusCode.NotFound, OperationOutcome.IssueType.NotSupported,
                $"'{request.CompartmentType}' is not a resource type this server supports.");
        if (request.Id is not null && !IsValidId(request.Id))
            throw FhirException.BadRequest($"'{Truncate(request.Id)}' is not a valid resource id (1-64 of A-Z a-z 0-9 - .).");
    }

    /// <summary>
    /// Makes the access decision for a request that carries an <see cref="FhirRequest.Access"/>: 403 when the grant
    /// has no scope for the interaction; otherwise the decision travels with the request and constrains it.
    /// </summary>
    internal void Authorize(FhirRequest request)
    {
        if (request.Access is null || request.Decision is not null) return;
        var question = AccessEnforcement.ToAccessRequest(request, registry);
        if (question is null) return;
        var decision = AccessPolicy.Decide(request.Access, question);
        if (decision.Denial is { } denial) throw AccessEnforcement.Forbidden(denial);
        request.Decision = decision;
    }

    /// <summary>Runs one interaction on a store (inside the caller's transaction for writes).</summary>
    internal FhirResponse Execute(IResourceStore store, FhirRequest request, string baseUrl)
    {
        Authorize(request);
        return Dispatch(store, request, baseUrl);
    }

    private FhirResponse Dispatch(IResourceStore store, FhirRequest request, string baseUrl) => request.Interaction switch
    {
        Interaction.Read => Read(store, request),
        Interaction.VRead => VRead(store, request),
        Interaction.Create => Create(store, request),
        Interaction.Update => Update(store, request, request.Id!),
        Interaction.ConditionalUpdate => ConditionalUpdate(store, request),
        Interaction.Patch => Patch(store, request, request.Id!),
        Interaction.ConditionalPatch => Patch(store, request, SingleMatch(store, request, "patch")?.Id
            ?? throw FhirException.NotFound("No resource matches the criteria of the conditional patch.")),
        Interaction.Delete => Delete(store, request.Type!, request.Id!, request.Decision),
        Interaction.ConditionalDelete => ConditionalDelete(store, request),
        Interaction.SearchType or Interaction.SearchSystem or Interaction.SearchCompartment =>
            new FhirResponse { Status = 200, Resource = search.Search(store, request, baseUrl) },
        Interaction.HistoryInstance or Interaction.HistoryType or Interaction.HistorySystem => History(store, request, baseUrl),
        _ => throw FhirException.BadRequest($"The interaction {request.Interaction} is not supported here."),
    };

    private FhirResponse Read(IResourceStore store, FhirRequest request)
    {
        var current = store.ReadCurrent(request.Type!, request.Id!)
            ?? throw FhirException.NotFound($"{request.Type}/{request.Id} is not known.");
        RequireVisible(store, request, current);
        if (current.Deleted)
            throw new FhirException(HttpStatusCode.Gone, OperationOutcome.IssueType.Deleted,
                $"{request.Type}/{request.Id} was deleted (version {current.Version}).");
        if (request.IfNoneMatch is not null && ETagMatches(request.IfNoneMatch, current.Version))
            return new FhirResponse { Status = 304, ETag = FhirResponse.ETagFor(current.Version), LastModified = current.LastUpdatedOffset };
        if (request.IfModifiedSince is { } since && current.LastUpdatedOffset < since.AddSeconds(1))
            return new FhirResponse { Status = 304, ETag = FhirResponse.ETagFor(current.Version), LastModified = current.LastUpdatedOffset };
        return Found(current, 200);
    }

    private FhirResponse VRead(IResourceStore store, FhirRequest request)
    {
        var version = store.ReadVersion(request.Type!, request.Id!, request.Version ?? 0)
            ?? throw FhirException.NotFound($"{request.Type}/{request.Id} has no version '{request.Version}'.");
        if (request.Decision is not null)
            RequireVisible(store, request, store.ReadCurrent(request.Type!, request.Id!)!);
        if (version.Deleted)
            throw new FhirException(HttpStatusCode.Gone, OperationOutcome.IssueType.Deleted,
                $"Version {version.Version} of {request.Type}/{request.Id} is a deletion.");
        return Found(version, 200);
    }

    /// <summary>
    /// A resource outside the grant is answered as if it did not exist (404), so a caller learns nothing about
    /// other patients' records. Membership is decided on the current version's index rows.
    /// </summary>
    private void RequireVisible(IResourceStore store, FhirRequest request, StoredResource current)
    {
        if (request.Decision is { } decision && !decision.Permits(new StoredResourceOracle(store, current, search)))
            throw FhirException.NotFound($"{request.Type}/{request.Id} is not known.");
    }

    private static FhirResponse Found(StoredResource r, int status, string? location = null) => new()
    {
        Status = status,
        Stored = r,
        ETag = FhirResponse.ETagFor(r.Version),
        LastModified = r.LastUpdatedOffset,
        Location = location,
    };

    private FhirResponse Create(IResourceStore store, FhirRequest request, string? assignedId = null)
    {
        var body = RequireBody(request);
        if (request.IfNoneExist is { Length: > 0 } criteria)
        {
            store.LockForConditionalWrite(request.Type!);
            var matches = search.Find(store, request.Type!, ParseCriteria(criteria), 2, request.Decision);
            if (matches.Count > 1)
                throw new FhirException(HttpStatusCode.PreconditionFailed, OperationOutcome.IssueType.MultipleMatches,
                    $"The If-None-Exist criteria match more than one {request.Type}.");
            if (matches.Count == 1) return Found(matches[0], 200, Location(matches[0]));
        }
        var id = assignedId ?? NewId();
        var stored = Store(store, null, request.Type!, id, body, "POST", request.Decision, request.PrecomputedIndex);
        return Written(stored, 201);
    }

    internal IReadOnlyList<StoredResource> FindForBundle(IResourceStore store, string type, IReadOnlyList<KeyValuePair<string, string>> criteria,
        AccessDecision? decision) =>
        search.Find(store, type, criteria, 2, decision);

    internal static string NewId() => Guid.CreateVersion7().ToString();

    private FhirResponse Update(IResourceStore store, FhirRequest request, string id)
    {
        var body = RequireBody(request);
        if (string.IsNullOrEmpty(body.Id))
            throw FhirException.BadRequest("The resource in an update must have an id, equal to the id in the URL.", "Resource.id");
        if (body.Id != id)
            throw FhirException.BadRequest($"The id in the body ('{Truncate(body.Id)}') differs from the id in the URL ('{id}').", "Resource.id");

        var existing = store.ReadCurrent(request.Type!, id);
        if (request.IfMatch is not null)
        {
            if (existing is null || existing.Deleted || !ETagMatches(request.IfMatch, existing.Version))
                throw new FhirException(HttpStatusCode.PreconditionFailed, OperationOutcome.IssueType.Conflict,
                    $"If-Match {request.IfMatch} does not match the current version of {request.Type}/{id}" +
                    (existing is null ? " (it does not exist)." : $" ({FhirResponse.ETagFor(existing.Version)})."));
        }
        var stored = Store(store, existing, request.Type!, id, body, "PUT", request.Decision, request.PrecomputedIndex,
            request.Interaction == Interaction.Update ? request.PrecomputedJson : null);
        return Written(stored, existing is null || existing.Deleted ? 201 : 200);
    }

    private FhirResponse ConditionalUpdate(IResourceStore store, FhirRequest request)
    {
        var body = RequireBody(request);
        var match = SingleMatch(store, request, "update");
        if (match is null)
        {
            if (!string.IsNullOrEmpty(body.Id)) return Update(store, request, body.Id);
            var stored = Store(store, null, request.Type!, NewId(), body, "PUT", request.Decision, request.PrecomputedIndex);
            return Written(stored, 201);
        }
        if (!string.IsNullOrEmpty(body.Id) && body.Id != match.Id)
            throw FhirException.BadRequest($"The id in the body ('{Truncate(body.Id)}') differs from the matching resource ({match.Type}/{match.Id}).", "Resource.id");
        body.Id = match.Id;
        return Update(store, request, match.Id);
    }

    private StoredResource? SingleMatch(IResourceStore store, FhirRequest request, string what)
    {
        if (request.Query.Count == 0)
            throw FhirException.BadRequest($"A conditional {what} needs search criteria in the URL.");
        store.LockForConditionalWrite(request.Type!);
        var matches = search.Find(store, request.Type!, request.Query, 2, request.Decision);
        if (matches.Count > 1)
            throw new FhirException(HttpStatusCode.PreconditionFailed, OperationOutcome.IssueType.MultipleMatches,
                $"The criteria of the conditional {what} match more than one {request.Type}.");
        return matches.Count == 1 ? matches[0] : null;
    }

    private FhirResponse Patch(IResourceStore store, FhirRequest request, string id)
    {
        var existing = store.ReadCurrent(request.Type!, id);
        if (existing is null) throw FhirException.NotFound($"{request.Type}/{id} is not known.");
        if (existing.Deleted)
            throw new FhirException(HttpStatusCode.Gone, OperationOutcome.IssueType.Deleted, $"{request.Type}/{id} was deleted.");
        if (request.IfMatch is not null && !ETagMatches(request.IfMatch, existing.Version))
            throw new FhirException(HttpStatusCode.PreconditionFailed, OperationOutcome.IssueType.Conflict,
                $"If-Match {request.IfMatch} does not match the current version ({FhirResponse.ETagFor(existing.Version)}).");

        Resource patched;
        if (request.PatchBody is not null)
        {
            patched = JsonPatch.Apply(existing.Json!, request.PatchBody);
        }
        else if (request.Body is Parameters parameters)
        {
            var applied = FhirPathPatch.Apply(FhirSerializer.FromStoredJson(existing.Json!), parameters);
            // Parsed strictly like any other body, so a patch can never store what an update could not.
            patched = FhirSerializer.Parse(Encoding.UTF8.GetBytes(FhirSerializer.ToJson(applied)), FhirFormat.Json);
        }
        else
        {
            throw new FhirException(HttpStatusCode.UnsupportedMediaType, OperationOutcome.IssueType.NotSupported,
                "A patch body must be a JSON Patch document (application/json-patch+json) or a FHIRPath Patch Parameters resource (application/fhir+json or application/fhir+xml).");
        }

        if (patched.TypeName != request.Type || patched.Id != id)
            throw new FhirException(HttpStatusCode.UnprocessableEntity, OperationOutcome.IssueType.Invariant,
                "A patch may not change the resource type or id.");
        var stored = Store(store, existing, request.Type!, id, patched, "PATCH", request.Decision);
        return Written(stored, 200);
    }

    private FhirResponse Delete(IResourceStore store, string type, string id, AccessDecision? decision)
    {
        var existing = store.ReadCurrent(type, id);
        // Deleting what is already gone, or was never there, changes nothing (idempotent delete).
        if (existing is null) return new FhirResponse { Status = 204 };
        if (existing.Deleted)
            return new FhirResponse { Status = 204, ETag = FhirResponse.ETagFor(existing.Version) };
        if (decision?.CheckWrite(new StoredResourceOracle(store, existing, search), null) is { } denial)
            throw AccessEnforcement.Forbidden(denial);
        var stored = store.Write(existing, type, id, existing.Version + 1, NextTicks(existing), "DELETE", null, null);
        return new FhirResponse { Status = 204, ETag = FhirResponse.ETagFor(stored.Version), LastModified = stored.LastUpdatedOffset };
    }

    private FhirResponse ConditionalDelete(IResourceStore store, FhirRequest request)
    {
        var match = SingleMatch(store, request, "delete");
        return match is null ? new FhirResponse { Status = 204 } : Delete(store, match.Type, match.Id, request.Decision);
    }

    /// <summary>Validates and stores a new version: sets id and meta, serializes, extracts the index.</summary>
    /// <param name="decision">When access is controlled: the stored version and the new one must both lie in the grant
    /// (checked inside the transaction, so a refused write leaves nothing behind).</param>
    internal StoredResource Store(IResourceStore store, StoredResource? existing, string type, string id, Resource body, string method,
        AccessDecision? decision, ResourceIndex? precomputed = null, JsonTemplate? template = null)
    {
        if (body.TypeName != type)
            throw FhirException.BadRequest($"The body is a {body.TypeName}, but the URL is for {type}.", "Resource.resourceType");
        var before = decision is not null && existing is { Deleted: false } ? Snapshot(store, existing, decision) : null;
        var version = existing is null ? 1 : existing.Version + 1;
        var ticks = NextTicks(existing);
        body.Id = id;
        body.Meta ??= new Meta();
        body.Meta.VersionId = version.ToString(CultureInfo.InvariantCulture);
        body.Meta.LastUpdated = new DateTimeOffset(ticks, TimeSpan.Zero);
        var entries = precomputed ?? index(body);
        // The JSON made before the gate, when the body is still the one it was made from (its index too).
        var json = template is not null && precomputed is not null && template.Id == id ? template.Fill(version, ticks) : FhirSerializer.ToJson(body);
        var stored = store.Write(existing, type, id, version, ticks, method, json, entries);
        if (decision?.CheckWrite(before, new StoredResourceOracle(store, stored, search)) is { } denial)
            throw AccessEnforcement.Forbidden(denial);
        return stored;
    }

    /// <summary>
    /// The stored version's answers to the decision's questions, taken before the write replaces its index rows
    /// (questions not asked then answer false: fail closed).
    /// </summary>
    private IResourceOracle Snapshot(IResourceStore store, StoredResource existing, AccessDecision decision)
    {
        var snapshot = new SnapshotOracle(new StoredResourceOracle(store, existing, search));
        decision.For(existing.Type, decision.Permission).Matches(snapshot);
        snapshot.Freeze();
        return snapshot;
    }

    /// <summary>
    /// The time of a new version: the store's clock, and never before the version it replaces (several nodes' clocks
    /// may differ a little; within one node, and always on SQLite, the clock alone is already later).
    /// </summary>
    private long NextTicks(StoredResource? existing)
    {
        var ticks = storage.NextTicks();
        return existing is not null && ticks <= existing.LastUpdated ? existing.LastUpdated + 10 : ticks;
    }

    private static FhirResponse Written(StoredResource stored, int status) =>
        Found(stored, status, Location(stored));

    internal static string Location(StoredResource r) =>
        $"{r.Type}/{r.Id}/_history/{r.Version.ToString(CultureInfo.InvariantCulture)}";

    private static Resource RequireBody(FhirRequest request) => request.Body
        ?? throw FhirException.BadRequest("This interaction needs a resource in the body.");

    internal static bool ETagMatches(string header, int version)
    {
        var v = header.Trim();
        if (v == "*") return true;
        if (v.StartsWith("W/", StringComparison.Ordinal)) v = v[2..];
        v = v.Trim('"');
        return int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n == version;
    }

    internal static List<KeyValuePair<string, string>> ParseCriteria(string criteria)
    {
        var q = criteria;
        var question = q.IndexOf('?');
        if (question >= 0) q = q[(question + 1)..];
        var result = new List<KeyValuePair<string, string>>();
        foreach (var part in q.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = part.IndexOf('=');
            var name = Uri.UnescapeDataString((eq < 0 ? part : part[..eq]).Replace('+', ' '));
            var value = eq < 0 ? "" : Uri.UnescapeDataString(part[(eq + 1)..].Replace('+', ' '));
            result.Add(new(name, value));
        }
        return result;
    }

    public static string Truncate(string s) => s.Length <= 80 ? s : s[..80] + "…";

    private FhirResponse History(IResourceStore store, FhirRequest request, string baseUrl)
    {
        var count = DefaultHistoryCount;
        long? since = null, at = null, before = null;
        foreach (var (name, value) in request.Query)
        {
            switch (name)
            {
                case "_count":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out count) || count < 0)
                        throw FhirException.BadRequest($"_count must be a non-negative integer, not '{Truncate(value)}'.", "_count");
                    count = Math.Min(count, MaxCount);
                    break;
                case "_since":
                    since = Instant(value, "_since", lo: true);
                    break;
                case "_at":
                    at = Instant(value, "_at", lo: false);
                    break;
                case "_before_seq":
                    if (!long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var b))
                        throw FhirException.BadRequest("The paging position is not valid.", "_before_seq");
                    before = b;
                    break;
                case "_format" or "_pretty" or "_summary" or "_elements":
                    break;
                default:
                    if (request.StrictHandling) throw FhirException.BadRequest($"History does not support the parameter '{Truncate(name)}'.", name);
                    break;
            }
        }

        if (request.Interaction == Interaction.HistoryInstance)
        {
            var current = store.ReadCurrent(request.Type!, request.Id!) ?? throw FhirException.NotFound($"{request.Type}/{request.Id} is not known.");
            RequireVisible(store, request, current);
        }
        else if (request.Decision is { } decision)
        {
            // Old versions have no index rows, so history across resources cannot be filtered by compartment or
            // granular scope: it is open only to grants that reach every row of every type involved.
            var types = request.Type is { } t ? [t] : registry.ResourceTypes;
            if ((request.Type is null && decision.AllowedTypes is not null) || types.Any(type => !decision.For(type).IsUnrestricted))
                throw new FhirException(HttpStatusCode.Forbidden, OperationOutcome.IssueType.Forbidden,
                    "History across resources needs a grant to every resource of the types involved; use search, or the history of one resource.");
        }

        var rows = store.History(request.Type, request.Id, since, at, before, count + 1);
        var bundle = new Bundle { Type = Bundle.BundleType.History, Id = Guid.NewGuid().ToString(), Meta = new Meta { LastUpdated = DateTimeOffset.UtcNow } };
        if (at is null) bundle.Total = (int)store.CountHistory(request.Type, request.Id, since);

        var path = request.Interaction switch
        {
            Interaction.HistoryInstance => $"{request.Type}/{request.Id}/_history",
            Interaction.HistoryType => $"{request.Type}/_history",
            _ => "_history",
        };
        var keep = request.Query.Where(kv => kv.Key is "_count" or "_since" or "_at").ToList();
        bundle.Link.Add(new Bundle.LinkComponent { Relation = "self", Url = Link(baseUrl, path, request.Query.Where(kv => kv.Key != "_format")) });
        if (rows.Count > count && count > 0)
        {
            var next = keep.Append(new("_before_seq", rows[count - 1].Seq.ToString(CultureInfo.InvariantCulture)));
            bundle.Link.Add(new Bundle.LinkComponent { Relation = "next", Url = Link(baseUrl, path, next) });
        }
        foreach (var (_, method, r) in rows.Take(count))
        {
            var entry = new Bundle.EntryComponent
            {
                FullUrl = $"{baseUrl}/{r.Type}/{r.Id}",
                Request = new Bundle.RequestComponent
                {
                    Method = method switch { "POST" => Bundle.HTTPVerb.POST, "DELETE" => Bundle.HTTPVerb.DELETE, "PATCH" => Bundle.HTTPVerb.PATCH, _ => Bundle.HTTPVerb.PUT },
                    Url = method == "POST" ? r.Type : $"{r.Type}/{r.Id}",
                },
                Response = new Bundle.ResponseComponent
                {
                    Status = method switch { "POST" => "201 Created", "DELETE" => "204 No Content", _ => "200 OK" },
                    Etag = FhirResponse.ETagFor(r.Version),
                    LastModified = r.LastUpdatedOffset,
                },
            };
            if (r.Json is not null) entry.Resource = FhirSerializer.FromStoredJson(r.Json);
            bundle.Entry.Add(entry);
        }
        return new FhirResponse { Status = 200, Resource = bundle };
    }

    private static long Instant(string value, string name, bool lo)
    {
        if (!SearchValues.TryParseDateRange(value, out var l, out var h))
            throw FhirException.BadRequest($"{name} must be a FHIR instant, not '{Truncate(value)}'.", name);
        return lo ? l : h;
    }

    internal static string Link(string baseUrl, string path, IEnumerable<KeyValuePair<string, string>> query)
    {
        var q = string.Join("&", query.Select(kv => Uri.EscapeDataString(kv.Key) + "=" + Uri.EscapeDataString(kv.Value)));
        return $"{baseUrl}/{path}" + (q.Length > 0 ? "?" + q : "");
    }
}
