using System.Globalization;
using System.Text;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Query;

/// <summary>
/// Turns FHIR search query parameters into a <see cref="SearchRequest"/>. Client mistakes never throw: they become
/// <see cref="SearchRequest.Issues"/> (warnings under lenient handling, errors under strict handling) and the
/// parameter is left out of the search and of the self link.
/// </summary>
public static class SearchParser
{
    /// <summary>The query parameter that carries a page position in next/previous links.</summary>
    public const string CursorParameter = "_cursor";

    public const int DefaultCount = 20;
    public const int MaxCount = 1000;

    // Parameters the HTTP layer handles; search neither uses nor reports them.
    private static readonly HashSet<string> TransportParameters = new(StringComparer.Ordinal) { "_format", "_pretty" };

    private static readonly HashSet<string> UnsupportedParameters = new(StringComparer.Ordinal)
    {
        "_contained", "_containedType", "_text", "_content", "_list", "_query", "_filter",
    };

    public static SearchRequest Parse(
        string? resourceType,
        IReadOnlyList<KeyValuePair<string, string>> query,
        SearchHandling handling = SearchHandling.Lenient) =>
        Parse(resourceType, query, handling, SearchParameterRegistry.Default);

    public static SearchRequest Parse(
        string? resourceType,
        IReadOnlyList<KeyValuePair<string, string>> query,
        SearchHandling handling,
        SearchParameterRegistry registry)
    {
        var typeKnown = resourceType is null || registry.IsKnownType(resourceType);
        var types = resourceType is not null ? [resourceType] : registry.ResourceTypes.Order(StringComparer.Ordinal).ToArray();
        var request = new SearchRequest(registry, resourceType, types, handling);
        var p = new Parser(request, registry, handling);
        if (!typeKnown)
        {
            request.AddIssue(new SearchIssue(OperationOutcome.IssueSeverity.Error, OperationOutcome.IssueType.NotSupported,
                SearchIssueKind.UnknownResourceType, "", $"'{resourceType}' is not a resource type this server supports."));
            return request;
        }
        p.Run(query);
        return request;
    }

