using System.Collections.Concurrent;
using Hl7.Fhir.Model;
using Hl7.FhirPath;

namespace Ignis.Fhir.Search.Indexing;

/// <summary>
/// Extracts the search index rows of a resource at write time, for every search parameter the registry
/// defines on its type. One instance serves all requests: it holds only immutable, lazily built plans.
/// </summary>
public sealed class ResourceIndexer
{
    private readonly SearchParameterRegistry _registry;
    private readonly bool _fhirPathOnly;
    private readonly ConcurrentDictionary<string, Lazy<TypePlan>> _plans = new(StringComparer.Ordinal);

    public ResourceIndexer(SearchParameterRegistry registry)
        : this(registry, fhirPathOnly: false)
    {
    }

    /// <param name="fhirPathOnly">Evaluate every expression with the general FHIRPath engine (to check <see cref="FastPath"/> against it).</param>
    internal ResourceIndexer(SearchParameterRegistry registry, bool fhirPathOnly)
    {
        _registry = registry;
        _fhirPathOnly = fhirPathOnly;
    }

    public ResourceIndex Extract(Resource resource)
    {
        ArgumentNullException.ThrowIfNull(resource);
        var plan = PlanFor(resource.TypeName);
        var scope = new Scope(resource);
        var index = new ResourceIndex();
        var values = new List<Base>();

        foreach (var p in plan.Params)
        {
            values.Clear();
            p.Select(scope, values);
            foreach (var v in values) IndexValueConverter.Add(index, p.Param.Type, p.Param.Id, v);
        }
        foreach (var c in plan.Composites) c.Extract(scope, index.Composites);

        Deduplicate(index.Strings);
        Deduplicate(index.Tokens);
        Deduplicate(index.Dates);
        Deduplicate(index.Numbers);
        Deduplicate(index.Quantities);
        Deduplicate(index.References);
        Deduplicate(index.Uris);
        Deduplicate(index.Composites);
        return index;
    }

    /// <summary>For tests and diagnostics: whether each indexed parameter of a type runs on <see cref="FastPath"/>.</summary>
    internal IReadOnlyDictionary<string, bool> EvaluatorsFor(string resourceType)
    {
        var plan = PlanFor(resourceType);
        var result = new Dictionary<string, bool>(StringComparer.Ordinal);
        foreach (var p in plan.Params) result[p.Param.Code] = p.IsFast;
        foreach (var c in plan.Composites) result[c.Param.Code] = c.IsFast;
        return result;
    }

    private TypePlan PlanFor(string resourceType) =>
        _plans.GetOrAdd(resourceType, t => new Lazy<TypePlan>(() => BuildPlan(t))).Value;

    // Built on first use of a type, so that start-up does not pay for compiling ~1,700 expressions.
    private TypePlan BuildPlan(string resourceType)
    {
        var simple = new List<ParamPlan>();
        var composites = new List<CompositePlan>();
        foreach (var param in _registry.For(resourceType))
        {
            if (param.Expression is null) continue;
            switch (param.Type)
            {
                case SearchParamType.Composite:
                    if (CompositePlan.Create(param, _fhirPathOnly) is { } composite) composites.Add(composite);
                    break;
                case SearchParamType.String or SearchParamType.Token or SearchParamType.Date or SearchParamType.Number
                    or SearchParamType.Quantity or SearchParamType.Reference or SearchParamType.Uri:
                    if (ParamPlan.Create(param, _fhirPathOnly) is { } p) simple.Add(p);
                    break;
            }
        }
        return new TypePlan([.. simple], [.. composites]);
    }

    private static void Deduplicate<T>(List<T> list) where T : IEquatable<T>
    {
        if (list.Count < 2) return;
        if (list.Count <= 16)
        {
            for (var i = list.Count - 1; i > 0; i--)
            {
                for (var j = 0; j < i; j++)
                {
                    if (list[i].Equals(list[j]))
                    {
                        list.RemoveAt(i);
                        break;
                    }
                }
            }
            return;
        }
        var seen = new HashSet<T>(list.Count);
        var kept = 0;
        for (var i = 0; i < list.Count; i++)
        {
            if (seen.Add(list[i])) list[kept++] = list[i];
        }
        list.RemoveRange(kept, list.Count - kept);
    }

    private sealed record TypePlan(ParamPlan[] Params, CompositePlan[] Composites);

    /// <summary>The resource being indexed, with its FHIRPath node built only if some expression needs it.</summary>
    internal sealed class Scope(Resource resource)
    {
        private PocoNode? _node;
        private ResourceIndex? _scratch;

        public Resource Resource { get; } = resource;

        /// <summary>Rows of one composite component, before they become <see cref="CompositePart"/>s.</summary>
        public ResourceIndex Scratch => _scratch ??= new ResourceIndex();

        public PocoNode Node => _node ??= Resource.ToPocoNode();
    }

    private sealed class ParamPlan
    {
        private readonly FastPath? _fast;
        private readonly CompiledExpression? _compiled;

        private ParamPlan(SearchParam param, FastPath? fast, CompiledExpression? compiled)
        {
            Param = param;
            _fast = fast;
            _compiled = compiled;
        }

        public SearchParam Param { get; }

