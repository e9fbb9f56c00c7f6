using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Query;

/// <summary>
/// A compiled AND-term. <see cref="Set"/> (when not null) is a <c>SELECT res_key</c> that SQLite can run from an
/// index, used to drive the query from the most selective term; <see cref="Row"/> is the same condition as a
/// predicate on a resources row (an EXISTS probe through the index tables' res_key indexes), used for the others.
/// </summary>
/// <see cref="KeyOnly"/>: the set holds only current resources of the searched type and the row predicate reads
/// nothing but res_key, so a count need not visit the resources table.
/// <see cref="Ordered"/>: the set is one range of an index with equality on every column before res_key (a token with system
/// and code), so PostgreSQL reads it in res_key order and a page can stop after its first matches.
internal sealed record Fragment(string? Set, Func<string, string> Row, int Rank, bool Probe, bool KeyOnly = false, bool Ordered = false);

/// <summary>
/// Builds parameterised SQL for criteria. Every client value goes into <see cref="Parameters"/>; only
/// identifiers this class chooses (table and column names, parameter names) are written into the SQL text.
/// </summary>
internal sealed class SqlCompiler(SearchRequest request, SqlDialect dialect)
{
    private int _next;

    public DynamicParameters Parameters { get; } = new();

    public string Add(object? value)
    {
        var name = "@p" + _next++.ToString(CultureInfo.InvariantCulture);
        Parameters.Add(name, value);
        return name;
    }

    public SqlCompiler(SearchRequest request) : this(request, SqlDialect.Sqlite)
    {
    }

    public SqlDialect Dialect => dialect;

    /// <summary>
    /// While set, the per-row checks compiled from then on end with <see cref="SqlDialect.RowCheckEnd"/> (PostgreSQL:
    /// kept as per-row checks instead of joins the planner may reorder). Set by the engine for a page that walks the
    /// type in order because every set is large.
    /// </summary>
    public bool FenceRowChecks { get; set; }

    /// <summary>A list parameter (a JSON array on SQLite, an array on PostgreSQL), for <see cref="SqlDialect.InList"/>.</summary>
    public string AddList<T>(IEnumerable<T> values) => Add(dialect.ListValue(values));

    /// <summary><paramref name="column"/> is one of <paramref name="values"/>.</summary>
    public string InList<T>(string column, IEnumerable<T> values) => dialect.InList(column, AddList(values));

    /// <summary>The restriction on <paramref name="type"/> as a predicate on <paramref name="alias"/>, or null when unrestricted.</summary>
    public string? RestrictionRow(string type, string alias)
    {
        if (request.AllowedTypes is { } allowed && !allowed.Contains(type)) return dialect.False;
        var parts = new List<string>();
        foreach (var r in request.Restrictions.Where(r => r.ResourceType == type))
        {
            if (r.AnyOf.Count == 0) return dialect.False;
            parts.Add("(" + string.Join(" OR ", r.AnyOf.Select(g => "(" + string.Join(" AND ", g.Select(c => Compile(c, [type]).Row(alias))) + ")")) + ")");
        }
        return parts.Count == 0 ? null : string.Join(" AND ", parts);
    }

