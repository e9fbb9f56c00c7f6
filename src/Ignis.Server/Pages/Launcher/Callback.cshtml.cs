using Ignis.Server.Portal;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace Ignis.Server.Pages.Launcher;

/// <summary>The tester's redirect URI. Any signed-in user: "sign in again" may have switched the account.</summary>
public sealed class CallbackModel(LaunchTester tester) : PageModel
{
    public TesterResult Result { get; private set; } = null!;

    public async Task OnGetAsync([FromQuery(Name = "code")] string? code, [FromQuery(Name = "state")] string? state,
        [FromQuery(Name = "error")] string? error, [FromQuery(Name = "error_description")] string? errorDescription)
    {
        Response.Headers.CacheControl = "no-store";
        Result = await tester.CompleteAsync(HttpContext, code, state, error, errorDescription);
    }
}
