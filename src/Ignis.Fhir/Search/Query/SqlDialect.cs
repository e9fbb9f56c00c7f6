using System.Data.Common;
using Microsoft.Data.Sqlite;

namespace Ignis.Fhir.Search.Query;

/// <summary>
/// The few SQL fragments in which SQLite and PostgreSQL differ; the search compiler and engine write everything
/// else once. The SQLite dialect produces exactly the SQL Ignis used before PostgreSQL support (same plans).
/// </summary>
internal abstract class SqlDialect
{
    public static readonly SqlDialect Sqlite = new SqliteDialect();
    public static readonly SqlDialect Postgres = new PostgresDialect();

    public static SqlDialect For(DbConnection connection) => connection is SqliteConnection ? Sqlite : Postgres;

    /// <summary>A predicate that is never true / always true.</summary>
    public abstract string False { get; }
    public abstract string True { get; }

    /// <summary>
    /// <paramref name="expression"/> marked as "do not drive the query by an index on this" (SQLite's unary +);
    /// PostgreSQL's planner decides by statistics, so the expression is left as is.
    /// </summary>
    public abstract string NoIndex(string expression);

    /// <summary>The parameter value of a list: a JSON array for SQLite's json_each, a typed array for PostgreSQL.</summary>
    public abstract object ListValue<T>(IEnumerable<T> values);

    /// <summary><paramref name="column"/> is one of the list parameter <paramref name="list"/> (made by <see cref="ListValue{T}"/>).</summary>
    public abstract string InList(string column, string list);

    public abstract string NotInList(string column, string list);

    /// <summary>
    /// Ends the subquery of an EXISTS check on one resources row (when <see cref="SqlCompiler.FenceRowChecks"/>). PostgreSQL would flatten such an EXISTS into a semi
    /// join and reorder it by its row estimates, which on the index tables can be off by 10-20x (one table holds every
    /// parameter): it then drives a page by a check the engine's probes found large (seen on 8M resources:
    /// <c>Observation?code=…&amp;date=ge…</c> joined 200,000 date rows instead of walking the type in order for 21 matches,
    /// 4.5 s warm). <c>OFFSET 0</c> keeps the subquery a per-row check, so the plan is the one the engine chose by
    /// probing, as on SQLite.
    /// </summary>
    public abstract string RowCheckEnd { get; }

    /// <summary>
    /// Whether a page driven by a set whose terms read only the index tables is read from the set's keys alone, without
    /// the resources table (PostgreSQL: no heap fetch per candidate). SQLite keeps its plans (resources by rowid).
    /// </summary>
    public abstract bool PageFromKeys { get; }

    private sealed class SqliteDialect : SqlDialect
    {
        public override string False => "0";
        public override string True => "1";
        public override string NoIndex(string expression) => "+" + expression;
        public override string RowCheckEnd => "";
        public override bool PageFromKeys => false;
        public override object ListValue<T>(IEnumerable<T> values) => System.Text.Json.JsonSerializer.Serialize(values.ToArray());
        public override string InList(string column, string list) => $"{column} IN (SELECT value FROM json_each({list}))";
        public override string NotInList(string column, string list) => $"{column} NOT IN (SELECT value FROM json_each({list}))";
    }

    private sealed class PostgresDialect : SqlDialect
    {
        public override string False => "false";
        public override string True => "true";
        public override string NoIndex(string expression) => expression;
        public override string RowCheckEnd => " OFFSET 0";
        public override bool PageFromKeys => true;
        public override object ListValue<T>(IEnumerable<T> values) => values.ToArray();
        public override string InList(string column, string list) => $"{column} = ANY({list})";
        public override string NotInList(string column, string list) => $"NOT ({column} = ANY({list}))";
    }
}
