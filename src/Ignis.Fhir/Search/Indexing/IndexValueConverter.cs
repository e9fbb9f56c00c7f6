using System.Globalization;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Indexing;

/// <summary>
/// Turns the elements a search parameter's expression selects into index rows, following the FHIR search
/// rules for each parameter type (R4 §3.1.1.4). Values of a type a parameter type cannot index are ignored.
/// </summary>
internal static class IndexValueConverter
{
    private const string CurrencySystem = "urn:iso:std:iso:4217";
    private static readonly long MinTicks = DateTime.MinValue.Ticks;
    private static readonly long MaxTicks = DateTime.MaxValue.Ticks;

    public static void Add(ResourceIndex index, SearchParamType type, int paramId, Base value)
    {
        switch (type)
        {
            case SearchParamType.String: AddString(index.Strings, paramId, value); break;
            case SearchParamType.Token: AddToken(index.Tokens, paramId, value); break;
            case SearchParamType.Date: AddDate(index.Dates, paramId, value); break;
            case SearchParamType.Number: AddNumber(index.Numbers, paramId, value); break;
            case SearchParamType.Quantity: AddQuantity(index.Quantities, paramId, value); break;
            case SearchParamType.Reference: AddReference(index.References, paramId, value); break;
            case SearchParamType.Uri: AddUri(index.Uris, paramId, value); break;
        }
    }

    /// <summary>The value of a primitive as FHIR writes it ("true", "1.50", "2020-01-02"), or null.</summary>
    public static string? PrimitiveString(PrimitiveType primitive) => primitive.JsonValue switch
    {
        null => null,
        string s => s,
        bool b => b ? "true" : "false",
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        var o => o.ToString(),
    };

    private static string? StringOf(Base? value) =>
        value is PrimitiveType p && PrimitiveString(p) is { Length: > 0 } s ? s : null;

    public static void AddString(List<StringEntry> rows, int paramId, Base value)
    {
        switch (value)
        {
            case HumanName name:
                AddString(rows, paramId, name.FamilyElement);
                AddStrings(rows, paramId, name.GivenElement);
                AddStrings(rows, paramId, name.PrefixElement);
                AddStrings(rows, paramId, name.SuffixElement);
                AddString(rows, paramId, name.TextElement);
                break;
            case Address address:
                AddStrings(rows, paramId, address.LineElement);
                AddString(rows, paramId, address.CityElement);
                AddString(rows, paramId, address.DistrictElement);
                AddString(rows, paramId, address.StateElement);
                AddString(rows, paramId, address.PostalCodeElement);
                AddString(rows, paramId, address.CountryElement);
                AddString(rows, paramId, address.TextElement);
                break;
            case PrimitiveType:
                AddString(rows, paramId, (PrimitiveType)value);
                break;
        }
    }

    private static void AddStrings(List<StringEntry> rows, int paramId, List<FhirString>? values)
    {
        if (values is null) return;
        foreach (var v in values) AddString(rows, paramId, v);
    }

    private static void AddString(List<StringEntry> rows, int paramId, PrimitiveType? value)
    {
        if (StringOf(value) is { } s) rows.Add(new StringEntry(paramId, SearchValues.NormalizeString(s), s));
    }

    public static void AddToken(List<TokenEntry> rows, int paramId, Base value)
    {
        switch (value)
        {
            case Coding coding:
                AddCoding(rows, paramId, coding);
                break;
            case CodeableConcept concept:
                var first = rows.Count;
                if (concept.Coding is { } codings)
                {
                    foreach (var c in codings) AddCoding(rows, paramId, c);
                }
                // The text gets a row of its own (for :text) unless a coding's row already carries the same text (its
                // display, as usual when a system's display is copied into text): :text matches the text column of
                // any row of the parameter, so such a row would only cost three B-tree insertions per write.
                if (!string.IsNullOrEmpty(concept.Text))
                {
                    var text = SearchValues.NormalizeString(concept.Text);
                    if (!HasText(rows, first, text)) rows.Add(new TokenEntry(paramId, null, null, text));
                }
                break;
            case Identifier identifier:
                AddIdentifier(rows, paramId, identifier);
                break;
            case ContactPoint contact:
                // R4 §3.1.1.4.10: a token on ContactPoint matches ContactPoint.value; ContactPoint.system is a
                // code (phone, email), not a URI, so it is not the token's system.
                if (!string.IsNullOrEmpty(contact.Value)) rows.Add(new TokenEntry(paramId, null, contact.Value, null));
                break;
            case PrimitiveType primitive:
                if (StringOf(primitive) is { } code) rows.Add(new TokenEntry(paramId, null, code, null));
                break;
        }
    }

