using System.Net;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Engine;

/// <summary>
/// A client-visible failure of a FHIR interaction: the HTTP status and the OperationOutcome that says why.
/// Thrown inside the engine and turned into a response in one place (<see cref="FhirService"/>).
/// </summary>
public sealed class FhirException : Exception
{
    public FhirException(HttpStatusCode status, OperationOutcome outcome)
        : base(outcome.Issue.FirstOrDefault()?.Diagnostics ?? status.ToString())
    {
        Status = status;
        Outcome = outcome;
    }

    public FhirException(HttpStatusCode status, OperationOutcome.IssueType code, string diagnostics, string? location = null)
        : this(status, Outcomes.Error(code, diagnostics, location))
    {
    }

    public HttpStatusCode Status { get; }
    public OperationOutcome Outcome { get; }

    public static FhirException BadRequest(string diagnostics, string? location = null) =>
        new(HttpStatusCode.BadRequest, OperationOutcome.IssueType.Invalid, diagnostics, location);

    public static FhirException NotFound(string diagnostics) =>
        new(HttpStatusCode.NotFound, OperationOutcome.IssueType.NotFound, diagnostics);
}

/// <summary>Builders for the OperationOutcomes the server returns.</summary>
public static class Outcomes
{
    public static OperationOutcome Error(OperationOutcome.IssueType code, string diagnostics, string? location = null) =>
        Issue(OperationOutcome.IssueSeverity.Error, code, diagnostics, location);

    public static OperationOutcome Information(string diagnostics) =>
        Issue(OperationOutcome.IssueSeverity.Information, OperationOutcome.IssueType.Informational, diagnostics, null);

    public static OperationOutcome Issue(OperationOutcome.IssueSeverity severity, OperationOutcome.IssueType code, string diagnostics, string? location)
    {
        var issue = new OperationOutcome.IssueComponent { Severity = severity, Code = code, Diagnostics = diagnostics };
        if (location is not null) issue.Expression = [location];
        return new OperationOutcome { Issue = [issue] };
    }
}