        public bool IsFast => _fast is not null;

        public static ParamPlan? Create(SearchParam param, bool fhirPathOnly)
        {
            var fast = fhirPathOnly ? null : FastPath.TryParse(param.Expression!);
            if (fast is not null) return new ParamPlan(param, fast, null);
            return TryCompile(param.Expression!) is { } compiled ? new ParamPlan(param, null, compiled) : null;
        }

        public void Select(Scope scope, List<Base> output)
        {
            if (_fast is not null)
            {
                _fast.Evaluate(scope.Resource, scope.Resource, output);
                return;
            }
            SelectWithFhirPath(_compiled!, scope.Node, scope.Node, output);
        }
    }

    private sealed class CompositePlan
    {
        private readonly FastPath? _fastBase;
        private readonly FastPath[]? _fastComponents;
        private readonly CompiledExpression? _compiledBase;
        private readonly CompiledExpression[]? _compiledComponents;

        private CompositePlan(SearchParam param, FastPath? fastBase, FastPath[]? fastComponents,
            CompiledExpression? compiledBase, CompiledExpression[]? compiledComponents)
        {
            Param = param;
            _fastBase = fastBase;
            _fastComponents = fastComponents;
            _compiledBase = compiledBase;
            _compiledComponents = compiledComponents;
        }

        public SearchParam Param { get; }

        public bool IsFast => _fastBase is not null;

        public static CompositePlan? Create(SearchParam param, bool fhirPathOnly)
        {
            if (param.Components.Count is < 2 or > 3) return null;
            if (!fhirPathOnly && FastPath.TryParse(param.Expression!) is { } fastBase)
            {
                var components = param.Components.Select(c => FastPath.TryParse(c.Expression)).ToArray();
                if (components.All(c => c is not null))
                    return new CompositePlan(param, fastBase, components!, null, null);
            }
            var compiledBase = TryCompile(param.Expression!);
            var compiled = param.Components.Select(c => TryCompile(c.Expression)).ToArray();
            if (compiledBase is null || compiled.Any(c => c is null)) return null;
            return new CompositePlan(param, null, null, compiledBase, compiled!);
        }

        public void Extract(Scope scope, List<CompositeEntry> output)
        {
            var count = Param.Components.Count;
            var values = new List<Base>[count];
            for (var i = 0; i < count; i++) values[i] = [];
            var parts = new List<CompositePart>[count];
            for (var i = 0; i < count; i++) parts[i] = [];

            if (_fastBase is not null)
            {
                var elements = new List<Base>();
                _fastBase.Evaluate(scope.Resource, scope.Resource, elements);
                foreach (var element in elements)
                {
                    for (var i = 0; i < count; i++)
                    {
                        values[i].Clear();
                        _fastComponents![i].Evaluate(scope.Resource, element, values[i]);
                    }
                    AddRows(values, parts, scope.Scratch, output);
                }
                return;
            }

            IEnumerable<PocoNode> nodes;
            try
            {
                nodes = _compiledBase!(scope.Node, FhirPathSelector.Context(scope.Node)).ToList();
            }
            catch (Exception e) when (IsEvaluationError(e))
            {
                return;
            }
            foreach (var node in nodes)
            {
                for (var i = 0; i < count; i++)
                {
                    values[i].Clear();
                    SelectWithFhirPath(_compiledComponents![i], scope.Node, node, values[i]);
                }
                AddRows(values, parts, scope.Scratch, output);
            }
        }

        // One row per combination of the components' values within one element.
        private void AddRows(List<Base>[] values, List<CompositePart>[] parts, ResourceIndex scratch, List<CompositeEntry> output)
        {
            for (var i = 0; i < values.Length; i++)
            {
                parts[i].Clear();
                CompositeParts.Add(Param.Components[i].Type, values[i], parts[i], scratch);
                if (parts[i].Count == 0) return;
            }
            foreach (var p1 in parts[0])
            {
                foreach (var p2 in parts[1])
                {
                    if (parts.Length == 2)
                    {
                        output.Add(new CompositeEntry(Param.Id, p1, p2, null));
                        continue;
                    }
                    foreach (var p3 in parts[2]) output.Add(new CompositeEntry(Param.Id, p1, p2, p3));
                }
            }
        }
    }

    private static CompiledExpression? TryCompile(string expression)
    {
        try
        {
            return FhirPathSelector.Compile(expression);
        }
        catch (Exception e) when (e is FormatException or ArgumentException or InvalidOperationException or NotSupportedException)
        {
            // An expression the engine cannot compile indexes nothing rather than failing every write of the type.
            return null;
        }
    }

    private static void SelectWithFhirPath(CompiledExpression expression, PocoNode root, PocoNode focus, List<Base> output)
    {
        try
        {
            FhirPathSelector.AddResults(expression(focus, FhirPathSelector.Context(root)), output);
        }
        catch (Exception e) when (IsEvaluationError(e))
        {
            // FHIRPath raises on some valid data (e.g. a singleton operator over a repeating element); the
            // parameter then indexes nothing for this resource instead of failing the write.
        }
    }

    private static bool IsEvaluationError(Exception e) =>
        e is InvalidOperationException or ArgumentException or InvalidCastException or FormatException or NotSupportedException;
}
