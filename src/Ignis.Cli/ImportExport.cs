using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Ignis.Cli;

/// <summary>
/// <c>ignis import</c>: NDJSON (one resource a line) or a Bundle, sent as batch Bundles (resources with an id are PUT,
/// so sending one twice does no harm). After each batch the position is saved next to the file, so an interrupted
/// import resumes where it stopped.
/// </summary>
internal static class ImportCommand
{
    private sealed record State(string Server, long Length, long LastWrite, int Next, int Imported, int Failed);

    public static Task<int> RunAsync(CliEnvironment env, string file, int batchSize, bool restart, bool progress, bool json, CancellationToken ct) =>
        AppCommands.WithFhirAsync(env, async http =>
        {
            if (!File.Exists(file)) throw new CliException(ExitCodes.Usage, $"{file}: no such file");
            if (batchSize is < 1 or > 1000) throw new CliException(ExitCodes.Usage, "--batch-size must be between 1 and 1000");
            var source = Open(file);
            var transaction = source.Transaction;
            var total = source.Count;
            var server = http.BaseAddress!.AbsoluteUri;
            var statePath = file + ".ignis-import";
            var errorsPath = file + ".errors.ndjson";
            var info = new FileInfo(file);
            var state = new State(server, info.Length, info.LastWriteTimeUtc.Ticks, 0, 0, 0);
            if (!restart && File.Exists(statePath) && JsonSerializer.Deserialize<State>(File.ReadAllText(statePath)) is { } saved
                && saved.Server == server && saved.Length == info.Length && saved.LastWrite == info.LastWriteTimeUtc.Ticks)
            {
                state = saved;
                env.Error.WriteLine($"Resuming {file} at resource {state.Next + 1} of {total} ({state.Imported} imported before)");
            }
            else if (File.Exists(errorsPath)) File.Delete(errorsPath);

            var bar = new ProgressBar(env, total, progress || env.ErrorIsTerminal);
            bar.Show(state.Next);
            var shownErrors = 0;
            if (transaction is not null)
            {
                // A transaction is all or nothing and its entries may refer to each other: send it whole.
                await Fhir.SendAsync(http, HttpMethod.Post, "", transaction, ct);
                state = state with { Next = total, Imported = total };
            }
            // Items are read as they are sent (an NDJSON file is never held in memory whole); a resumed import skips those done.
            using var items = source.Items().Skip(state.Next).GetEnumerator();
            while (state.Next < total)
            {
                ct.ThrowIfCancellationRequested();
                var batch = new List<Item>(batchSize);
                while (batch.Count < batchSize && items.MoveNext()) batch.Add(items.Current);
                if (batch.Count == 0) break;
                var results = await SendBatchAsync(http, batch, ct);
                int imported = 0, failed = 0, r = 0;
                await using (var errors = new StreamWriter(errorsPath, append: true))
                {
                    foreach (var item in batch)
                    {
                        string? problem = item.Problem;
                        if (item.Resource is not null)
                        {
                            var status = Output.Str(results.ElementAtOrDefault(r)?["response"]?["status"]) ?? "no response";
                            var outcome = results.ElementAtOrDefault(r)?["response"]?["outcome"];
                            r++;
                            if (!status.StartsWith('2'))
                                problem = outcome is null ? status : $"{status}: {Fhir.Diagnostics(outcome.ToJsonString())}";
                        }
                        if (problem is null) { imported++; continue; }
                        failed++;
                        await errors.WriteLineAsync(new JsonObject { ["position"] = item.Position, ["problem"] = problem }.ToJsonString());
                        if (shownErrors++ < 3) bar.Message($"{file}: resource {item.Position}: {problem}");
                    }
                }
                state = state with { Next = state.Next + batch.Count, Imported = state.Imported + imported, Failed = state.Failed + failed };
                File.WriteAllText(statePath + ".tmp", JsonSerializer.Serialize(state));
                File.Move(statePath + ".tmp", statePath, overwrite: true);
                bar.Show(state.Next);
            }
            bar.Done();
            File.Delete(statePath);
            if (state.Failed == 0 && File.Exists(errorsPath)) File.Delete(errorsPath);
            if (json)
                Output.Json(env.Out, new JsonObject { ["file"] = file, ["resources"] = total, ["imported"] = state.Imported, ["failed"] = state.Failed, ["errors"] = state.Failed > 0 ? errorsPath : null });
            else
                env.Out.WriteLine($"Imported {state.Imported} of {total} resources from {file}" + (state.Failed > 0 ? $"; {state.Failed} refused (see {errorsPath})" : ""));
            return state.Failed > 0 ? ExitCodes.Partial : ExitCodes.Ok;
        }, ct);

    private sealed record Item(int Position, JsonObject? Resource, string? Problem);