    /// <summary>The restrictions on <paramref name="type"/> as fragments (one per restriction), for driving a query.</summary>
    public List<Fragment> RestrictionFragments(string type)
    {
        var list = new List<Fragment>();
        if (request.AllowedTypes is { } allowed && !allowed.Contains(type))
        {
            list.Add(new Fragment(null, _ => dialect.False, 0, false));
            return list;
        }
        foreach (var r in request.Restrictions.Where(r => r.ResourceType == type))
        {
            if (r.AnyOf.Count == 0)
            {
                list.Add(new Fragment(null, _ => dialect.False, 0, false));
                continue;
            }
            if (r.AnyOf.Any(g => g.Count > 1))
            {
                // Alternatives of several criteria (a compartment AND a granular scope's query): each alternative's most
                // selective member with a set drives it and the other members are checked on its rows.
                var groups = r.AnyOf.Select(g => g.Select(c => Compile(c, [type])).ToList()).ToList();
                var drivers = groups.Select(g => g.Where(f => f.Set is not null).OrderBy(f => f.Rank).FirstOrDefault()).ToList();
                string? groupSet = null;
                if (drivers.All(d => d is not null))
                    groupSet = string.Join(" UNION ALL ", groups.Select((g, i) =>
                    {
                        var alias = "g" + i.ToString(CultureInfo.InvariantCulture);
                        return $"SELECT {alias}.res_key FROM resources {alias} WHERE {alias}.res_key IN ({drivers[i]!.Set})" +
                               string.Concat(g.Where(f => f != drivers[i]).Select(f => " AND " + f.Row(alias)));
                    }));
                list.Add(new Fragment(groupSet,
                    a => "(" + string.Join(" OR ", groups.Select(g => "(" + string.Join(" AND ", g.Select(f => f.Row(a))) + ")")) + ")",
                    groups.Max(g => g.Max(f => f.Rank)), groupSet is not null && drivers.All(d => d!.Probe), groups.All(g => g.All(f => f.KeyOnly))));
                continue;
            }
            var fs = r.AnyOf.Select(g => Compile(g[0], [type])).ToList();
            var set = fs.All(f => f.Set is not null) ? string.Join(" UNION ALL ", fs.Select(f => f.Set)) : null;
            // Probed like a criterion: a patient compartment is a few rows and must be able to drive the page (issue 3: a
            // patient's Observation?category=laboratory walked every Observation, 11 s on 1M resources).
            list.Add(new Fragment(set, a => "(" + string.Join(" OR ", fs.Select(f => f.Row(a))) + ")", fs.Max(f => f.Rank),
                set is not null && fs.All(f => f.Probe), fs.All(f => f.KeyOnly)));
        }
        return list;
    }

    public Fragment Compile(SearchCriterion criterion, IReadOnlyList<string> types) => criterion switch
    {
        ParameterCriterion p => CompileParameter(p, types),
        ChainCriterion c => CompileChain(c),
        HasCriterion h => CompileHas(h, types[0]),
        _ => throw new InvalidOperationException("Unknown criterion " + criterion.GetType().Name),
    };

    private string ParamIds(IReadOnlyList<SearchParam> ps) =>
        ps.Count == 1 ? "param_id = " + Add(ps[0].Id) : InList("param_id", ps.Select(p => p.Id));

    // In a per-row probe (res_key = r.res_key) the unary + stops SQLite from preferring the covering
    // (param_id, value…) index, which would scan every row of the parameter instead of the resource's few rows.
    private string ProbeParamIds(IReadOnlyList<SearchParam> ps) => dialect.NoIndex(ParamIds(ps));

    private string TypeFilter(IReadOnlyList<string> types) =>
        types.Count == 1 ? "type = " + Add(types[0]) : InList("type", types);

    public static string Table(SearchParamType type) => type switch
    {
        SearchParamType.String => "idx_string",
        SearchParamType.Token => "idx_token",
        SearchParamType.Date => "idx_date",
        SearchParamType.Number => "idx_number",
        SearchParamType.Quantity => "idx_quantity",
        SearchParamType.Reference => "idx_reference",
        SearchParamType.Uri => "idx_uri",
        SearchParamType.Composite => "idx_composite",
        _ => throw new InvalidOperationException($"No index table for {type} parameters."),
    };

