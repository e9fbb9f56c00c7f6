using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Ignis.Client.Login;

/// <summary>
/// The redirect URI of a native app (RFC 8252 §7.3): a listener on 127.0.0.1 on a port the OS picks, bound before the
/// browser opens and kept until the authorization response arrives. It answers the browser with a page saying it
/// can close the tab, and ignores responses whose <c>state</c> does not match (RFC 6749 §10.12).
/// </summary>
public sealed class LoopbackRedirectListener : IDisposable
{
    private readonly TcpListener _listener;
    private readonly string _path;
    private readonly string _appName;

    /// <summary>Starts listening on 127.0.0.1 on a free port.</summary>
    public LoopbackRedirectListener(string path = "/callback", string appName = "the app")
    {
        _path = path.StartsWith('/') ? path : "/" + path;
        _appName = appName;
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start();
    }

    /// <summary>The port the OS gave.</summary>
    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>The redirect URI to send in the authorize request.</summary>
    public string RedirectUri => $"http://127.0.0.1:{Port}{_path}";

    /// <summary>
    /// Waits for the browser to bring the authorization response with <paramref name="expectedState"/>; returns the
    /// full callback URL (with <c>code</c> or <c>error</c>).
    /// </summary>
    public async Task<string> WaitForCallbackAsync(string expectedState, CancellationToken cancellationToken)
    {
        var result = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var connections = new List<Task>();
        var accepting = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                TcpClient client;
                try { client = await _listener.AcceptTcpClientAsync(stop.Token).ConfigureAwait(false); }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException) { return; }
                lock (connections) connections.Add(HandleAsync(client, expectedState, result, stop.Token));
            }
        }, CancellationToken.None);
        try
        {
            return await result.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            // Let the browser receive the page before the listener closes.
            Task[] pending;
            lock (connections) pending = [.. connections];
            try { await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(5), CancellationToken.None).ConfigureAwait(false); }
            catch (Exception e) when (e is TimeoutException or OperationCanceledException or IOException or SocketException) { }
            stop.Cancel();
            _listener.Stop();
            try { await accepting.ConfigureAwait(false); } catch (OperationCanceledException) { }
        }
    }

    private async Task HandleAsync(TcpClient client, string expectedState, TaskCompletionSource<string> result, CancellationToken cancellationToken)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                timeout.CancelAfter(TimeSpan.FromSeconds(30));
                var stream = client.GetStream();
                var target = await ReadRequestTargetAsync(stream, timeout.Token).ConfigureAwait(false);
                if (target is null) return;
                var url = new Uri(new Uri($"http://127.0.0.1:{Port}"), target);
                if (url.AbsolutePath != _path)
                {
                    await RespondAsync(stream, 404, "Not found", "<p>Nothing here.</p>", timeout.Token).ConfigureAwait(false);
                    return;
                }
                var query = ParseQuery(url.Query);
                if (!query.TryGetValue("state", out var state) || state != expectedState)
                {
                    // Not the response to our request (stale tab, or forged): say so and keep waiting for the real one.
                    await RespondAsync(stream, 400, "Sign-in response not recognised",
                        $"<p>This sign-in response does not belong to the sign-in {Html(_appName)} is waiting for. Start the sign-in again from {Html(_appName)}.</p>",
                        timeout.Token).ConfigureAwait(false);
                    return;
                }
                if (query.TryGetValue("error", out var error))
                {
                    query.TryGetValue("error_description", out var description);
                    await RespondAsync(stream, 200, "Sign-in did not complete",
                        $"<p>The server answered <code>{Html(error)}</code>{(description is { Length: > 0 } ? ": " + Html(description) : "")}.</p><p>You can close this tab and return to {Html(_appName)}.</p>",
                        timeout.Token).ConfigureAwait(false);
                }
                else
                {
                    await RespondAsync(stream, 200, "Signed in",
                        $"<p>You are signed in. You can close this tab and return to {Html(_appName)}.</p>", timeout.Token).ConfigureAwait(false);
                }
                result.TrySetResult(url.AbsoluteUri);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or UriFormatException) { }
        }
    }

    private static async Task<string?> ReadRequestTargetAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[16 * 1024];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken).ConfigureAwait(false);
            if (read == 0) return null;
            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (!text.Contains("\r\n\r\n", StringComparison.Ordinal)) continue;
            var line = text[..text.IndexOf("\r\n", StringComparison.Ordinal)].Split(' ');
            return line.Length == 3 && line[0] is "GET" or "HEAD" && line[1].StartsWith('/') ? line[1] : null;
        }
        return null;
    }

    private static async Task RespondAsync(NetworkStream stream, int status, string title, string body, CancellationToken cancellationToken)
    {
        var html = $"""
            <!doctype html>
            <html lang="en"><head><meta charset="utf-8"><title>{Html(title)}</title>
            <style>body{"{"}font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#1d1d1f{"}"}</style></head>
            <body><h1>{Html(title)}</h1>{body}</body></html>
            """;
        var content = Encoding.UTF8.GetBytes(html);
        var reason = status switch { 200 => "OK", 400 => "Bad Request", _ => "Not Found" };
        var head = Encoding.ASCII.GetBytes(
            $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {content.Length}\r\nCache-Control: no-store\r\nReferrer-Policy: no-referrer\r\nConnection: close\r\n\r\n");
        await stream.WriteAsync(head, cancellationToken).ConfigureAwait(false);
        await stream.WriteAsync(content, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    private static Dictionary<string, string> ParseQuery(string query)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var i = pair.IndexOf('=');
            var name = Uri.UnescapeDataString((i < 0 ? pair : pair[..i]).Replace('+', ' '));
            var value = i < 0 ? "" : Uri.UnescapeDataString(pair[(i + 1)..].Replace('+', ' '));
            result.TryAdd(name, value);
        }
        return result;
    }

    private static string Html(string s) => WebUtility.HtmlEncode(s);

    /// <inheritdoc />
    public void Dispose() => _listener.Stop();
}