    /// <summary>
    /// Sends the batch's resources as one batch Bundle and returns its response entries in order. A server that refuses
    /// the Bundle as a whole (one unparseable resource makes the Bundle unparseable) gets them one by one instead, so
    /// only the bad ones fail.
    /// </summary>
    private static async Task<List<JsonNode?>> SendBatchAsync(HttpClient http, List<Item> batch, CancellationToken ct)
    {
        var resources = batch.Where(i => i.Resource is not null).Select(i => i.Resource!).ToList();
        if (resources.Count == 0) return [];
        try
        {
            var response = await Fhir.SendAsync(http, HttpMethod.Post, "", new JsonObject
            {
                ["resourceType"] = "Bundle", ["type"] = "batch", ["entry"] = new JsonArray([.. resources.Select(r => (JsonNode?)Entry(r))]),
            }, ct);
            return [.. response?["entry"] as JsonArray ?? []];
        }
        catch (CliException e) when (e.ExitCode == ExitCodes.Refused && resources.Count > 1)
        {
            var results = new List<JsonNode?>();
            foreach (var resource in resources)
            {
                var entry = Entry(resource);
                try
                {
                    await Fhir.SendAsync(http, HttpMethod.Parse(Output.Str(entry["request"]!["method"])!), Output.Str(entry["request"]!["url"])!, resource, ct, "return=minimal");
                    results.Add(new JsonObject { ["response"] = new JsonObject { ["status"] = "200" } });
                }
                catch (CliException one) when (one.ExitCode == ExitCodes.Refused)
                {
                    results.Add(new JsonObject { ["response"] = new JsonObject { ["status"] = one.Message } });
                }
            }
            return results;
        }
    }

    /// <summary>What a file holds: its resources (counted up front for the progress bar), and the Bundle when it is a transaction.</summary>
    private sealed record Source(int Count, Func<IEnumerable<Item>> Items, JsonObject? Transaction);

    private static Source Open(string file)
    {
        if (!file.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) && FirstCharacter(file) == '{')
        {
            JsonObject? document = null;
            try { document = JsonNode.Parse(File.ReadAllText(file)) as JsonObject; }
            catch (JsonException) { }
            if (document is not null)
            {
                if (Output.Str(document["resourceType"]) != "Bundle") return new Source(1, () => [new Item(1, document, null)], null);
                var entries = (document["entry"] as JsonArray ?? []).Select((e, i) => new Item(i + 1, e?["resource"]?.DeepClone() as JsonObject,
                    e?["resource"] is JsonObject ? null : "entry without a resource")).ToList();
                return new Source(entries.Count, () => entries, Output.Str(document["type"]) == "transaction" ? document : null);
            }
        }
        var count = File.ReadLines(file).Count(l => l.Trim().Length > 0);
        if (count == 0) throw new CliException(ExitCodes.Usage, $"{file}: no resources (expected NDJSON, a Bundle or a resource)");
        return new Source(count, () => ReadLines(file), null);
    }

    private static int FirstCharacter(string file)
    {
        using var reader = new StreamReader(file);
        int c;
        while ((c = reader.Read()) >= 0 && char.IsWhiteSpace((char)c)) { }
        return c;
    }

    private static IEnumerable<Item> ReadLines(string file)
    {
        var line = 0;
        foreach (var l in File.ReadLines(file))
        {
            line++;
            if (l.Trim().Length == 0) continue;
            Item item;
            try
            {
                item = JsonNode.Parse(l) is JsonObject o && Output.Str(o["resourceType"]) is { Length: > 0 }
                    ? new Item(line, o, null) : new Item(line, null, "not a FHIR resource");
            }
            catch (JsonException e)
            {
                item = new Item(line, null, "not JSON: " + e.Message);
            }
            yield return item;
        }
    }

    private static JsonObject Entry(JsonObject resource)
    {
        var type = Output.Str(resource["resourceType"])!;
        var id = Output.Str(resource["id"]);
        return new JsonObject
        {
            ["resource"] = resource.DeepClone(),
            ["request"] = id is null
                ? new JsonObject { ["method"] = "POST", ["url"] = type }
                : new JsonObject { ["method"] = "PUT", ["url"] = $"{type}/{id}" },
        };
    }

    /// <summary><c>[#########.........]  45%  450/1000  120/s</c>, redrawn in place on a terminal.</summary>
    private sealed class ProgressBar(CliEnvironment env, int total, bool enabled)
    {
        private readonly Stopwatch _clock = Stopwatch.StartNew();
        private int _start = -1;

        public void Show(int done)
        {
            if (!enabled) return;
            if (_start < 0) _start = done;
            var fraction = total == 0 ? 1 : (double)done / total;
            var filled = (int)Math.Round(fraction * 30);
            var rate = (done - _start) / Math.Max(_clock.Elapsed.TotalSeconds, 0.001);
            env.Error.Write($"\r[{new string('#', filled)}{new string('.', 30 - filled)}] {fraction,4:P0}  {done}/{total}  {rate:0}/s ");
        }

        public void Message(string text)
        {
            if (enabled) env.Error.Write("\r" + new string(' ', 70) + "\r");
            env.Error.WriteLine(text);
        }

        public void Done()
        {
            if (enabled) env.Error.WriteLine();
        }
    }
}