    private Fragment CompileParameter(ParameterCriterion c, IReadOnlyList<string> types)
    {
        if (c.Code == "_id") return CompileId(c, types);
        if (c.Code == "_lastUpdated") return CompileLastUpdated(c, types);

        var table = Table(c.Type);
        var pid = ParamIds(c.Params);
        var probePid = ProbeParamIds(c.Params);
        if (c.Missing is { } missing)
        {
            var exists = $"EXISTS (SELECT 1 FROM {table} WHERE res_key = {{0}}.res_key AND {probePid})";
            return missing
                ? new Fragment(null, a => "NOT " + string.Format(CultureInfo.InvariantCulture, exists, a), 9, false, true)
                : new Fragment($"SELECT res_key FROM {table} WHERE {pid}", a => string.Format(CultureInfo.InvariantCulture, exists, a), 9, true, true);
        }

        var predicates = c.AnyOf.Select(v => Predicate(c, v)).ToList();
        var any = predicates.Count == 1 ? predicates[0] : "(" + string.Join(" OR ", predicates) + ")";
        string Probe(string a) => $"EXISTS (SELECT 1 FROM {table} WHERE res_key = {a}.res_key AND {probePid} AND {any}{(FenceRowChecks ? dialect.RowCheckEnd : "")})";
        if (c.Modifier == SearchModifier.Not)
            return new Fragment(null, a => "NOT " + Probe(a), 9, false, true);

        // An absolute URL can name a resource of this server (stored as a local reference) or of another (stored as the
        // URL): the set seeks each form through its own index instead of one OR, which SQLite may answer by walking
        // every row of the parameter.
        var setPredicates = c.AnyOf.Any(v => v is ReferenceSearchValue { Url: not null, Id: not null })
            ? c.AnyOf.SelectMany(v => v is ReferenceSearchValue { Url: not null, Id: not null } r ? ReferenceForms(r) : [Predicate(c, v)]).ToList()
            : predicates;
        var set = string.Join(" UNION ALL ", setPredicates.Select(p => $"SELECT res_key FROM {table} WHERE {pid} AND {p}"));
        // (param_id, code, system, res_key): one parameter, one value, code and system given.
        var ordered = c.Type == SearchParamType.Token && c.Modifier == SearchModifier.None && c.Params.Count == 1 && c.AnyOf.Count == 1 &&
                      c.AnyOf[0] is TokenSearchValue { Code: not null, SystemGiven: true, System: not null, TypeSystem: null };
        return new Fragment(set, Probe, Rank(c), Sargable(c), true, ordered);
    }

    /// <summary>
    /// Whether SQLite can seek the set through an index range rather than walk every row of the parameter; only
    /// such sets are worth a row-count probe (a walk that matches little would read the whole parameter).
    /// </summary>
    private static bool Sargable(ParameterCriterion c) => c.AnyOf.All(v => v switch
    {
        TextSearchValue => false,
        TokenSearchValue t => t.Code is not null,
        StringSearchValue => c.Modifier != SearchModifier.Contains,
        DateSearchValue d => d.Prefix is not SearchPrefix.Ne,
        NumberSearchValue => false,
        QuantitySearchValue q => q.Code is not null,
        _ => true,
    });

    private static int Rank(ParameterCriterion c) => (c.Type, c.Modifier) switch
    {
        (SearchParamType.Reference, _) => 1,
        (SearchParamType.Token, SearchModifier.Text) => 8,
        (SearchParamType.Token, _) => 2,
        (SearchParamType.String, SearchModifier.Contains) => 8,
        (SearchParamType.String, SearchModifier.Exact) => 3,
        (SearchParamType.Uri, _) => 3,
        (SearchParamType.Composite, _) => 4,
        (SearchParamType.String, _) => 4,
        (SearchParamType.Quantity, _) => 5,
        (SearchParamType.Number, _) => 6,
        _ => 7,
    };

