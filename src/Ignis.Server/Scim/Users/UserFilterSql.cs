using System.Linq.Expressions;
using Ignis.Server.Data;
using Ignis.Server.Scim.Filter;

namespace Ignis.Server.Scim.Users;

/// <summary>
/// Turns the parts of a bound filter that map onto user columns (id, userName, externalId, active,
/// meta.created, meta.lastModified) into a database predicate. The result is exact when the whole filter
/// translated; otherwise it is a superset that the in-memory evaluation narrows.
/// </summary>
public static class UserFilterSql
{
    public sealed record Translation(Expression<Func<IgnisUser, bool>>? Predicate, bool Exact);

    public static Translation Translate(FilterNode? filter, Func<string, string> normalizeUserName)
    {
        if (filter is null) return new Translation(null, true);
        var user = Expression.Parameter(typeof(IgnisUser), "u");
        var (body, exact) = Visit(filter, user, normalizeUserName);
        return new Translation(body is null ? null : Expression.Lambda<Func<IgnisUser, bool>>(body, user), exact && body is not null);
    }

    private static (Expression? Body, bool Exact) Visit(FilterNode node, ParameterExpression u, Func<string, string> normalize)
    {
        switch (node)
        {
            case AndNode and:
            {
                var (l, le) = Visit(and.Left, u, normalize);
                var (r, re) = Visit(and.Right, u, normalize);
                if (l is not null && r is not null) return (Expression.AndAlso(l, r), le && re);
                return (l ?? r, false);
            }
            case OrNode or:
            {
                var (l, le) = Visit(or.Left, u, normalize);
                var (r, re) = Visit(or.Right, u, normalize);
                return l is not null && r is not null ? (Expression.OrElse(l, r), le && re) : (null, false);
            }
            case NotNode not:
            {
                var (inner, exact) = Visit(not.Inner, u, normalize);
                // Only an exact predicate can be negated: the negation of a superset is not a superset.
                return inner is not null && exact ? (Expression.Not(inner), true) : (null, false);
            }
            case CompareNode compare when compare.Target is { Extension: null, Relative: false } t:
            {
                var predicate = Compare(t, compare.Op, compare.Value, u, normalize);
                return (predicate, predicate is not null);
            }
            case PresentNode present when present.Target is { Extension: null, Relative: false, Sub: null } t:
                return t.Attribute.Name switch
                {
                    "id" or "userName" => (Expression.Constant(true), true),
                    "externalId" => (NotEmpty(Expression.Property(u, nameof(IgnisUser.ExternalId))), true),
                    _ => (null, false),
                };
            default:
                return (null, false);
        }
    }

    private static Expression? Compare(AttributeRef target, CompareOp op, FilterValue value, ParameterExpression u, Func<string, string> normalize)
    {
        if (value.IsNull) return null;
        switch (target.Attribute.Name, target.Sub?.Name)
        {
            case ("id", null) when op is CompareOp.Eq or CompareOp.Ne:
                return Equality(Expression.Property(u, nameof(IgnisUser.Id)), value.String!, op);
            case ("externalId", null) when op is CompareOp.Eq or CompareOp.Ne:
                return Equality(Expression.Property(u, nameof(IgnisUser.ExternalId)), value.String!, op);
            case ("userName", null):
            {
                // userName is case-insensitive: compare the normalized (upper-case) column with the normalized value.
                var column = Expression.Property(u, nameof(IgnisUser.NormalizedUserName));
                var text = normalize(value.String!);
                return op switch
                {
                    CompareOp.Eq or CompareOp.Ne => Equality(column, text, op),
                    CompareOp.Sw => StringCall(column, nameof(string.StartsWith), text),
                    CompareOp.Ew => StringCall(column, nameof(string.EndsWith), text),
                    CompareOp.Co => StringCall(column, nameof(string.Contains), text),
                    _ => null,
                };
            }
            case ("active", null):
            {
                var equal = Expression.Equal(Expression.Property(u, nameof(IgnisUser.Active)), Expression.Constant(value.Bool!.Value));
                return op == CompareOp.Ne ? Expression.Not(equal) : equal;
            }
            case ("meta", "created" or "lastModified") when FilterEvaluator.TryParseDate(value.String!, out var date):
            {
                var column = Expression.Property(u, target.Sub!.Name == "created" ? nameof(IgnisUser.Created) : nameof(IgnisUser.Modified));
                var constant = Expression.Constant(date.UtcDateTime);
                return op switch
                {
                    CompareOp.Eq => Expression.Equal(column, constant),
                    CompareOp.Ne => Expression.NotEqual(column, constant),
                    CompareOp.Gt => Expression.GreaterThan(column, constant),
                    CompareOp.Ge => Expression.GreaterThanOrEqual(column, constant),
                    CompareOp.Lt => Expression.LessThan(column, constant),
                    CompareOp.Le => Expression.LessThanOrEqual(column, constant),
                    _ => null,
                };
            }
            default:
                return null;
        }
    }

    private static Expression Equality(Expression column, string value, CompareOp op)
    {
        var equal = Expression.Equal(column, Expression.Constant(value, typeof(string)));
        // ne matches users without the attribute too, as the in-memory evaluation does.
        return op == CompareOp.Ne ? Expression.Not(Expression.AndAlso(Expression.NotEqual(column, Expression.Constant(null, typeof(string))), equal)) : equal;
    }

    private static Expression StringCall(Expression column, string method, string value) =>
        Expression.AndAlso(
            Expression.NotEqual(column, Expression.Constant(null, typeof(string))),
            Expression.Call(column, typeof(string).GetMethod(method, [typeof(string)])!, Expression.Constant(value, typeof(string))));

    private static Expression NotEmpty(Expression column) =>
        Expression.AndAlso(Expression.NotEqual(column, Expression.Constant(null, typeof(string))),
            Expression.NotEqual(column, Expression.Constant("", typeof(string))));

    /// <summary>The column a sortBy maps to, when the database can sort by it.</summary>
    public static Expression<Func<IgnisUser, object?>>? SortKey(AttributeRef? sort) => sort switch
    {
        null => u => u.NormalizedUserName,
        { Extension: null, Sub: null, Attribute.Name: "id" } => u => u.Id,
        { Extension: null, Sub: null, Attribute.Name: "userName" } => u => u.NormalizedUserName,
        { Extension: null, Sub.Name: "created", Attribute.Name: "meta" } => u => u.Created,
        { Extension: null, Sub.Name: "lastModified", Attribute.Name: "meta" } => u => u.Modified,
        _ => null,
    };
}