    private static bool HasText(List<TokenEntry> rows, int from, string text)
    {
        for (var i = from; i < rows.Count; i++)
            if (string.Equals(rows[i].Text, text, StringComparison.Ordinal)) return true;
        return false;
    }

    private static void AddCoding(List<TokenEntry> rows, int paramId, Coding coding)
    {
        var system = NullIfEmpty(coding.System);
        var code = NullIfEmpty(coding.Code);
        var text = string.IsNullOrEmpty(coding.Display) ? null : SearchValues.NormalizeString(coding.Display);
        if (system is null && code is null && text is null) return;
        rows.Add(new TokenEntry(paramId, system, code, text));
    }

    private static void AddIdentifier(List<TokenEntry> rows, int paramId, Identifier identifier)
    {
        var system = NullIfEmpty(identifier.System);
        var value = NullIfEmpty(identifier.Value);
        if (system is null && value is null) return;
        var type = identifier.Type;
        var text = string.IsNullOrEmpty(type?.Text) ? null : SearchValues.NormalizeString(type.Text);
        var typed = false;
        if (type?.Coding is { } typeCodings)
        {
            foreach (var t in typeCodings)
            {
                if (t.Code is null) continue;
                rows.Add(new TokenEntry(paramId, system, value, text, NullIfEmpty(t.System), t.Code));
                typed = true;
            }
        }
        if (!typed) rows.Add(new TokenEntry(paramId, system, value, text));
    }

    public static void AddDate(List<DateEntry> rows, int paramId, Base value)
    {
        switch (value)
        {
            case Period period:
                AddPeriod(rows, paramId, period);
                break;
            case Timing timing:
                foreach (var e in timing.EventElement ?? []) AddDate(rows, paramId, e);
                if (timing.Repeat?.Bounds is Period bounds) AddPeriod(rows, paramId, bounds);
                break;
            case Date or FhirDateTime or Instant:
                if (StringOf(value) is { } s && SearchValues.TryParseDateRange(s, out var lo, out var hi))
                    rows.Add(new DateEntry(paramId, lo, hi));
                break;
        }
    }

    private static void AddPeriod(List<DateEntry> rows, int paramId, Period period)
    {
        var hasStart = TryRange(period.Start, out var lo, out _);
        var hasEnd = TryRange(period.End, out _, out var hi);
        if (!hasStart && !hasEnd) return;
        rows.Add(new DateEntry(paramId, hasStart ? lo : MinTicks, hasEnd ? hi : MaxTicks));
    }

    private static bool TryRange(string? value, out long lo, out long hi)
    {
        lo = hi = 0;
        return !string.IsNullOrEmpty(value) && SearchValues.TryParseDateRange(value, out lo, out hi);
    }

    public static void AddNumber(List<NumberEntry> rows, int paramId, Base value)
    {
        if (TryNumberRange(value, out var lo, out var hi)) rows.Add(new NumberEntry(paramId, lo, hi));
    }

