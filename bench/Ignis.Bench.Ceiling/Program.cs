// The ceiling for GET /fhir/Patient/{id}: bare Kestrel + minimal-API routing on loopback answering
// every Patient id with the same bytes, read once at start from the file Ignis served in the same
// benchmark run (CEILING_BODY), with the same Content-Type and the ETag / Last-Modified Ignis sent.
// No storage, no serialization, no FHIR logic: what is left of a read once the server does nothing.
// usage: CEILING_BODY=patient.json [CEILING_ETAG='W/"1"'] [CEILING_LAST_MODIFIED=...] dotnet Ignis.Bench.Ceiling.dll --urls http://127.0.0.1:PORT
var builder = WebApplication.CreateBuilder(args);
builder.Logging.SetMinimumLevel(LogLevel.Warning);
var app = builder.Build();

var path = Environment.GetEnvironmentVariable("CEILING_BODY")
    ?? throw new InvalidOperationException("Set CEILING_BODY to the file holding the Patient bytes to serve.");
var body = File.ReadAllBytes(path);
var etag = Environment.GetEnvironmentVariable("CEILING_ETAG");
var lastModified = Environment.GetEnvironmentVariable("CEILING_LAST_MODIFIED");
const string contentType = "application/fhir+json; charset=utf-8";

app.MapGet("/fhir/Patient/{id}", (string id, HttpContext http) =>
{
    if (etag is not null) http.Response.Headers.ETag = etag;
    if (lastModified is not null) http.Response.Headers.LastModified = lastModified;
    return Results.Bytes(body, contentType);
});
app.MapGet("/healthz", () => Results.Text("ok"));

Console.WriteLine($"ceiling: {body.Length} bytes from {path}, gc={(System.Runtime.GCSettings.IsServerGC ? "server" : "workstation")}");
app.Run();