    private Fragment CompileId(ParameterCriterion c, IReadOnlyList<string> types)
    {
        if (c.Missing is { } missing) return new Fragment(null, _ => missing ? dialect.False : dialect.True, 9, false);
        var ids = AddList(c.AnyOf.Cast<TokenSearchValue>().Select(v => v.Code));
        if (c.Modifier == SearchModifier.Not) return new Fragment(null, a => dialect.NotInList($"{a}.id", ids), 9, false);
        var set = types.Count == 1 ? $"SELECT res_key FROM resources WHERE {TypeFilter(types)} AND {dialect.InList("id", ids)}" : null;
        return new Fragment(set, a => dialect.InList($"{a}.id", ids), 0, set is not null);
    }

    private Fragment CompileLastUpdated(ParameterCriterion c, IReadOnlyList<string> types)
    {
        if (c.Missing is { } missing) return new Fragment(null, _ => missing ? dialect.False : dialect.True, 9, false);
        var predicates = c.AnyOf.Cast<DateSearchValue>().Select(v => DatePredicate(v, "last_updated", "last_updated")).ToList();
        var any = "(" + string.Join(" OR ", predicates) + ")";
        var set = types.Count == 1 ? $"SELECT res_key FROM resources WHERE {TypeFilter(types)} AND {any}" : null;
        return new Fragment(set, a => any.Replace("last_updated", a + ".last_updated"), 7, set is not null);
    }

    // CROSS JOIN fixes SQLite's join order: from the (small) set of matching targets to the references to them,
    // and per row from the resource's references to their targets, never from every reference of the parameter.
    private Fragment CompileChain(ChainCriterion c)
    {
        var sets = new List<string>();
        var rows = new List<Func<string, string>>();
        foreach (var target in c.Targets)
        {
            var inner = Compile(target.Inner, [target.Type]);
            var restriction = RestrictionRow(target.Type, "t");
            var type = Add(target.Type);
            var extra = restriction is null ? "" : " AND " + restriction;
            var innerRow = inner.Row("t");
            var from = inner.Set is not null ? $"t.res_key IN ({inner.Set}) AND {dialect.NoIndex("t.type")} = {type}" : $"t.type = {type} AND {innerRow}";
            foreach (var reference in c.References)
            {
                var pid = Add(reference.Id);
                sets.Add($"SELECT x.res_key FROM resources t CROSS JOIN idx_reference x WHERE {from} AND t.deleted = 0{extra} " +
                         $"AND x.param_id = {pid} AND x.target_id = t.id AND x.target_type = t.type");
                rows.Add(a => $"EXISTS (SELECT 1 FROM idx_reference x CROSS JOIN resources t WHERE x.res_key = {a}.res_key AND {dialect.NoIndex("x.param_id")} = {pid} " +
                              $"AND t.type = x.target_type AND t.id = x.target_id AND x.target_type = {type} AND t.deleted = 0 AND {innerRow}{extra})");
            }
        }
        var set = string.Join(" UNION ALL ", sets);
        return new Fragment(set, a => "(" + string.Join(" OR ", rows.Select(r => r(a))) + ")", 5, true, true);
    }

    private Fragment CompileHas(HasCriterion h, string targetType)
    {
        var inner = Compile(h.Inner, [h.SourceType]);
        var restriction = RestrictionRow(h.SourceType, "s");
        var extra = restriction is null ? "" : " AND " + restriction;
        var sourceType = Add(h.SourceType);
        var sources = inner.Set is not null
            ? $"SELECT s.res_key FROM resources s WHERE s.res_key IN ({inner.Set}) AND {dialect.NoIndex("s.type")} = {sourceType} AND {dialect.NoIndex("s.deleted")} = 0{extra}"
            : $"SELECT s.res_key FROM resources s WHERE s.type = {sourceType} AND s.deleted = 0 AND {inner.Row("s")}{extra}";
        var pid = Add(h.Reference.Id);
        var target = Add(targetType);
        var set = $"SELECT t.res_key FROM ({sources}) q CROSS JOIN idx_reference x CROSS JOIN resources t " +
                  $"WHERE x.res_key = q.res_key AND {dialect.NoIndex("x.param_id")} = {pid} AND {dialect.NoIndex("x.target_type")} = {target} AND t.type = x.target_type AND t.id = x.target_id";
        var innerRow = inner.Row("s");
        string Row(string a) =>
            $"EXISTS (SELECT 1 FROM idx_reference x CROSS JOIN resources s WHERE x.param_id = {pid} AND x.target_id = {a}.id " +
            $"AND x.target_type = {target} AND s.res_key = x.res_key AND {innerRow}{extra})";
        return new Fragment(set, Row, 5, true);
    }

