using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;

namespace Ignis.Server.Fhir;

/// <summary>
/// Builds /fhir/metadata from what the engine supports: every resource type and search parameter of the
/// registry, the interactions <see cref="FhirService"/> implements. Nothing here is a hand-kept list of
/// types or parameters.
/// </summary>
public sealed class CapabilityStatementBuilder(SearchParameterRegistry registry, IEnumerable<ICapabilityContributor> contributors)
{
    private readonly Lock _lock = new();
    private readonly Dictionary<string, CapabilityStatement> _cache = new(StringComparer.Ordinal);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<(string, Ignis.Fhir.Serialization.FhirFormat, bool, Hl7.Fhir.Rest.SummaryType), string> _serialized = new();

    /// <summary>The statement serialized, cached: it is large (every type and parameter) and never changes while running.</summary>
    /// The Host header is the client's to choose, so only a few base URLs are cached.
    public string Serialized(string baseUrl, Ignis.Fhir.Serialization.FhirFormat format, bool pretty, Hl7.Fhir.Rest.SummaryType summary)
    {
        var key = (baseUrl, format, pretty, summary);
        if (_serialized.TryGetValue(key, out var text)) return text;
        text = Ignis.Fhir.Serialization.FhirSerializer.Serialize(Build(baseUrl), format, summary, null, pretty);
        if (_serialized.Count < MaxCached) _serialized.TryAdd(key, text);
        return text;
    }

    private const int MaxCached = 16;

    /// <summary>
    /// Builds and serializes a statement once without keeping it (start-up, off the request path): the first
    /// /fhir/metadata request then finds the FHIR serializer's type maps and this code ready.
    /// </summary>
    public void Warm() => Ignis.Fhir.Serialization.FhirSerializer.Serialize(Create(WarmUpBase), Ignis.Fhir.Serialization.FhirFormat.Json);

    private const string WarmUpBase = "http://localhost/fhir";

    public CapabilityStatement Build(string baseUrl)
    {
        lock (_lock)
        {
            if (_cache.TryGetValue(baseUrl, out var cached)) return cached;
            var statement = Create(baseUrl);
            foreach (var c in contributors) c.Contribute(statement, baseUrl);
            if (_cache.Count < MaxCached) _cache[baseUrl] = statement;
            return statement;
        }
    }

    private CapabilityStatement Create(string baseUrl)
    {
        var version = typeof(CapabilityStatementBuilder).Assembly.GetName().Version?.ToString(3) ?? "0.0.0";
        var rest = new CapabilityStatement.RestComponent
        {
            Mode = CapabilityStatement.RestfulCapabilityMode.Server,
            Interaction = FhirCapabilities.SystemInteractions
                .Select(i => new CapabilityStatement.SystemInteractionComponent { Code = i }).ToList(),
            SearchParam = registry.Common.Select(ToSearchParam).ToList(),
        };
        foreach (var type in registry.ResourceTypes.Order(StringComparer.Ordinal))
        {
            var parameters = registry.For(type).OrderBy(p => p.Code, StringComparer.Ordinal).ToList();
            var references = parameters.Where(p => p.Type == SearchParamType.Reference).ToList();
            rest.Resource.Add(new CapabilityStatement.ResourceComponent
            {
                Type = type,
                Profile = $"http://hl7.org/fhir/StructureDefinition/{type}",
                Interaction = FhirCapabilities.TypeInteractions
                    .Select(i => new CapabilityStatement.ResourceInteractionComponent { Code = i }).ToList(),
                Versioning = CapabilityStatement.ResourceVersionPolicy.VersionedUpdate,
                ReadHistory = true,
                UpdateCreate = true,
                ConditionalCreate = true,
                ConditionalRead = CapabilityStatement.ConditionalReadStatus.FullSupport,
                ConditionalUpdate = true,
                ConditionalDelete = CapabilityStatement.ConditionalDeleteStatus.Single,
                ReferencePolicy = [CapabilityStatement.ReferenceHandlingPolicy.Literal, CapabilityStatement.ReferenceHandlingPolicy.Logical],
                SearchInclude = ["*", .. references.Select(p => $"{type}:{p.Code}")],
                SearchRevInclude = registry.ResourceTypes
                    .SelectMany(t => registry.For(t).Where(p => p.Type == SearchParamType.Reference && (p.Targets.Count == 0 || p.Targets.Contains(type)))
                        .Select(p => $"{t}:{p.Code}"))
                    .Order(StringComparer.Ordinal).ToList(),
                SearchParam = parameters.Select(ToSearchParam).ToList(),
            });
        }

        return new CapabilityStatement
        {
            Id = "ignis",
            Url = baseUrl + "/metadata",
            Name = "Ignis",
            Title = "Ignis FHIR R4 server",
            Status = PublicationStatus.Active,
            Date = DateTimeOffset.UtcNow.ToString("yyyy-MM-dd"),
            Publisher = "Ignis",
            Kind = CapabilityStatementKind.Instance,
            Software = new CapabilityStatement.SoftwareComponent { Name = "Ignis", Version = version },
            Implementation = new CapabilityStatement.ImplementationComponent { Description = "Ignis FHIR R4 server", Url = baseUrl },
            FhirVersion = FHIRVersion.N4_0_1,
            Format = ["application/fhir+json", "application/fhir+xml", "json", "xml"],
            PatchFormat = ["application/json-patch+json", "application/fhir+json", "application/fhir+xml"],
            Rest = [rest],
        };
    }

    private static CapabilityStatement.SearchParamComponent ToSearchParam(SearchParam p) => new()
    {
        Name = p.Code,
        Definition = p.Url,
        Type = p.Type,
        Documentation = p.Description,
    };
}

/// <summary>Adds to the CapabilityStatement what other parts of the server offer (e.g. the SMART security extension).</summary>
public interface ICapabilityContributor
{
    void Contribute(CapabilityStatement statement, string baseUrl);
}
