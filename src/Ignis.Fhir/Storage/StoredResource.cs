namespace Ignis.Fhir.Storage;

/// <summary>A row of the resources or history table: one version of one resource.</summary>
/// <param name="ResKey">The surrogate key of the resource (resources.res_key).</param>
/// <param name="LastUpdated">UTC ticks.</param>
/// <param name="Json">The FHIR JSON of this version (meta.versionId and meta.lastUpdated set); null when deleted.</param>
public sealed record StoredResource(long ResKey, string Type, string Id, int Version, long LastUpdated, bool Deleted, string? Json)
{
    public DateTimeOffset LastUpdatedOffset => new(LastUpdated, TimeSpan.Zero);
}
