using System.Collections.Concurrent;
using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Fhir.Search;
using Ignis.Fhir.Search.Indexing;
using Ignis.Fhir.Serialization;

namespace Ignis.Server.Audit;

/// <summary>
/// The security log's AuditEvents as the store writes them (JSON and index rows), made from a template per kind of event
/// instead of building, serializing and indexing each one. A backend service's token events differ only in their time:
/// the same client, scopes, address and user agent every time. So the first event of each shape (everything but
/// <see cref="SecurityEvent.Recorded"/>) is made the generic way, twice, with two placeholder times and a placeholder id:
/// what changes with the time is found by comparison, and later events of that shape copy the rest and fill in their
/// id, times and the date rows of their time. A shape whose rows or JSON depend on the time in any other way (or whose
/// text contains a placeholder) gets no template, and its events are made the generic way. The tests compare both ways
/// for every kind of event.
/// </summary>
public sealed class AuditEventTemplates(Func<Resource, ResourceIndex> index)
{
    private const int MaxShapes = 256; // a few hundred KiB at most: the log's frequent shapes are few (backend services, apps)
    private const string IdPlaceholder = "ignis-audit-id-placeholder";
    // Times no event has: year 1, with seven fractional digits (events are stamped by the clock, in this millennium).
    private static readonly DateTimeOffset RecordedA = new(1_234_567, TimeSpan.Zero);
    private static readonly DateTimeOffset RecordedB = new(7_654_321, TimeSpan.Zero);
    private static readonly DateTimeOffset UpdatedPlaceholder = new(3_456_789, TimeSpan.Zero);

    private readonly ConcurrentDictionary<SecurityEvent, Template?> _templates = new();

    /// <summary>The event as the store writes it: from its shape's template, or made the generic way.</summary>
    public PreparedResource Prepare(SecurityEvent e)
    {
        if (e.Count != 1) return Generic(e); // a group: a few a second at most, each with its own count and period
        var shape = e with { Recorded = default };
        if (!_templates.TryGetValue(shape, out var template))
        {
            if (_templates.Count >= MaxShapes) _templates.Clear();
            template = Template.Create(shape, index);
            _templates[shape] = template;
        }
        return template?.Fill(e.Recorded) ?? Generic(e);
    }

    /// <summary>The generic way: the AuditEvent resource, serialized and indexed as any create.</summary>
    public PreparedResource Generic(SecurityEvent e)
    {
        var audit = AuditEventMapper.ToAuditEvent(e);
        return new GenericResource(audit, index(audit));
    }

    /// <summary>For tests: whether <paramref name="prepared"/> was made from a template.</summary>
    internal static bool IsFromTemplate(PreparedResource prepared) => prepared is not GenericResource;

    private static string Text(DateTimeOffset time) => new Instant(time).ToString()!;

    private sealed class GenericResource(Resource resource, ResourceIndex rows) : PreparedResource
    {
        public override ResourceIndex Index => rows;

        public override string ToJson(string id, long lastUpdated)
        {
            // As FhirService.Store sets them for a create.
            resource.Id = id;
            resource.Meta ??= new Meta();
            resource.Meta.VersionId = "1";
            resource.Meta.LastUpdated = new DateTimeOffset(lastUpdated, TimeSpan.Zero);
            return FhirSerializer.ToJson(resource);
        }
    }

    private enum Slot { Id, LastUpdated, Recorded }

    /// <summary>One shape: its JSON cut at the id and the two times, its index rows, and which date rows are its time's.</summary>
    private sealed class Template
    {
        private readonly string[] _parts;      // the JSON between the slots: _slots.Length + 1 pieces
        private readonly Slot[] _slots;        // in the order they occur
        private readonly ResourceIndex _rows;  // with placeholder times in the date rows listed in _recordedDates
        private readonly int[] _recordedDates;

        private Template(string[] parts, Slot[] slots, ResourceIndex rows, int[] recordedDates)
        {
            _parts = parts;
            _slots = slots;
            _rows = rows;
            _recordedDates = recordedDates;
        }