    private string Predicate(ParameterCriterion c, SearchValue v) => v switch
    {
        StringSearchValue s => StringPredicate(c.Modifier, s, "value_norm", "value"),
        TokenSearchValue t => TokenPredicate(t, "system", "code"),
        TextSearchValue t => TextPredicate(t.Normalized, "text"),
        DateSearchValue d => DatePredicate(d, "lo", "hi"),
        NumberSearchValue n => NumberPredicate(n.Prefix, n.Value, n.Lo, n.Hi, "lo", "hi"),
        QuantitySearchValue q => QuantityPredicate(q, "system", "code", "lo", "hi"),
        ReferenceSearchValue r => ReferencePredicate(r),
        UriSearchValue u => UriPredicate(c.Modifier, u.Uri, "uri"),
        CompositeSearchValue cv => CompositePredicate(c.Params[0], cv),
        _ => throw new InvalidOperationException("Unknown value " + v.GetType().Name),
    };

    // Strings sort by UTF-8 bytes (BINARY collation); every string that starts with v sorts below v + U+10FFFF.
    private static string PrefixUpperBound(string v) => v + char.ConvertFromUtf32(0x10FFFF);

    private static string LikeEscape(string v) => v.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    private string StringPredicate(SearchModifier modifier, StringSearchValue s, string normColumn, string? exactColumn) => modifier switch
    {
        SearchModifier.Exact when exactColumn is not null => $"{normColumn} = {Add(s.Normalized)} AND {exactColumn} = {Add(s.Raw)}",
        SearchModifier.Contains => $"{normColumn} LIKE {Add("%" + LikeEscape(s.Normalized) + "%")} ESCAPE '\\'",
        _ => $"{normColumn} >= {Add(s.Normalized)} AND {normColumn} < {Add(PrefixUpperBound(s.Normalized))}",
    };

    private string TokenPredicate(TokenSearchValue t, string systemColumn, string codeColumn)
    {
        var parts = new List<string>();
        if (t.Code is not null) parts.Add($"{codeColumn} = {Add(t.Code)}");
        if (t.SystemGiven) parts.Add(t.System is null ? $"{systemColumn} IS NULL" : $"{systemColumn} = {Add(t.System)}");
        if (t.TypeSystem is not null) parts.Add($"type_system = {Add(t.TypeSystem)} AND type_code = {Add(t.TypeCode)}");
        return "(" + string.Join(" AND ", parts) + ")";
    }

    private string TextPredicate(string normalized, string column)
    {
        var v = LikeEscape(normalized);
        return $"({column} LIKE {Add(v + "%")} ESCAPE '\\' OR {column} LIKE {Add("% " + v + "%")} ESCAPE '\\')";
    }

