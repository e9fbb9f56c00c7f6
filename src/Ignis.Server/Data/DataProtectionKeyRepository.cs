using System.Xml.Linq;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Ignis.Server.Data;

/// <summary>
/// The Data Protection key ring in the auth tables' <c>DataProtectionKeys</c> table (the rows
/// <c>PersistKeysToDbContext</c> reads and writes: FriendlyName, Xml), through plain SQL. Every start reads the key
/// ring; through EF Core that one query brought in EF Core's whole query pipeline (translation, SQL generation, the
/// compiled shaper) on a server that may never run another EF Core query, and it stayed resident (docs/benchmarks.md,
/// "Session 6: idle memory").
/// </summary>
internal sealed class DataProtectionKeyRepository(AuthDatabase database) : IXmlRepository
{
    public IReadOnlyCollection<XElement> GetAllElements()
    {
        var elements = new List<XElement>();
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT \"Xml\" FROM \"DataProtectionKeys\" ORDER BY \"Id\"";
        using var reader = command.ExecuteReader();
        while (reader.Read())
            if (!reader.IsDBNull(0) && reader.GetString(0) is { Length: > 0 } xml) elements.Add(XElement.Parse(xml));
        return elements.AsReadOnly();
    }

    public void StoreElement(XElement element, string friendlyName)
    {
        using var connection = database.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "INSERT INTO \"DataProtectionKeys\" (\"FriendlyName\", \"Xml\") VALUES (@name, @xml)";
        Add(command, "@name", friendlyName);
        Add(command, "@xml", element.ToString(SaveOptions.DisableFormatting));
        command.ExecuteNonQuery();
    }

    private static void Add(System.Data.Common.DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }
}
