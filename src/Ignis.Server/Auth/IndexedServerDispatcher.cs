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
/// handles, skips or rejects the request. Singleton handlers and filters are resolved once, when the list is indexed
/// (<see cref="ServerHandlerInstances"/>), instead of through the scope's provider and a variant interface cast at every
/// event (another 5-6 % of that CPU); scoped and transient ones are still resolved from the request's scope.
/// </summary>
public sealed partial class IndexedServerDispatcher(
    IOptionsMonitor<OpenIddictServerOptions> options, IServiceProvider provider, ServerHandlerInstances singletons,
    ILogger<IndexedServerDispatcher> logger)
    : IOpenIddictServerDispatcher
{
    /// <summary>
    /// Runs the handlers in order. Most handlers and filters complete synchronously, so the chain runs as a plain loop and
    /// only falls back to an async continuation (<see cref="ContinueAsync"/>) from the first step that does not.
    /// </summary>
    public ValueTask DispatchAsync<TContext>(TContext context) where TContext : BaseContext
    {
        ArgumentNullException.ThrowIfNull(context);
        var entries = HandlersOf<TContext>.For(options.CurrentValue.Handlers, singletons);
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            if (entry.Filters.Length > 0)
            {
                var active = IsActive(entry, context, 0);
                if (!active.IsCompletedSuccessfully) return ContinueAsync(entries, i, context, active);
                if (!active.Result) continue;
            }
            var handler = Resolve(entry);
            var step = handler.HandleAsync(context);
            if (!step.IsCompletedSuccessfully) return ContinueAsync(entries, i, context, step, handler);
            if (Stops(context, handler)) return default;
        }
        return default;
    }

    /// <summary>The rest of the chain once a filter (<paramref name="active"/>) of entry <paramref name="index"/> did not complete at once.</summary>
    private async ValueTask ContinueAsync<TContext>(HandlerEntry<TContext>[] entries, int index, TContext context, ValueTask<bool> active)
        where TContext : BaseContext
    {
        if (!await active.ConfigureAwait(false)) { await RunAsync(entries, index + 1, context).ConfigureAwait(false); return; }
        var handler = Resolve(entries[index]);
        await handler.HandleAsync(context).ConfigureAwait(false);
        if (Stops(context, handler)) return;
        await RunAsync(entries, index + 1, context).ConfigureAwait(false);
    }

    /// <summary>The rest of the chain once the handler of entry <paramref name="index"/> did not complete at once.</summary>
    private async ValueTask ContinueAsync<TContext>(HandlerEntry<TContext>[] entries, int index, TContext context, ValueTask step,
        IOpenIddictServerHandler<TContext> handler) where TContext : BaseContext
    {
        await step.ConfigureAwait(false);
        if (Stops(context, handler)) return;
        await RunAsync(entries, index + 1, context).ConfigureAwait(false);
    }

    private async ValueTask RunAsync<TContext>(HandlerEntry<TContext>[] entries, int from, TContext context) where TContext : BaseContext
    {
        for (var i = from; i < entries.Length; i++)
        {
            var entry = entries[i];
            if (entry.Filters.Length > 0 && !await IsActive(entry, context, 0).ConfigureAwait(false)) continue;
            var handler = Resolve(entry);
            await handler.HandleAsync(context).ConfigureAwait(false);
            if (Stops(context, handler)) return;
        }
    }

    private IOpenIddictServerHandler<TContext> Resolve<TContext>(HandlerEntry<TContext> entry) where TContext : BaseContext =>
        entry.Handler
        ?? provider.GetService(entry.Descriptor.ServiceDescriptor.ServiceType) as IOpenIddictServerHandler<TContext>
        ?? throw new InvalidOperationException(
            $"The OpenIddict handler {entry.Descriptor.ServiceDescriptor.ServiceType} is not registered in the services.");

    /// <summary>OpenIddict's rule: the chain stops when a handler handled, skipped or rejected the request.</summary>
    private bool Stops<TContext>(TContext context, IOpenIddictServerHandler<TContext> handler) where TContext : BaseContext
    {
        if (context is BaseRequestContext { IsRequestHandled: true } or BaseRequestContext { IsRequestSkipped: true }
            or BaseValidatingContext { IsRejected: true })
        {
            if (logger.IsEnabled(LogLevel.Debug)) LogChainStopped(logger, typeof(TContext).Name, handler.GetType().Name);
            return true;
        }
        return false;
    }

    /// <summary>Whether every filter of the entry, from <paramref name="from"/> on, lets the handler run.</summary>
    private ValueTask<bool> IsActive<TContext>(HandlerEntry<TContext> entry, TContext context, int from) where TContext : BaseContext
    {
        for (var i = from; i < entry.Filters.Length; i++)
        {
            var filter = entry.Filters[i];
            if (filter is null)
            {
                var type = entry.Descriptor.FilterTypes[i];
                filter = provider.GetService(type) as IOpenIddictServerHandlerFilter<TContext>
                    ?? throw new InvalidOperationException($"The OpenIddict handler filter {type} is not registered in the services.");
            }
            var active = filter.IsActiveAsync(context);
            if (!active.IsCompletedSuccessfully) return IsActiveAsync(entry, context, i, active);
            if (!active.Result) return new(false);
        }
        return new(true);
    }

    private async ValueTask<bool> IsActiveAsync<TContext>(HandlerEntry<TContext> entry, TContext context, int index, ValueTask<bool> pending)
        where TContext : BaseContext =>
        await pending.ConfigureAwait(false) && await IsActive(entry, context, index + 1).ConfigureAwait(false);

    /// <summary>One descriptor of an event type with its singleton handler and filters, when they are singletons.</summary>
    private sealed record HandlerEntry<TContext>(
        OpenIddictServerHandlerDescriptor Descriptor, IOpenIddictServerHandler<TContext>? Handler, IOpenIddictServerHandlerFilter<TContext>?[] Filters)
        where TContext : BaseContext;

    /// <summary>
    /// The descriptors of one event type, in OpenIddict's order, for the handler list they were taken from (the options
    /// are built once per server; a rebuilt list, e.g. after the signing keys changed, is indexed again).
    /// </summary>
    private static class HandlersOf<TContext> where TContext : BaseContext
    {
        private static readonly ConditionalWeakTable<List<OpenIddictServerHandlerDescriptor>, Entry> Index = new();

        private sealed record Entry(int Count, HandlerEntry<TContext>[] Handlers);

        public static HandlerEntry<TContext>[] For(List<OpenIddictServerHandlerDescriptor> all, ServerHandlerInstances singletons)
        {
            if (Index.TryGetValue(all, out var entry) && entry.Count == all.Count) return entry.Handlers;
            entry = new Entry(all.Count, [.. all.Where(d => d.ContextType == typeof(TContext)).Select(d => new HandlerEntry<TContext>(
                d,
                singletons.Get(d.ServiceDescriptor) as IOpenIddictServerHandler<TContext>,
                [.. d.FilterTypes.Select(t => singletons.GetFilter(t) as IOpenIddictServerHandlerFilter<TContext>)]))]);
            Index.AddOrUpdate(all, entry);
            return entry.Handlers;
        }
    }

    [LoggerMessage(EventId = 3090, Level = LogLevel.Debug, Message = "The {Context} chain stopped after {Handler}")]
    private static partial void LogChainStopped(ILogger logger, string context, string handler);
}

