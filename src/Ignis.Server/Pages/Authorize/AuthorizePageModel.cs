using Hl7.Fhir.Model;
using Ignis.Fhir.Engine;
using Ignis.Server.Auth;
using Ignis.Server.Data;
using Ignis.Server.Fhir;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Pages.Authorize;

/// <summary>What the patient picker and consent pages share: the pending request and its checks.</summary>
public abstract class AuthorizePageModel(UserManager<IgnisUser> users, AuthorizationTickets tickets) : PageModel
{
    [BindProperty(Name = "request", SupportsGet = true)] public string? RequestTicket { get; set; }

    public PendingAuthorization Pending { get; private set; } = null!;
    public IgnisUser CurrentUser { get; private set; } = null!;

    /// <summary>Loads the pending request; null when it is missing, expired, forged or someone else's.</summary>
    protected async Task<IActionResult?> LoadAsync()
    {
        var pending = tickets.UnprotectPending(RequestTicket);
        var user = User.Identity?.IsAuthenticated == true ? await users.GetUserAsync(User) : null;
        if (pending is null || user is null || pending.UserId != user.Id)
            return BadRequest("This authorization request has expired or does not belong to you. Start again from the app.");
        Pending = pending;
        CurrentUser = user;
        return null;
    }

    protected string Protect(PendingAuthorization pending) => tickets.Protect(pending);

    protected static string Display(Patient p)
    {
        var name = p.Name.FirstOrDefault();
        var text = name is null ? p.Id ?? "" : $"{string.Join(' ', name.Given)} {name.Family}".Trim();
        return p.BirthDate is { } born ? $"{text} (born {born})" : text;
    }

    protected static async Task<List<T>> SearchAsync<T>(FhirService fhir, HttpContext http, string type, params (string, string)[] query) where T : Resource
    {
        var response = await fhir.ExecuteAsync(new FhirRequest
        {
            Interaction = Interaction.SearchType,
            Method = "GET",
            Type = type,
            Query = [.. query.Select(q => KeyValuePair.Create(q.Item1, q.Item2))],
        }, FhirEndpoints.BaseUrl(http), http.RequestAborted);
        return response.Resource is Bundle bundle ? [.. bundle.Entry.Select(e => e.Resource).OfType<T>()] : [];
    }
}
