using System.Runtime.CompilerServices;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace Ignis.Server.Auth;

/// <summary>
/// OpenIddict's server dispatcher, with the handler list of each event type computed once. OpenIddict's own dispatcher
/// walks every registered handler descriptor (several hundred, all events) for each event it dispatches, and a token
/// request dispatches a few dozen events: that walk, with its type tests and async iterator, was 7-9 % of the CPU of a
/// backend-services token request (docs/benchmarks.md). The rules are OpenIddict's: the same descriptors in the same
/// order, the same filters evaluated per event, handlers resolved from the same scope, and the chain stops when a handler
/// handles, skips or rejects the request.
/// </summary>
public sealed partial class IndexedServerDispatcher(
    IOptionsMonitor<OpenIddictServerOptions> options, IServiceProvider provider, ILogger<IndexedServerDispatcher> logger)
    : IOpenIddictServerDispatcher
{
    public async ValueTask DispatchAsync<TContext>(TContext context) where TContext : BaseContext
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var descriptor in HandlersOf<TContext>.For(options.CurrentValue.Handlers))
        {
            if (!await IsActiveAsync(descriptor, context)) continue;
            var handler = descriptor.ServiceDescriptor.ImplementationInstance as IOpenIddictServerHandler<TContext>
                ?? provider.GetService(descriptor.ServiceDescriptor.ServiceType) as IOpenIddictServerHandler<TContext>
                ?? throw new InvalidOperationException(
                    $"The OpenIddict handler {descriptor.ServiceDescriptor.ServiceType} is not registered in the services.");
            await handler.HandleAsync(context);

            if (context is BaseRequestContext { IsRequestHandled: true } or BaseRequestContext { IsRequestSkipped: true }
                or BaseValidatingContext { IsRejected: true })
            {
                if (logger.IsEnabled(LogLevel.Debug)) LogChainStopped(logger, typeof(TContext).Name, handler.GetType().Name);
                return;
            }
        }
    }

    private async ValueTask<bool> IsActiveAsync<TContext>(OpenIddictServerHandlerDescriptor descriptor, TContext context) where TContext : BaseContext
    {
        foreach (var type in descriptor.FilterTypes)
        {
            if (provider.GetService(type) is not IOpenIddictServerHandlerFilter<TContext> filter)
                throw new InvalidOperationException($"The OpenIddict handler filter {type} is not registered in the services.");
            if (!await filter.IsActiveAsync(context)) return false;
        }
        return true;
    }

    /// <summary>
    /// The descriptors of one event type, in OpenIddict's order, for the handler list they were taken from (the options
    /// are built once; a rebuilt list, e.g. after a configuration reload, is indexed again).
    /// </summary>
    private static class HandlersOf<TContext> where TContext : BaseContext
    {
        private static readonly ConditionalWeakTable<List<OpenIddictServerHandlerDescriptor>, Entry> Index = new();

        private sealed record Entry(int Count, OpenIddictServerHandlerDescriptor[] Handlers);

        public static OpenIddictServerHandlerDescriptor[] For(List<OpenIddictServerHandlerDescriptor> all)
        {
            if (Index.TryGetValue(all, out var entry) && entry.Count == all.Count) return entry.Handlers;
            entry = new Entry(all.Count, [.. all.Where(d => d.ContextType == typeof(TContext))]);
            Index.AddOrUpdate(all, entry);
            return entry.Handlers;
        }
    }

    [LoggerMessage(EventId = 3090, Level = LogLevel.Debug, Message = "The {Context} chain stopped after {Handler}")]
    private static partial void LogChainStopped(ILogger logger, string context, string handler);
}
