using Microsoft.Extensions.DependencyInjection.Extensions;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Search.Query;
using Ignis.Fhir.Storage;
using Ignis.Fhir.Storage.Postgres;
using Ignis.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Ignis.Server.Fhir;

public static class FhirServiceCollectionExtensions
{
    public static IServiceCollection AddIgnisFhir(this IServiceCollection services)
    {
        // The SQLite file (Ignis:Storage:Provider = sqlite, the default).
        services.AddSingleton(sp =>
        {
            var o = sp.GetRequiredService<IOptions<IgnisOptions>>().Value;
            if (IsPostgres(o.Storage))
                throw new InvalidOperationException("Ignis:Storage:Provider is postgres: there is no SQLite FHIR database (use IFhirStore).");
            var path = o.Storage.ConnectionString is { Length: > 0 } cs ? cs : Path.Combine(o.DataDirectory, "ignis.db");
            return new FhirDatabase(path);
        });
        // The FHIR store of the configured provider.
        services.AddSingleton<IFhirStore>(sp =>
        {
            var storage = sp.GetRequiredService<IOptions<IgnisOptions>>().Value.Storage;
            if (IsPostgres(storage))
            {
                if (string.IsNullOrWhiteSpace(storage.ConnectionString))
                    throw new InvalidOperationException(
                        "Ignis:Storage:Provider is postgres but Ignis:Storage:ConnectionString is empty; set it to an Npgsql connection string " +
                        "(Host=...;Port=5432;Database=ignis;Username=...;Password=...).");
                return new PostgresFhirStore(storage.ConnectionString);
            }
            if (!string.Equals(storage.Provider, "sqlite", StringComparison.OrdinalIgnoreCase))
                throw new InvalidOperationException($"Ignis:Storage:Provider '{storage.Provider}' is not known; use sqlite or postgres.");
            return new SqliteFhirStore(sp.GetRequiredService<FhirDatabase>(), sp.GetRequiredService<WriteGate>());
        });
        services.AddSingleton(_ => SearchParameterRegistry.Default);
        services.AddSingleton<WriteGate>();
        services.AddHostedService<WriteGateReport>();
        services.AddSingleton<CapabilityStatementBuilder>();
        services.AddSingleton<ValidatedTokenCache>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton(sp => new FhirService(
            sp.GetRequiredService<IFhirStore>(),
            sp.GetRequiredService<SearchParameterRegistry>(),
            new ResourceIndexer(sp.GetRequiredService<SearchParameterRegistry>()).Extract,
            new FhirSearch(sp.GetRequiredService<SearchParameterRegistry>())));
        return services;
    }

    private static bool IsPostgres(StorageOptions storage) =>
        string.Equals(storage.Provider, "postgres", StringComparison.OrdinalIgnoreCase)
        || string.Equals(storage.Provider, "postgresql", StringComparison.OrdinalIgnoreCase);
}
