namespace Ignis.Server.Hosting;

/// <summary>The "Ignis" configuration section.</summary>
public sealed class IgnisOptions
{
    public const string Section = "Ignis";

    /// <summary>Where the database and generated files live (relative to the working directory).</summary>
    public string DataDirectory { get; set; } = "data";

    /// <summary>Seed the demo data on an empty database (the --demo flag).</summary>
    public bool Demo { get; set; }

    /// <summary>The origin clients use when it differs from the request's (reverse proxy), e.g. https://fhir.example.org.</summary>
    public string? PublicBaseUrl { get; set; }

    public FhirOptions Fhir { get; set; } = new();

    public StorageOptions Storage { get; set; } = new();
}

public sealed class FhirOptions
{
    /// <summary>The largest request body accepted, in bytes (413 above it).</summary>
    public long MaxBodyBytes { get; set; } = 16 * 1024 * 1024;

    /// <summary>
    /// Requests without a token, on an interface that sets no policy of its own (Ignis:Interfaces:*:Anonymous):
    /// Reject (401, the default), Limit (read and search of the public resource types) or Allow (no access control;
    /// refused at start-up on a non-loopback address unless forced).
    /// </summary>
    public Ignis.Server.Fhir.AnonymousAccess Anonymous { get; set; } = Ignis.Server.Fhir.AnonymousAccess.Reject;
}

public sealed class StorageOptions
{
    /// <summary>sqlite (default, one node) or postgres (one database for any number of nodes).</summary>
    public string Provider { get; set; } = "sqlite";

    /// <summary>For sqlite: the database file; default {DataDirectory}/ignis.db. For postgres: the Npgsql connection string.</summary>
    public string? ConnectionString { get; set; }
}
