using Microsoft.Extensions.DependencyInjection.Extensions;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Storage;
using Ignis.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Fhir;

public static class FhirServiceCollectionExtensions
{
    public static IServiceCollection AddIgnisFhir(this IServiceCollection services)
    {
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<IgnisOptions>>().Value;
            var path = o.Storage.Provider is "sqlite" && o.Storage.ConnectionString is { Length: > 0 } cs ? cs : Path.Combine(o.DataDirectory, "ignis.db");
            return new FhirDatabase(path);
        });
        services.AddSingleton(SearchParameterRegistry.Default);
        services.AddSingleton<WriteGate>();
        services.AddSingleton<CapabilityStatementBuilder>();
        services.AddSingleton<ValidatedTokenCache>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new FhirService(
            sp.GetRequiredService<FhirDatabase>(),
            sp.GetRequiredService<SearchParameterRegistry>(),
            new ResourceIndexer(sp.GetRequiredService<SearchParameterRegistry>()).Extract,
            new FhirSearch(sp.GetRequiredService<SearchParameterRegistry>()),
            sp.GetRequiredService<WriteGate>()));
        return services;
    }
}
