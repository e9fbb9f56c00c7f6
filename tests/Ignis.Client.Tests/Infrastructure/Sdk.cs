using System.Collections.Concurrent;
using Ignis.Client.Login;
using Ignis.Client.Storage;
using Ignis.Server.Tests.Infrastructure;

namespace Ignis.Client.Tests.Infrastructure;

/// <summary>Builds SDK objects against a test server, with a token store in a fresh temp folder.</summary>
public sealed class Sdk : IDisposable
{
    public Sdk(IgnisServer server)
    {
        Server = server;
        StoreDirectory = Directory.CreateTempSubdirectory("ignis-client-store-").FullName;
        Store = new EncryptedFileTokenStore(StoreDirectory, new KeyFileKeyProvider(Path.Combine(StoreDirectory, StoreKeys.KeyFileName)));
        Backchannel = new CountingHandler(new SocketsHttpHandler());
    }

    public IgnisServer Server { get; }
    public string StoreDirectory { get; }
    public EncryptedFileTokenStore Store { get; }
    public CountingHandler Backchannel { get; }

    public SmartClient Client(IBrowserLauncher browser, string scope = "openid fhirUser offline_access launch/patient patient/*.rs", TimeSpan? refreshBeforeExpiry = null) =>
        new(new SmartClientOptions
        {
            FhirBaseUrl = Server.FhirBase,
            ClientId = "demo-app",
            Scope = scope,
            Browser = browser,
            TokenStore = Store,
            BackchannelHandler = Backchannel,
            AppName = "the Ignis test app",
            LoginTimeout = TimeSpan.FromMinutes(1),
            RefreshBeforeExpiry = refreshBeforeExpiry ?? TimeSpan.FromSeconds(60),
        });

    public void Dispose()
    {
        try { Directory.Delete(StoreDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }
}

/// <summary>Passes requests through to the network and counts what was sent to the token endpoint, by grant type.</summary>
public sealed class CountingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
{
    private readonly ConcurrentDictionary<string, int> _grants = new();

    public int Count(string grantType) => _grants.GetValueOrDefault(grantType);

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath == "/oauth/token" && request.Content is not null)
        {
            var form = await request.Content.ReadAsStringAsync(cancellationToken);
            var grant = form.Split('&').Select(p => p.Split('=')).FirstOrDefault(p => p[0] == "grant_type")?[1] ?? "";
            _grants.AddOrUpdate(Uri.UnescapeDataString(grant), 1, (_, n) => n + 1);
        }
        return await base.SendAsync(request, cancellationToken);
    }
}

/// <summary>Calls <paramref name="observe"/> with every request just before it goes on the wire.</summary>
public sealed class ObservingHandler(Func<HttpRequestMessage, Task> observe) : DelegatingHandler(new SocketsHttpHandler())
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        await observe(request);
        return await base.SendAsync(request, cancellationToken);
    }
}