/// <summary>
/// <c>ignis export</c>: a patient's record as NDJSON, by compartment searches (<c>Observation?patient=...</c>) for the
/// types the server's CapabilityStatement supports; <c>Patient/$everything</c> is not needed.
/// </summary>
internal static class ExportCommand
{
    /// <summary>Patient-compartment resource types of R4 and the search parameter that links them to the patient.</summary>
    private static readonly (string Type, string Param)[] Compartment =
    [
        ("AllergyIntolerance", "patient"), ("Appointment", "patient"), ("CarePlan", "patient"), ("CareTeam", "patient"),
        ("ClinicalImpression", "patient"), ("Communication", "patient"), ("Condition", "patient"), ("Consent", "patient"),
        ("Coverage", "beneficiary"), ("DetectedIssue", "patient"), ("Device", "patient"), ("DiagnosticReport", "patient"),
        ("DocumentReference", "patient"), ("Encounter", "patient"), ("EpisodeOfCare", "patient"), ("FamilyMemberHistory", "patient"),
        ("Flag", "patient"), ("Goal", "patient"), ("ImagingStudy", "patient"), ("Immunization", "patient"), ("List", "patient"),
        ("MedicationAdministration", "patient"), ("MedicationDispense", "patient"), ("MedicationRequest", "patient"),
        ("MedicationStatement", "patient"), ("NutritionOrder", "patient"), ("Observation", "patient"), ("Procedure", "patient"),
        ("QuestionnaireResponse", "patient"), ("RiskAssessment", "patient"), ("ServiceRequest", "patient"), ("Specimen", "patient"),
    ];

    public static Task<int> RunAsync(CliEnvironment env, string? patient, string? output, string[] types, bool json, CancellationToken ct) =>
        AppCommands.WithFhirAsync(env, async http =>
        {
            var (_, client, session) = await CliProfile.SessionAsync(env, ct);
            client.Dispose();
            patient ??= session.Tokens.Patient
                ?? (session.Tokens.FhirUser is { } fu && fu.Contains("/Patient/") ? fu[(fu.LastIndexOf('/') + 1)..] : null)
                ?? throw new CliException(ExitCodes.Usage, "say whose record: --patient <id> (the session has no patient in context)");
            var statement = await Fhir.SendAsync(http, HttpMethod.Get, "metadata", null, ct) as JsonObject;
            var supported = Supported(statement);
            var wanted = Compartment.Where(c => types.Length == 0 || types.Contains(c.Type, StringComparer.OrdinalIgnoreCase))
                .Where(c => supported is null || (supported.TryGetValue(c.Type, out var ps) && (ps.Count == 0 || ps.Contains(c.Param)))).ToList();

            await using var stream = output is null ? null : new StreamWriter(output, append: false, new UTF8Encoding(false));
            var writer = stream ?? env.Out;
            var counts = new List<(string Type, int Count)>();
            var root = await Fhir.SendAsync(http, HttpMethod.Get, $"Patient/{Uri.EscapeDataString(patient)}", null, ct);
            await writer.WriteLineAsync(root!.ToJsonString());
            counts.Add(("Patient", 1));
            foreach (var (type, param) in wanted)
            {
                var n = 0;
                string? url = $"{type}?{param}={Uri.EscapeDataString(patient)}&_count=200";
                while (url is not null)
                {
                    var page = (JsonObject)(await Fhir.SendAsync(http, HttpMethod.Get, url, null, ct))!;
                    foreach (var entry in (page["entry"] as JsonArray ?? []).OfType<JsonObject>())
                    {
                        // Searches may add included or OperationOutcome entries: keep the matches.
                        if (Output.Str(entry["search"]?["mode"]) is { } mode && mode != "match") continue;
                        if (entry["resource"] is not JsonObject resource) continue;
                        await writer.WriteLineAsync(resource.ToJsonString());
                        n++;
                    }
                    url = AppCommands.NextLink(page);
                }
                if (n > 0) counts.Add((type, n));
            }
            await writer.FlushAsync(ct);
            var report = output is null ? env.Error : env.Out;
            if (json && output is not null)
                Output.Json(env.Out, new JsonObject
                {
                    ["patient"] = patient, ["output"] = output,
                    ["resources"] = new JsonObject([.. counts.Select(c => KeyValuePair.Create(c.Type, (JsonNode?)c.Count))]),
                });
            else
            {
                Output.Table(report, ["type", "resources"], counts.Select(c => (IReadOnlyList<string?>)[c.Type, c.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)]));
                report.WriteLine($"Exported {counts.Sum(c => c.Count)} resources of Patient/{patient}{(output is null ? "" : " to " + output)}");
            }
            return ExitCodes.Ok;
        }, ct);

    /// <summary>Resource type → its search parameter names, from the CapabilityStatement; null when it lists none.</summary>
    private static Dictionary<string, HashSet<string>>? Supported(JsonObject? statement)
    {
        var resources = (statement?["rest"] as JsonArray ?? []).OfType<JsonObject>().SelectMany(r => r["resource"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (resources.Count == 0) return null;
        return resources.Where(r => Output.Str(r["type"]) is not null).GroupBy(r => Output.Str(r["type"])!)
            .ToDictionary(g => g.Key, g => g.SelectMany(r => r["searchParam"] as JsonArray ?? []).Select(p => Output.Str(p?["name"])).OfType<string>().ToHashSet());
    }
}