    /// <summary>Splits on <paramref name="separator"/> where it is not escaped with '\'; pieces keep their escapes.</summary>
    internal static List<string> SplitEscaped(string s, char separator)
    {
        var parts = new List<string>();
        var start = 0;
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\') { i++; continue; }
            if (s[i] == separator)
            {
                parts.Add(s[start..i]);
                start = i + 1;
            }
        }
        parts.Add(s[start..]);
        return parts;
    }

    internal static string Unescape(string s)
    {
        if (!s.Contains('\\')) return s;
        var sb = new StringBuilder(s.Length);
        for (var i = 0; i < s.Length; i++)
        {
            if (s[i] == '\\' && i + 1 < s.Length) i++;
            sb.Append(s[i]);
        }
        return sb.ToString();
    }

    private sealed class Parser(SearchRequest request, SearchParameterRegistry registry, SearchHandling handling)
    {
        private readonly OperationOutcome.IssueSeverity _severity =
            handling == SearchHandling.Strict ? OperationOutcome.IssueSeverity.Error : OperationOutcome.IssueSeverity.Warning;

        private void Issue(SearchIssueKind kind, string parameter, string message) =>
            request.AddIssue(new SearchIssue(_severity, kind switch
            {
                SearchIssueKind.UnknownParameter or SearchIssueKind.UnsupportedParameter or SearchIssueKind.UnsupportedModifier
                    or SearchIssueKind.UnknownResourceType => OperationOutcome.IssueType.NotSupported,
                _ => OperationOutcome.IssueType.Invalid,
            }, kind, parameter, message));

        public void Run(IReadOnlyList<KeyValuePair<string, string>> query)
        {
            // _type first: it decides which parameters a system-level search may use.
            foreach (var (key, value) in query.Where(kv => kv.Key == "_type"))
                ParseType(key, value);

            string? cursor = null;
            foreach (var (key, value) in query)
            {
                if (key == "_type" || TransportParameters.Contains(key)) continue;
                if (key == CursorParameter) { cursor = value; continue; }
                if (ParseResultParameter(key, value) is { } handled)
                {
                    if (handled) request.Accept(key, value);
                    continue;
                }
                if (UnsupportedParameters.Contains(key.Split(':')[0]))
                {
                    Issue(SearchIssueKind.UnsupportedParameter, key, $"The parameter '{key}' is not supported.");
                    continue;
                }
                var criterion = ParseCriterion(request.Types, key, value, key, depth: 0);
                if (criterion is null) continue;
                request.Criteria.Add(criterion);
                request.Accept(key, value);
            }

            if (cursor is not null)
            {
                request.Cursor = SearchCursor.TryDecode(cursor, request.Sort);
                if (request.Cursor is null)
                    Issue(SearchIssueKind.InvalidCursor, CursorParameter,
                        "The page cursor is not valid for this search; the first page is returned instead.");
            }
        }

        private void ParseType(string key, string value)
        {
            if (request.ResourceType is not null)
            {
                Issue(SearchIssueKind.UnknownParameter, key, "_type is only allowed in a system-level search.");
                return;
            }
            var types = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
            var unknown = types.Where(t => !registry.IsKnownType(t)).ToList();
            if (types.Length == 0 || unknown.Count > 0)
            {
                Issue(SearchIssueKind.InvalidValue, key, $"_type names unknown resource types: {string.Join(", ", unknown)}.");
                return;
            }
            var narrowed = request.Types.Intersect(types, StringComparer.Ordinal).ToArray();
            request.Types = narrowed;
            request.Accept(key, value);
        }

        /// <summary>True: accepted; false: rejected (issue added); null: not a result parameter.</summary>
        private bool? ParseResultParameter(string key, string value)
        {
            switch (key)
            {
                case "_count":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
                        return Reject(SearchIssueKind.InvalidValue, key, $"_count must be a non-negative integer, not '{value}'.");
                    request.Count = Math.Min(count, MaxCount);
                    return true;
                case "_total":
                    switch (value)
                    {
                        case "none": request.Total = SearchTotal.None; return true;
                        // An estimate is allowed to be exact.
                        case "accurate": request.Total = SearchTotal.Accurate; return true;
                        case "estimate": request.Total = SearchTotal.Auto; return true;
                        default: return Reject(SearchIssueKind.InvalidValue, key, $"_total must be none, estimate or accurate, not '{value}'.");
                    }
                case "_summary":
                    SearchSummary? summary = value switch
                    {
                        "true" => SearchSummary.True,
                        "false" => SearchSummary.False,
                        "text" => SearchSummary.Text,
                        "data" => SearchSummary.Data,
                        "count" => SearchSummary.Count,
                        _ => null,
                    };
                    if (summary is null)
                        return Reject(SearchIssueKind.InvalidValue, key, $"_summary must be true, false, text, data or count, not '{value}'.");
                    request.Summary = summary;
                    return true;
                case "_elements":
                    var elements = value.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
                    if (elements.Length == 0) return Reject(SearchIssueKind.InvalidValue, key, "_elements needs at least one element name.");
                    request.Elements = [.. request.Elements ?? [], .. elements];
                    return true;
                case "_sort":
                    return ParseSort(key, value);
            }
            var colon = key.IndexOf(':');
            var name = colon < 0 ? key : key[..colon];
            if (name is "_include" or "_revinclude")
            {
                var modifier = colon < 0 ? null : key[(colon + 1)..];
                if (modifier is not (null or "iterate" or "recurse"))
                    return Reject(SearchIssueKind.UnsupportedModifier, key, $"{name} supports only the :iterate modifier.");
                return ParseInclude(key, value, reverse: name == "_revinclude", iterate: modifier is not null);
            }
            return null;
        }

        private bool Reject(SearchIssueKind kind, string key, string message)
        {
            Issue(kind, key, message);
            return false;
        }

        private bool ParseSort(string key, string value)
        {
            var keys = new List<SortKey>();
            foreach (var raw in value.Split(',', StringSplitOptions.TrimEntries))
            {
                var descending = raw.StartsWith('-');
                var code = descending ? raw[1..] : raw;
                var ps = request.Types.Select(t => registry.Find(t, code)).ToList();
                if (code.Length == 0 || ps.Count == 0 || ps.Any(p => p is null))
                    return Reject(SearchIssueKind.InvalidSort, key, $"Cannot sort by '{code}': not a search parameter of the searched type.");
                if (ps[0]!.Type is SearchParamType.Composite or SearchParamType.Special)
                    return Reject(SearchIssueKind.InvalidSort, key, $"Cannot sort by '{code}': {ps[0]!.Type} parameters have no order.");
                keys.Add(new SortKey(code, descending, ps!));
            }
            request.Sort.Clear();
            request.Sort.AddRange(keys);
            return true;
        }

        private bool ParseInclude(string key, string value, bool reverse, bool iterate)
        {
            var list = reverse ? request.RevIncludes : request.Includes;
            var parts = value.Split(':');
            if (value == "*")
            {
                // Every reference of the searched types (for _revinclude: every reference to them, from any type).
                if (reverse)
                    return Reject(SearchIssueKind.InvalidInclude, key, "_revinclude=* is not supported; name the source type and parameter.");
                foreach (var t in request.Types)
                    AddAllReferences(list, t, null, iterate, reverse);
                return true;
            }
            if (parts.Length is < 2 or > 3 || !registry.IsKnownType(parts[0]))
                return Reject(SearchIssueKind.InvalidInclude, key, $"'{value}' is not of the form SourceType:parameter[:TargetType].");
            var source = parts[0];
            var target = parts.Length == 3 ? parts[2] : null;
            if (target is not null && !registry.IsKnownType(target))
                return Reject(SearchIssueKind.InvalidInclude, key, $"'{target}' is not a resource type.");
            if (parts[1] == "*")
            {
                AddAllReferences(list, source, target, iterate, reverse);
                return true;
            }
            var param = registry.Find(source, parts[1]);
            if (param is null || param.Type != SearchParamType.Reference)
                return Reject(SearchIssueKind.InvalidInclude, key, $"'{parts[1]}' is not a reference search parameter of {source}.");
            if (target is not null && param.Targets.Count > 0 && !param.Targets.Contains(target) && !param.Targets.Contains("Resource"))
                return Reject(SearchIssueKind.InvalidInclude, key, $"{source}.{parts[1]} cannot refer to {target}.");
            list.Add(new IncludeSpec(source, [param], target, iterate, reverse));
            return true;
        }

        private void AddAllReferences(List<IncludeSpec> list, string source, string? target, bool iterate, bool reverse)
        {
            var refs = registry.For(source).Where(p => p.Type == SearchParamType.Reference).ToList();
            if (refs.Count > 0) list.Add(new IncludeSpec(source, refs, target, iterate, reverse));
        }

        /// <summary>Parses one criterion (key = name[:modifier], a chain, or _has) for <paramref name="types"/>; null after an issue.</summary>
        private SearchCriterion? ParseCriterion(IReadOnlyList<string> types, string key, string value, string original, int depth)
        {
            if (key.StartsWith("_has:", StringComparison.Ordinal)) return ParseHas(types, key, value, original, depth);

            var dot = key.IndexOf('.');
            if (dot > 0) return ParseChain(types, key, dot, value, original, depth);

            var colon = key.IndexOf(':');
            var name = colon < 0 ? key : key[..colon];
            var modifierText = colon < 0 ? null : key[(colon + 1)..];
            if (name.Length == 0)
            {
                Issue(SearchIssueKind.UnknownParameter, original, $"'{original}' is not a search parameter.");
                return null;
            }
            var ps = types.Select(t => registry.Find(t, name)).ToList();
            if (ps.Count == 0 || ps.Any(p => p is null))
            {
                var where = request.ResourceType is null && depth == 0 ? "every searched type" : string.Join(", ", types);
                Issue(SearchIssueKind.UnknownParameter, original, $"'{name}' is not a search parameter of {where}.");
                return null;
            }
            var param = ps[0]!;
            if (param.Type == SearchParamType.Special)
            {
                Issue(SearchIssueKind.UnsupportedParameter, original, $"The special parameter '{name}' is not supported.");
                return null;
            }

            if (!TryParseModifier(param, modifierText, original, out var modifier, out var targetType)) return null;

            if (modifier == SearchModifier.Missing)
            {
                if (value is not ("true" or "false"))
                {
                    Issue(SearchIssueKind.InvalidValue, original, $":missing takes true or false, not '{value}'.");
                    return null;
                }
                return new ParameterCriterion(ps!, modifier, null, [], value == "true");
            }

            var values = new List<SearchValue>();
            foreach (var raw in SplitEscaped(value, ','))
            {
                var parsed = ParseValue(param.Type, param, modifier, targetType, raw, original);
                if (parsed is null) return null;
                values.Add(parsed);
            }
            return new ParameterCriterion(ps!, modifier, targetType, values, null);
        }

        private bool TryParseModifier(SearchParam param, string? text, string original, out SearchModifier modifier, out string? targetType)
        {
            modifier = SearchModifier.None;
            targetType = null;
            if (text is null) return true;
            if (text == "missing")
            {
                modifier = SearchModifier.Missing;
                return true;
            }
            var allowed = (param.Code, param.Type, text) switch
            {
                ("_id", _, "not") => SearchModifier.Not,
                ("_id", _, _) => (SearchModifier?)null,
                (_, SearchParamType.String, "exact") => SearchModifier.Exact,
                (_, SearchParamType.String, "contains") => SearchModifier.Contains,
                (_, SearchParamType.Token, "not") => SearchModifier.Not,
                (_, SearchParamType.Token, "text") => SearchModifier.Text,
                (_, SearchParamType.Token, "of-type") => SearchModifier.OfType,
                (_, SearchParamType.Uri, "below") => SearchModifier.Below,
                (_, SearchParamType.Uri, "above") => SearchModifier.Above,
                _ => null,
            };
            if (allowed is { } m)
            {
                modifier = m;
                return true;
            }
            if (param.Type == SearchParamType.Reference && registry.IsKnownType(text))
            {
                if (param.Targets.Count > 0 && !param.Targets.Contains(text) && !param.Targets.Contains("Resource"))
                {
                    Issue(SearchIssueKind.InvalidValue, original, $"{param.ResourceType}.{param.Code} cannot refer to {text}.");
                    return false;
                }
                modifier = SearchModifier.Type;
                targetType = text;
                return true;
            }
            Issue(SearchIssueKind.UnsupportedModifier, original,
                $"The modifier ':{text}' is not supported for the {param.Type.ToString().ToLowerInvariant()} parameter '{param.Code}'.");
            return false;
        }

        private SearchCriterion? ParseChain(IReadOnlyList<string> types, string key, int dot, string value, string original, int depth)
        {
            if (depth > 0 || request.ResourceType is null)
            {
                Issue(SearchIssueKind.InvalidChain, original, "Chained parameters are supported one level deep, in a type-level search.");
                return null;
            }
            var left = key[..dot];
            var right = key[(dot + 1)..];
            var colon = left.IndexOf(':');
            var name = colon < 0 ? left : left[..colon];
            var typeModifier = colon < 0 ? null : left[(colon + 1)..];
            var refs = types.Select(t => registry.Find(t, name)).ToList();
            if (refs.Any(r => r is null || r.Type != SearchParamType.Reference))
            {
                Issue(SearchIssueKind.InvalidChain, original, $"'{name}' is not a reference search parameter, so it cannot be chained.");
                return null;
            }
            if (right.Contains('.'))
            {
                Issue(SearchIssueKind.InvalidChain, original, "Chained parameters are supported one level deep.");
                return null;
            }
            var reference = refs[0]!;
            IEnumerable<string> candidates;
            if (typeModifier is not null)
            {
                if (!registry.IsKnownType(typeModifier) ||
                    (reference.Targets.Count > 0 && !reference.Targets.Contains(typeModifier) && !reference.Targets.Contains("Resource")))
                {
                    Issue(SearchIssueKind.InvalidChain, original, $"{reference.ResourceType}.{name} cannot refer to '{typeModifier}'.");
                    return null;
                }
                candidates = [typeModifier];
            }
            else
            {
                candidates = reference.Targets.Contains("Resource") || reference.Targets.Count == 0
                    ? registry.ResourceTypes
                    : reference.Targets.Where(registry.IsKnownType);
            }
            var innerName = right.Split(':')[0];
            if (innerName.StartsWith("_has", StringComparison.Ordinal))
            {
                Issue(SearchIssueKind.InvalidChain, original, "_has cannot follow a chain.");
                return null;
            }
            // Without a :Type the chain covers each target type that defines the inner parameter.
            var targetTypes = candidates.Where(t => registry.Find(t, innerName) is not null).Order(StringComparer.Ordinal).ToList();
            if (targetTypes.Count == 0)
            {
                Issue(SearchIssueKind.InvalidChain, original, $"No type {name} can refer to has a search parameter '{innerName}'.");
                return null;
            }
            var targets = new List<ChainTarget>();
            foreach (var t in targetTypes)
            {
                var inner = ParseCriterion([t], right, value, original, depth + 1);
                if (inner is null) return null;
                targets.Add(new ChainTarget(t, inner));
            }
            return new ChainCriterion(refs!, targets);
        }

        private SearchCriterion? ParseHas(IReadOnlyList<string> types, string key, string value, string original, int depth)
        {
            var parts = key.Split(':', 4);
            if (types.Count != 1 || request.ResourceType is null)
            {
                Issue(SearchIssueKind.InvalidChain, original, "_has is supported in a type-level search.");
                return null;
            }
            if (parts.Length != 4 || !registry.IsKnownType(parts[1]) || depth > 2)
            {
                Issue(SearchIssueKind.InvalidChain, original, $"'{original}' is not of the form _has:Type:reference:parameter.");
                return null;
            }
            var source = parts[1];
            var reference = registry.Find(source, parts[2]);
            if (reference is null || reference.Type != SearchParamType.Reference ||
                (reference.Targets.Count > 0 && !reference.Targets.Contains(types[0]) && !reference.Targets.Contains("Resource")))
            {
                Issue(SearchIssueKind.InvalidChain, original, $"'{parts[2]}' is not a reference search parameter of {source} that can refer to {types[0]}.");
                return null;
            }
            if (parts[3].Contains('.') && !parts[3].StartsWith("_has:", StringComparison.Ordinal))
            {
                Issue(SearchIssueKind.InvalidChain, original, "A chain inside _has is not supported.");
                return null;
            }
            var inner = ParseCriterion([source], parts[3], value, original, depth + 1);
            return inner is null ? null : new HasCriterion(source, reference, inner);
        }

        private SearchValue? ParseValue(SearchParamType type, SearchParam param, SearchModifier modifier, string? targetType, string raw, string original)
        {
            SearchValue? Bad(string why)
            {
                Issue(SearchIssueKind.InvalidValue, original, $"'{Unescape(raw)}' is not a valid value for '{param.Code}': {why}");
                return null;
            }

            if (param.Code == "_id")
            {
                var id = Unescape(raw);
                return id.Length == 0 ? Bad("an id is required.") : new TokenSearchValue(null, false, id);
            }
            if (param.Code == "_lastUpdated") type = SearchParamType.Date;

            switch (type)
            {
                case SearchParamType.String:
                {
                    var s = Unescape(raw);
                    if (s.Length == 0) return Bad("the value is empty.");
                    return new StringSearchValue(s, SearchValues.NormalizeString(s));
                }
                case SearchParamType.Token:
                {
                    if (modifier == SearchModifier.Text)
                    {
                        var t = Unescape(raw);
                        return t.Length == 0 ? Bad("the value is empty.") : new TextSearchValue(SearchValues.NormalizeString(t));
                    }
                    var parts = SplitEscaped(raw, '|').Select(Unescape).ToList();
                    if (modifier == SearchModifier.OfType)
                    {
                        if (parts.Count != 3 || parts.Any(x => x.Length == 0))
                            return Bad(":of-type takes type-system|type-code|value.");
                        return new TokenSearchValue(null, false, parts[2], parts[0], parts[1]);
                    }
                    return parts.Count switch
                    {
                        1 when parts[0].Length > 0 => new TokenSearchValue(null, false, parts[0]),
                        2 when parts[0].Length > 0 || parts[1].Length > 0 =>
                            new TokenSearchValue(parts[0].Length == 0 ? null : parts[0], true, parts[1].Length == 0 ? null : parts[1]),
                        _ => Bad("expected code, system|code, |code or system|."),
                    };
                }
                case SearchParamType.Date:
                {
                    var (prefix, rest) = SplitPrefix(Unescape(raw));
                    return SearchValues.TryParseDateRange(rest, out var lo, out var hi)
                        ? new DateSearchValue(prefix, lo, hi)
                        : Bad("expected a FHIR date, dateTime or instant with an optional prefix (eq, ne, gt, lt, ge, le, sa, eb, ap).");
                }
                case SearchParamType.Number:
                {
                    var (prefix, rest) = SplitPrefix(Unescape(raw));
                    if (!SearchValues.TryParseDecimal(rest, out var d)) return Bad("expected a decimal number with an optional prefix.");
                    var (lo, hi) = SearchValues.NumberRange(d);
                    return new NumberSearchValue(prefix, d, lo, hi);
                }
                case SearchParamType.Quantity:
                {
                    var parts = SplitEscaped(raw, '|').Select(Unescape).ToList();
                    if (parts.Count is not (1 or 3)) return Bad("expected value, value|system|code or value||code.");
                    var (prefix, rest) = SplitPrefix(parts[0]);
                    if (!SearchValues.TryParseDecimal(rest, out var d)) return Bad("expected a decimal number with an optional prefix.");
                    var (lo, hi) = SearchValues.NumberRange(d);
                    string? system = parts.Count == 3 && parts[1].Length > 0 ? parts[1] : null;
                    string? code = parts.Count == 3 && parts[2].Length > 0 ? parts[2] : null;
                    if (system is not null && code is null) return Bad("a system needs a code.");
                    return new QuantitySearchValue(prefix, d, lo, hi, system, code);
                }
                case SearchParamType.Reference:
                    return ParseReference(Unescape(raw), targetType, param) ?? Bad("expected an id, Type/id or an absolute URL.");
                case SearchParamType.Uri:
                {
                    var u = Unescape(raw);
                    return u.Length == 0 ? Bad("the value is empty.") : new UriSearchValue(u);
                }
                case SearchParamType.Composite:
                {
                    var parts = SplitEscaped(raw, '$');
                    if (parts.Count != param.Components.Count)
                        return Bad($"expected {param.Components.Count} components separated by '$'.");
                    var components = new List<SearchValue>();
                    for (var i = 0; i < parts.Count; i++)
                    {
                        var c = param.Components[i];
                        var componentParam = param with { Code = param.Code, Type = c.Type, Components = [] };
                        var v = ParseValue(c.Type, componentParam, SearchModifier.None, null, parts[i], original);
                        if (v is null) return null;
                        components.Add(v);
                    }
                    return new CompositeSearchValue(components);
                }
                default:
                    return Bad("this parameter type is not searchable.");
            }
        }

        private ReferenceSearchValue? ParseReference(string value, string? targetType, SearchParam param)
        {
            if (value.Length == 0) return null;
            if (value.Contains("://", StringComparison.Ordinal) || value.StartsWith("urn:", StringComparison.Ordinal))
            {
                var bar = value.IndexOf('|');
                var url = bar < 0 ? value : value[..bar];
                var version = bar < 0 ? null : value[(bar + 1)..];
                // An absolute URL ending in Type/id also matches the local reference Type/id (see SqlCompiler).
                var (t, id) = TrailingTypeAndId(url);
                if (targetType is not null && t is not null && t != targetType) return null;
                return new ReferenceSearchValue(t, id, url, string.IsNullOrEmpty(version) ? null : version);
            }
            var segments = value.Split('/');
            if (segments.Length >= 4 && segments[^2] == "_history") segments = segments[..^2];
            switch (segments.Length)
            {
                case 1:
                    return new ReferenceSearchValue(targetType, segments[0], null, null);
                case 2 when registry.IsKnownType(segments[0]) && segments[1].Length > 0:
                    if (targetType is not null && segments[0] != targetType) return null;
                    return new ReferenceSearchValue(segments[0], segments[1], null, null);
                default:
                    return null;
            }
        }

        private (string? Type, string? Id) TrailingTypeAndId(string url)
        {
            var segments = url.TrimEnd('/').Split('/');
            if (segments.Length >= 4 && segments[^2] == "_history") segments = segments[..^2];
            if (segments.Length >= 2 && registry.IsKnownType(segments[^2]) && segments[^1].Length > 0)
                return (segments[^2], segments[^1]);
            return (null, null);
        }

        private static (SearchPrefix Prefix, string Remainder) SplitPrefix(string value)
        {
            if (value.Length > 2 && char.IsAsciiLetterLower(value[0]) && char.IsAsciiLetterLower(value[1]))
            {
                SearchPrefix? p = value[..2] switch
                {
                    "eq" => SearchPrefix.Eq,
                    "ne" => SearchPrefix.Ne,
                    "gt" => SearchPrefix.Gt,
                    "lt" => SearchPrefix.Lt,
                    "ge" => SearchPrefix.Ge,
                    "le" => SearchPrefix.Le,
                    "sa" => SearchPrefix.Sa,
                    "eb" => SearchPrefix.Eb,
                    "ap" => SearchPrefix.Ap,
                    _ => null,
                };
                if (p is { } prefix) return (prefix, value[2..]);
            }
            return (SearchPrefix.Eq, value);
        }
    }
}