        public static Template? Create(SecurityEvent shape, Func<Resource, ResourceIndex> index)
        {
            var a = AuditEventMapper.ToAuditEvent(shape with { Recorded = RecordedA });
            var b = AuditEventMapper.ToAuditEvent(shape with { Recorded = RecordedB });
            // The index rows as a create extracts them: before the id and meta are set.
            var rowsA = index(a);
            var rowsB = index(b);
            if (!Same(rowsA.Strings, rowsB.Strings) || !Same(rowsA.Tokens, rowsB.Tokens) || !Same(rowsA.Numbers, rowsB.Numbers)
                || !Same(rowsA.Quantities, rowsB.Quantities) || !Same(rowsA.References, rowsB.References)
                || !Same(rowsA.Uris, rowsB.Uris) || !Same(rowsA.Composites, rowsB.Composites)
                || rowsA.Dates.Count != rowsB.Dates.Count)
                return null;
            if (!SearchValues.TryParseDateRange(Text(RecordedA), out var loA, out var hiA)
                || !SearchValues.TryParseDateRange(Text(RecordedB), out var loB, out var hiB))
                return null;
            var recorded = new List<int>();
            for (var i = 0; i < rowsA.Dates.Count; i++)
            {
                var (da, db) = (rowsA.Dates[i], rowsB.Dates[i]);
                if (da == db) continue;
                if (da.ParamId != db.ParamId || da != new DateEntry(da.ParamId, loA, hiA) || db != new DateEntry(db.ParamId, loB, hiB))
                    return null;
                recorded.Add(i);
            }

            a.Id = IdPlaceholder;
            a.Meta = new Meta { VersionId = "1", LastUpdated = UpdatedPlaceholder };
            var json = FhirSerializer.ToJson(a);
            var found = new List<(int At, int Length, Slot Slot)>(3);
            if (!Find(json, "\"id\":\"" + IdPlaceholder + "\"", 6, IdPlaceholder.Length, Slot.Id, found)
                || !Find(json, "\"lastUpdated\":\"" + Text(UpdatedPlaceholder) + "\"", 15, Text(UpdatedPlaceholder).Length, Slot.LastUpdated, found)
                || !Find(json, "\"recorded\":\"" + Text(RecordedA) + "\"", 12, Text(RecordedA).Length, Slot.Recorded, found)
                || Count(json, IdPlaceholder) != 1 || Count(json, Text(UpdatedPlaceholder)) != 1 || Count(json, Text(RecordedA)) != 1)
                return null;
            found.Sort((x, y) => x.At.CompareTo(y.At));
            var parts = new string[found.Count + 1];
            var from = 0;
            for (var i = 0; i < found.Count; i++)
            {
                parts[i] = json[from..found[i].At];
                from = found[i].At + found[i].Length;
            }
            parts[^1] = json[from..];
            return new Template(parts, [.. found.Select(f => f.Slot)], rowsA, [.. recorded]);
        }

        /// <summary>The event of this shape recorded at <paramref name="recorded"/>; null when only the generic way can tell its rows.</summary>
        public PreparedResource? Fill(DateTimeOffset recorded)
        {
            var text = Text(recorded);
            ResourceIndex rows;
            if (_recordedDates.Length == 0) rows = _rows;
            else
            {
                if (!SearchValues.TryParseDateRange(text, out var lo, out var hi)) return null;
                rows = Copy(_rows);
                foreach (var i in _recordedDates) rows.Dates[i] = rows.Dates[i] with { Lo = lo, Hi = hi };
                // The extractor keeps one of equal rows; a time that makes two rows equal is left to it.
                for (var i = 0; i < rows.Dates.Count; i++)
                    for (var j = i + 1; j < rows.Dates.Count; j++)
                        if (rows.Dates[i] == rows.Dates[j]) return null;
            }
            return new Filled(this, text, rows);
        }

        private string Json(string id, string lastUpdated, string recorded)
        {
            var pieces = new string[_parts.Length + _slots.Length];
            for (var i = 0; i < _slots.Length; i++)
            {
                pieces[2 * i] = _parts[i];
                pieces[2 * i + 1] = _slots[i] switch { Slot.Id => id, Slot.LastUpdated => lastUpdated, _ => recorded };
            }
            pieces[^1] = _parts[^1];
            return string.Concat(pieces);
        }

        private sealed class Filled(Template template, string recorded, ResourceIndex rows) : PreparedResource
        {
            public override ResourceIndex Index => rows;

            public override string ToJson(string id, long lastUpdated) =>
                template.Json(id, Text(new DateTimeOffset(lastUpdated, TimeSpan.Zero)), recorded);
        }

        private static bool Find(string json, string text, int offset, int length, Slot slot, List<(int, int, Slot)> found)
        {
            var at = json.IndexOf(text, StringComparison.Ordinal);
            if (at < 0 || json.IndexOf(text, at + 1, StringComparison.Ordinal) >= 0) return false;
            found.Add((at + offset, length, slot));
            return true;
        }

        private static int Count(string json, string text)
        {
            var n = 0;
            for (var at = json.IndexOf(text, StringComparison.Ordinal); at >= 0; at = json.IndexOf(text, at + 1, StringComparison.Ordinal)) n++;
            return n;
        }

        private static bool Same<T>(List<T> a, List<T> b) where T : IEquatable<T>
        {
            if (a.Count != b.Count) return false;
            for (var i = 0; i < a.Count; i++)
                if (!a[i].Equals(b[i])) return false;
            return true;
        }

        private static ResourceIndex Copy(ResourceIndex rows)
        {
            var copy = new ResourceIndex();
            copy.Strings.AddRange(rows.Strings);
            copy.Tokens.AddRange(rows.Tokens);
            copy.Dates.AddRange(rows.Dates);
            copy.Numbers.AddRange(rows.Numbers);
            copy.Quantities.AddRange(rows.Quantities);
            copy.References.AddRange(rows.References);
            copy.Uris.AddRange(rows.Uris);
            copy.Composites.AddRange(rows.Composites);
            return copy;
        }
    }
}