/// <summary>
/// The singleton OpenIddict server handlers and filters of one server, from its root services. Which services are
/// singletons is read from the service registrations (captured when the dispatcher is registered; read once the
/// container is built, so registrations made after it count too).
/// </summary>
public sealed class ServerHandlerInstances(IServiceProvider root, ServerHandlerInstances.Registrations registrations)
{
    /// <summary>The service collection the server was built from.</summary>
    public sealed class Registrations(IServiceCollection services)
    {
        private Dictionary<Type, ServiceLifetime>? _lifetimes;

        /// <summary>The lifetime of the last registration of a service type (the one the container resolves).</summary>
        public ServiceLifetime? LifetimeOf(Type type)
        {
            var lifetimes = _lifetimes ??= services.Where(d => !d.IsKeyedService).GroupBy(d => d.ServiceType)
                .ToDictionary(g => g.Key, g => g.Last().Lifetime);
            return lifetimes.TryGetValue(type, out var lifetime) ? lifetime : null;
        }
    }

    /// <summary>The handler instance when it is a singleton (OpenIddict's own descriptor or the registration says so).</summary>
    public object? Get(ServiceDescriptor descriptor)
    {
        if (descriptor.ImplementationInstance is { } instance) return instance;
        return registrations.LifetimeOf(descriptor.ServiceType) == ServiceLifetime.Singleton ? root.GetService(descriptor.ServiceType) : null;
    }

    /// <summary>The filter instance when it is registered as a singleton.</summary>
    public object? GetFilter(Type type) =>
        registrations.LifetimeOf(type) == ServiceLifetime.Singleton ? root.GetService(type) : null;
}
