namespace Ignis.Server.Scim;

/// <summary>The "Ignis:Scim" configuration section.</summary>
public sealed class ScimOptions
{
    public const string Section = "Ignis:Scim";

    /// <summary>The largest page (count) a list or search returns, and the page size when count is not given.</summary>
    public int MaxResults { get; set; } = 200;

    /// <summary>
    /// A filter the database cannot answer alone is evaluated in memory over the users it narrows to; above this many
    /// the request fails with 400 tooMany (RFC 7644 §3.12) instead of loading them.
    /// </summary>
    public int MaxFilterCandidates { get; set; } = 10_000;

    /// <summary>The largest request body accepted, in bytes (413 above it).</summary>
    public long MaxBodyBytes { get; set; } = 1024 * 1024;
}
