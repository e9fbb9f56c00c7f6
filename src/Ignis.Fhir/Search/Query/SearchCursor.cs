using System.Buffers.Text;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Query;

/// <summary>
/// A keyset position in the result order: the sort values and res_key of one row, and whether the page lies
/// after it (next) or before it (previous). Opaque to clients: base64url of a small JSON array. It holds values,
/// never row numbers, so writes between page fetches neither skip nor repeat unchanged resources.
/// </summary>
/// <param name="Signature">The _sort it was made for; a cursor from another sort is rejected.</param>
/// <param name="Total">The total computed on the first page, carried so later pages need not count again.</param>
internal sealed record SearchCursor(bool Before, object?[] Values, long Key, string Signature, int? Total)
{
    public string Encode()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartArray();
            w.WriteNumberValue(Before ? 1 : 0);
            w.WriteNumberValue(Key);
            w.WriteStringValue(Signature);
            if (Total is { } t) w.WriteNumberValue(t);
            else w.WriteNullValue();
            foreach (var v in Values)
            {
                switch (v)
                {
                    case null: w.WriteNullValue(); break;
                    case long l: w.WriteNumberValue(l); break;
                    case double d: w.WriteNumberValue(d); break;
                    case string s: w.WriteStringValue(s); break;
                    default: w.WriteStringValue(Convert.ToString(v, CultureInfo.InvariantCulture)); break;
                }
            }
            w.WriteEndArray();
        }
        return Base64Url.EncodeToString(stream.ToArray());
    }

    /// <summary>Decodes a cursor for <paramref name="sort"/>; null when it is malformed or was made for another sort.</summary>
    public static SearchCursor? TryDecode(string text, IReadOnlyList<SortKey> sort)
    {
        try
        {
            var bytes = Base64Url.DecodeFromChars(text);
            using var doc = JsonDocument.Parse(bytes);
            var a = doc.RootElement;
            if (a.ValueKind != JsonValueKind.Array || a.GetArrayLength() != 4 + sort.Count) return null;
            var before = a[0].GetInt32() == 1;
            var key = a[1].GetInt64();
            var signature = a[2].GetString() ?? "";
            if (signature != SignatureOf(sort)) return null;
            int? total = a[3].ValueKind == JsonValueKind.Null ? null : a[3].GetInt32();
            var values = new object?[sort.Count];
            for (var i = 0; i < sort.Count; i++)
            {
                var e = a[4 + i];
                if (e.ValueKind == JsonValueKind.Null) continue;
                values[i] = SortSql.ValueKind(sort[i]) switch
                {
                    SortValueKind.Integer => e.GetInt64(),
                    SortValueKind.Real => e.GetDouble(),
                    _ => e.GetString() ?? throw new FormatException(),
                };
            }
            return new SearchCursor(before, values, key, signature, total);
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException or OverflowException)
        {
            return null;
        }
    }

    public static string SignatureOf(IReadOnlyList<SortKey> sort)
    {
        var sb = new StringBuilder();
        foreach (var k in sort) sb.Append(k.Descending ? "-" : "").Append(k.Code).Append(',');
        return sb.ToString();
    }
}

internal enum SortValueKind
{
    Text,
    Integer,
    Real,
}

internal static class SortSql
{
    public static SortValueKind ValueKind(SortKey key) => key.Code switch
    {
        "_id" => SortValueKind.Text,
        "_lastUpdated" => SortValueKind.Integer,
        _ => key.Type switch
        {
            SearchParamType.Date => SortValueKind.Integer,
            SearchParamType.Number or SearchParamType.Quantity => SortValueKind.Real,
            _ => SortValueKind.Text,
        },
    };
}