    private static bool TryNumberRange(Base value, out double lo, out double hi)
    {
        lo = hi = 0;
        switch (value)
        {
            case FhirDecimal { Value: { } d }:
                (lo, hi) = SearchValues.NumberRange(d);
                return true;
            // An integer is exact: it has no fractional digits whose absence would widen the range, so
            // "5" covers [5, 5] and matches 5 and 5.0 but not 5.4 (which a decimal "5" would match).
            case Integer { Value: { } i }:
                lo = hi = i;
                return true;
            case PositiveInt { Value: { } pi }:
                lo = hi = pi;
                return true;
            case UnsignedInt { Value: { } ui }:
                lo = hi = ui;
                return true;
            case Integer64 { Value: { } l }:
                lo = hi = l;
                return true;
            case Quantity { Value: { } qv }:
                (lo, hi) = SearchValues.NumberRange(qv);
                return true;
            case Hl7.Fhir.Model.Range range:
                return TryRangeBounds(range, out lo, out hi);
            default:
                return false;
        }
    }

    // An open end of a Range extends to the end of the number line (double.MinValue/MaxValue rather than
    // infinities, which not every database column accepts).
    private static bool TryRangeBounds(Hl7.Fhir.Model.Range range, out double lo, out double hi)
    {
        var low = range.Low?.Value;
        var high = range.High?.Value;
        lo = low is { } l ? SearchValues.NumberRange(l).Lo : double.MinValue;
        hi = high is { } h ? SearchValues.NumberRange(h).Hi : double.MaxValue;
        return low is not null || high is not null;
    }

    public static void AddQuantity(List<QuantityEntry> rows, int paramId, Base value)
    {
        switch (value)
        {
            case Quantity { Value: { } v } q:
            {
                var (lo, hi) = SearchValues.NumberRange(v);
                var code = NullIfEmpty(q.Code);
                var unit = NullIfEmpty(q.Unit);
                rows.Add(new QuantityEntry(paramId, NullIfEmpty(q.System), code ?? unit, lo, hi));
                // "value-quantity=5||mg" matches Quantity.code or Quantity.unit (R4 §3.1.1.4.8); a coded quantity
                // whose unit differs from its code also gets a system-less row for the unit.
                if (code is not null && unit is not null && unit != code)
                    rows.Add(new QuantityEntry(paramId, null, unit, lo, hi));
                break;
            }
            case Money { Value: { } amount } money:
            {
                var (lo, hi) = SearchValues.NumberRange(amount);
                // Read through the element map: the typed CurrencyElement getter throws on a plain code.
                var currency = money.TryGetValue("currency", out var c) && c is PrimitiveType p ? NullIfEmpty(PrimitiveString(p)) : null;
                rows.Add(new QuantityEntry(paramId, currency is null ? null : CurrencySystem, currency, lo, hi));
                break;
            }
            case Hl7.Fhir.Model.Range range when TryRangeBounds(range, out var lo, out var hi):
            {
                var unitSource = range.Low?.Value is not null ? range.Low : range.High;
                rows.Add(new QuantityEntry(paramId, NullIfEmpty(unitSource?.System),
                    NullIfEmpty(unitSource?.Code) ?? NullIfEmpty(unitSource?.Unit), lo, hi));
                break;
            }
        }
    }

    public static void AddReference(List<ReferenceEntry> rows, int paramId, Base value)
    {
        switch (value)
        {
            case ResourceReference reference:
            {
                var parsed = ReferenceParser.Parse(reference.Reference);
                if (!parsed.IsEmpty) rows.Add(new ReferenceEntry(paramId, parsed.TargetType, parsed.TargetId, parsed.Url));
                break;
            }
            case Canonical or FhirUri or FhirUrl or Oid or Uuid:
            {
                if (StringOf(value) is not { } s) break;
                var (url, version) = ReferenceParser.SplitCanonical(s);
                rows.Add(new ReferenceEntry(paramId, null, null, url, version));
                break;
            }
            case Resource { Id: { Length: > 0 } id } resource:
                // Bundle.composition / Bundle.message select the first entry's resource itself.
                rows.Add(new ReferenceEntry(paramId, resource.TypeName, id, null));
                break;
        }
    }

    public static void AddUri(List<UriEntry> rows, int paramId, Base value)
    {
        if (value is PrimitiveType && StringOf(value) is { } s) rows.Add(new UriEntry(paramId, s));
    }

    private static string? NullIfEmpty(string? s) => string.IsNullOrEmpty(s) ? null : s;
}
