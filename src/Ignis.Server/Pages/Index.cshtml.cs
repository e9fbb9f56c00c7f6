using Ignis.Server.Fhir;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Pages;

public sealed class IndexModel : PageModel
{
    public string FhirBase { get; private set; } = "";

    public void OnGet() => FhirBase = FhirEndpoints.BaseUrl(HttpContext);
}
