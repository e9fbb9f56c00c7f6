using System.Data.Common;
using System.Linq.Expressions;
using System.Runtime.CompilerServices;
using Ignis.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Ignis.Server.Auth;

/// <summary>
/// The user of a code exchange or refresh, read on SQLite with a prepared statement (<see cref="PreparedReads"/>):
/// EF Core prepared its query again on every request (docs/benchmarks.md, "Issue 3"). The statement and the mapping
/// are made from the EF Core model, so every mapped column of <see cref="IgnisUser"/> is read, as EF Core would, and
/// a column added to the model later is read too. When the model maps a property in a way a plain column read could
/// get wrong (a value converter, a shadow property, a table split), <see cref="For"/> answers null and the caller
/// uses EF Core. The user is not tracked: the token endpoint only reads it.
/// </summary>
internal sealed class PreparedUserRead
{
    private PreparedUserRead(string sql, Func<DbDataReader, IgnisUser> read)
    {
        Sql = sql;
        Read = read;
    }

    /// <summary>SELECT of every mapped column by the primary key, parameter <c>@id</c>.</summary>
    public string Sql { get; }

    /// <summary>The user of the current row.</summary>
    public Func<DbDataReader, IgnisUser> Read { get; }

    private sealed record Holder(PreparedUserRead? Read);

    private static readonly ConditionalWeakTable<IModel, Holder> ByModel = new();

    /// <summary>The read for this model; null when EF Core must read the user (see the class).</summary>
    public static PreparedUserRead? For(IModel model) => ByModel.GetValue(model, m => new Holder(Build(m))).Read;

    private static PreparedUserRead? Build(IModel model)
    {
        if (model.FindEntityType(typeof(IgnisUser)) is not { } entity || entity.GetTableName() is not { } table) return null;
        if (entity.FindPrimaryKey() is not { Properties: [{ Name: nameof(IgnisUser.Id) } key] }) return null;
        var store = StoreObjectIdentifier.Table(table, entity.GetSchema());
        var reader = Expression.Parameter(typeof(DbDataReader), "reader");
        var user = Expression.Variable(typeof(IgnisUser), "user");
        var body = new List<Expression> { Expression.Assign(user, Expression.New(typeof(IgnisUser))) };
        var columns = new List<string>();
        foreach (var property in entity.GetProperties())
        {
            if (property.PropertyInfo is not { CanWrite: true } info || property.IsShadowProperty()
                || property.GetTypeMapping().Converter is not null || property.GetColumnName(store) is not { } column)
                return null;
            var ordinal = Expression.Constant(columns.Count);
            columns.Add("\"" + column.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"");
            var type = property.ClrType;
            var stored = Nullable.GetUnderlyingType(type) ?? type;
            Expression value = Expression.Call(reader, nameof(DbDataReader.GetFieldValue), [stored], ordinal);
            if (stored != type) value = Expression.Convert(value, type);
            if (!type.IsValueType || stored != type)
                value = Expression.Condition(Expression.Call(reader, nameof(DbDataReader.IsDBNull), null, ordinal), Expression.Default(type), value);
            body.Add(Expression.Assign(Expression.Property(user, info), value));
        }
        body.Add(user);
        var read = Expression.Lambda<Func<DbDataReader, IgnisUser>>(Expression.Block([user], body), reader).Compile();
        var schema = entity.GetSchema() is { } s ? "\"" + s + "\"." : "";
        var sql = "SELECT " + string.Join(", ", columns) + " FROM " + schema + "\"" + table + "\" WHERE \"" + key.GetColumnName(store) + "\" = @id";
        return new PreparedUserRead(sql, read);
    }
}