    /// <summary>
    /// R4 §3.1.1.4.3 (date): values are ranges. eq: the value's range lies within the query's; gt/lt: the value
    /// reaches beyond the query range; ge/le: that or eq; sa/eb: entirely after/before; ap: overlaps the query
    /// range widened by 10% of its distance from now.
    /// </summary>
    internal string DatePredicate(DateSearchValue d, string lo, string hi)
    {
        string qlo() => Add(d.Lo);
        string qhi() => Add(d.Hi);
        switch (d.Prefix)
        {
            case SearchPrefix.Eq: return $"({lo} >= {qlo()} AND {hi} <= {qhi()})";
            case SearchPrefix.Ne: return $"NOT ({lo} >= {qlo()} AND {hi} <= {qhi()})";
            case SearchPrefix.Gt: return $"({hi} > {qhi()})";
            case SearchPrefix.Lt: return $"({lo} < {qlo()})";
            // The redundant bound on hi (hi >= lo) lets SQLite seek the (param_id, hi) index.
            case SearchPrefix.Ge: return $"({hi} >= {qlo()} AND ({hi} > {qhi()} OR ({lo} >= {qlo()} AND {hi} <= {qhi()})))";
            // The redundant bounds on lo (lo <= hi) let SQLite seek the (param_id, lo, hi) index.
            case SearchPrefix.Le: return $"({lo} <= {qhi()} AND ({lo} < {qlo()} OR ({lo} >= {qlo()} AND {hi} <= {qhi()})))";
            case SearchPrefix.Sa: return $"({lo} > {qhi()})";
            case SearchPrefix.Eb: return $"({lo} < {qlo()} AND {hi} < {qlo()})";
            default:
            {
                var now = DateTime.UtcNow.Ticks;
                var distance = Math.Max(Math.Abs(now - d.Lo), Math.Abs(now - d.Hi));
                var widen = distance / 10;
                var from = d.Lo - widen < 0 ? 0 : d.Lo - widen;
                var to = d.Hi > long.MaxValue - widen ? long.MaxValue : d.Hi + widen;
                return $"({lo} <= {Add(to)} AND {hi} >= {Add(from)})";
            }
        }
    }

    /// <summary>
    /// R4 §3.1.1.4.1 (number): a stored value is compared by its midpoint. eq/ne use the range the search value's
    /// precision implies (100 → [99.5, 100.5)); the ordering prefixes use the exact search value; ap is ±10%.
    /// </summary>
    private string NumberPredicate(SearchPrefix prefix, decimal value, double qlo, double qhi, string lo, string hi)
    {
        var mid = $"(({lo} + {hi}) / 2.0)";
        var v = (double)value;
        switch (prefix)
        {
            case SearchPrefix.Eq: return $"({mid} >= {Add(qlo)} AND {mid} < {Add(qhi)})";
            case SearchPrefix.Ne: return $"NOT ({mid} >= {Add(qlo)} AND {mid} < {Add(qhi)})";
            case SearchPrefix.Gt or SearchPrefix.Sa: return $"({mid} > {Add(v)})";
            case SearchPrefix.Lt or SearchPrefix.Eb: return $"({mid} < {Add(v)})";
            case SearchPrefix.Ge: return $"({mid} >= {Add(v)})";
            case SearchPrefix.Le: return $"({mid} <= {Add(v)})";
            default:
            {
                var widen = Math.Max(Math.Abs(v) * 0.1, (qhi - qlo) / 2);
                return $"({mid} >= {Add(v - widen)} AND {mid} <= {Add(v + widen)})";
            }
        }
    }

    private string QuantityPredicate(QuantitySearchValue q, string systemColumn, string codeColumn, string lo, string hi)
    {
        var sb = new StringBuilder(NumberPredicate(q.Prefix, q.Value, q.Lo, q.Hi, lo, hi));
        if (q.Code is not null) sb.Append($" AND {codeColumn} = {Add(q.Code)}");
        if (q.System is not null) sb.Append($" AND {systemColumn} = {Add(q.System)}");
        return "(" + sb + ")";
    }

    private string ReferencePredicate(ReferenceSearchValue r)
    {
        var forms = ReferenceForms(r);
        return forms.Length == 1 ? forms[0] : $"({forms[0]} OR {forms[1]})";
    }

