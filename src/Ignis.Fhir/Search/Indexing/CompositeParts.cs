using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Indexing;

/// <summary>
/// The value of one composite component in the columns its type uses (see idx_composite in the schema):
/// token → System/Code; quantity → System/Code/Lo/Hi; date → Lo/Hi in ticks; number → Lo/Hi;
/// string → Code = normalized string; reference → Code = "Type/id" (or the URL); uri → Code = uri.
/// </summary>
internal static class CompositeParts
{
    /// <param name="scratch">Reused between calls of one extraction; its lists are cleared here.</param>
    public static void Add(SearchParamType type, List<Base> values, List<CompositePart> parts, ResourceIndex scratch)
    {
        scratch.Strings.Clear();
        scratch.Tokens.Clear();
        scratch.Dates.Clear();
        scratch.Numbers.Clear();
        scratch.Quantities.Clear();
        scratch.References.Clear();
        scratch.Uris.Clear();
        foreach (var v in values) IndexValueConverter.Add(scratch, type, 0, v);
        switch (type)
        {
            case SearchParamType.Token:
                foreach (var t in scratch.Tokens)
                {
                    if (t.Code is not null) AddDistinct(parts, new CompositePart(t.System, t.Code, null, null));
                }
                break;
            case SearchParamType.Quantity:
                foreach (var q in scratch.Quantities) AddDistinct(parts, new CompositePart(q.System, q.Code, q.Lo, q.Hi));
                break;
            case SearchParamType.Date:
                foreach (var d in scratch.Dates) AddDistinct(parts, new CompositePart(null, null, d.Lo, d.Hi));
                break;
            case SearchParamType.Number:
                foreach (var n in scratch.Numbers) AddDistinct(parts, new CompositePart(null, null, n.Lo, n.Hi));
                break;
            case SearchParamType.String:
                foreach (var s in scratch.Strings) AddDistinct(parts, new CompositePart(null, s.ValueNorm, null, null));
                break;
            case SearchParamType.Reference:
                foreach (var r in scratch.References)
                {
                    var code = r.TargetType is not null ? r.TargetType + "/" + r.TargetId : r.Url;
                    if (code is not null) AddDistinct(parts, new CompositePart(null, code, null, null));
                }
                break;
            case SearchParamType.Uri:
                foreach (var u in scratch.Uris) AddDistinct(parts, new CompositePart(null, u.Uri, null, null));
                break;
        }
    }

    private static void AddDistinct(List<CompositePart> parts, CompositePart part)
    {
        if (!parts.Contains(part)) parts.Add(part);
    }
}
