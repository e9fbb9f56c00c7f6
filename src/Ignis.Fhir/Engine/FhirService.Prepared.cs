using Hl7.Fhir.Model;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Storage;

namespace Ignis.Fhir.Engine;

/// <summary>
/// A new resource the server made itself, given as what a create stores rather than as a resource: its index rows and
/// its JSON once the id and the time are known. For records written at a high rate whose JSON and index rows the caller
/// can make more cheaply than the generic serializer and extractor (the security log's AuditEvents); the caller must
/// give exactly what a create of the equivalent resource would store (its tests compare them).
/// </summary>
public abstract class PreparedResource
{
    /// <summary>The index rows, as <see cref="FhirService.Index"/> extracts them from the resource.</summary>
    public abstract ResourceIndex Index { get; }

    /// <summary>
    /// The stored JSON: the resource with <paramref name="id"/>, meta.versionId 1 and meta.lastUpdated
    /// <paramref name="lastUpdated"/> (UTC ticks), as the FHIR serializer writes it.
    /// </summary>
    public abstract string ToJson(string id, long lastUpdated);
}

public sealed partial class FhirService
{
    /// <summary>The index rows of <paramref name="resource"/>, as a write of it stores them.</summary>
    public ResourceIndex Index(Resource resource) => index(resource);

    /// <summary>
    /// Creates <paramref name="resources"/> (all of <paramref name="type"/>) in one write transaction, as
    /// <see cref="CreateAllAsync(string, IReadOnlyList{Resource}, CancellationToken)"/> does for the equivalent resources:
    /// the same ids, versions, times, history and index rows, from JSON and rows the caller prepared. Returns the ids in order.
    /// With <paramref name="sync"/> false the commit may complete before the disk has it (<see cref="IFhirStore.WriteWithoutSyncAsync{T}"/>).
    /// </summary>
    public async Task<IReadOnlyList<string>> CreateAllAsync(string type, IReadOnlyList<PreparedResource> resources, bool sync = true, CancellationToken ct = default)
    {
        if (!registry.IsKnownType(type)) throw FhirException.BadRequest($"'{type}' is not a resource type this server supports.");
        var ids = new string[resources.Count];
        for (var i = 0; i < ids.Length; i++) ids[i] = NewId();
        Func<IResourceStore, int> work = store =>
        {
            // As Store does for a create: version 1 at the store's clock, taken inside the transaction.
            for (var i = 0; i < ids.Length; i++)
            {
                var ticks = storage.NextTicks();
                store.Write(null, type, ids[i], 1, ticks, "POST", resources[i].ToJson(ids[i], ticks), resources[i].Index);
            }
            return ids.Length;
        };
        await (sync ? storage.WriteAsync(work, ct) : storage.WriteWithoutSyncAsync(work, ct)).ConfigureAwait(false);
        return ids;
    }
}