    /// <summary>The stored forms a reference value matches: its URL, its local Type/id, or either.</summary>
    private string[] ReferenceForms(ReferenceSearchValue r)
    {
        var local = r.Id is null ? null
            : r.Type is null ? $"target_id = {Add(r.Id)}"
            : $"(target_id = {Add(r.Id)} AND target_type = {Add(r.Type)})";
        if (r.Url is null) return [local!];
        var url = r.Version is null ? $"url = {Add(r.Url)}" : $"(url = {Add(r.Url)} AND url_version = {Add(r.Version)})";
        return local is null ? [url] : [url, local];
    }

    private string UriPredicate(SearchModifier modifier, string uri, string column) => modifier switch
    {
        SearchModifier.Below => $"({column} >= {Add(uri)} AND {column} < {Add(PrefixUpperBound(uri))})",
        SearchModifier.Above => InList(column, AncestorsOf(uri)),
        _ => $"{column} = {Add(uri)}",
    };

    /// <summary>The URIs <paramref name="uri"/> is "below": itself and each prefix ending at a '/'.</summary>
    private static List<string> AncestorsOf(string uri)
    {
        var list = new List<string> { uri };
        for (var i = uri.Length - 1; i > 0; i--)
        {
            if (uri[i] != '/') continue;
            list.Add(uri[..i]);
            list.Add(uri[..(i + 1)]);
        }
        return list;
    }

    private string CompositePredicate(SearchParam param, CompositeSearchValue cv)
    {
        var parts = new List<string>();
        for (var i = 0; i < cv.Components.Count; i++)
        {
            var n = (i + 1).ToString(CultureInfo.InvariantCulture);
            string system = $"c{n}_system", code = $"c{n}_code", lo = $"c{n}_lo", hi = $"c{n}_hi";
            parts.Add(cv.Components[i] switch
            {
                TokenSearchValue t => TokenPredicate(t, system, code),
                StringSearchValue s => StringPredicate(SearchModifier.None, s, code, null),
                UriSearchValue u => $"{code} = {Add(u.Uri)}",
                ReferenceSearchValue r when r.Type is not null && r.Id is not null => $"{code} = {Add(r.Type + "/" + r.Id)}",
                ReferenceSearchValue r when r.Id is not null => $"({code} = {Add(r.Id)} OR {code} LIKE {Add("%/" + LikeEscape(r.Id))} ESCAPE '\\')",
                ReferenceSearchValue r => $"{code} = {Add(r.Url)}",
                DateSearchValue d => DatePredicate(d, lo, hi),
                NumberSearchValue num => NumberPredicate(num.Prefix, num.Value, num.Lo, num.Hi, lo, hi),
                QuantitySearchValue q => QuantityPredicate(q, system, code, lo, hi),
                var other => throw new InvalidOperationException($"Component value {other.GetType().Name} of {param.Code}."),
            });
        }
        return "(" + string.Join(" AND ", parts) + ")";
    }

    /// <summary>The SQL expression of a sort key for resources row <paramref name="alias"/>: min for ascending, max for descending.</summary>
    public string SortExpression(SortKey key, string alias)
    {
        if (key.Code == "_id") return $"{alias}.id";
        if (key.Code == "_lastUpdated") return $"{alias}.last_updated";
        var agg = key.Descending ? "max" : "min";
        var (table, column) = key.Type switch
        {
            SearchParamType.String => ("idx_string", "value_norm"),
            SearchParamType.Token => ("idx_token", "code"),
            SearchParamType.Date => ("idx_date", key.Descending ? "hi" : "lo"),
            SearchParamType.Number => ("idx_number", "(lo + hi) / 2.0"),
            SearchParamType.Quantity => ("idx_quantity", "(lo + hi) / 2.0"),
            SearchParamType.Reference => ("idx_reference", "coalesce(url, target_type || '/' || target_id)"),
            SearchParamType.Uri => ("idx_uri", "uri"),
            _ => throw new InvalidOperationException($"Cannot sort by {key.Type}."),
        };
        return $"(SELECT {agg}({column}) FROM {table} WHERE res_key = {alias}.res_key AND {ProbeParamIds(key.Params)})";
    }
}
