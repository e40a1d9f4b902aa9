using Annex.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Annex.Bench;

/// <summary>The real server started in this process on a workload folder, listening on 127.0.0.1 only,
/// with the base address of its HTTP API and the workload's API key.</summary>
public sealed class BenchServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private BenchServer(WebApplication app, Uri address, Workload workload)
    {
        _app = app;
        Address = address;
        Workload = workload;
    }

    public Uri Address { get; }

    public Workload Workload { get; }

    /// <summary>The server's own services, for what the API does not offer (an export row written directly).</summary>
    public IServiceProvider Services => _app.Services;

    public static Task<BenchServer> StartAsync(string folder, IReadOnlyList<string> hostSettings, CancellationToken ct) =>
        StartAsync(folder, hostSettings, configure: null, ct);

    /// <summary>Starts the server; <paramref name="configure"/> may add to the built app (e.g. a timing middleware
    /// after the server's own) before it starts.</summary>
    public static async Task<BenchServer> StartAsync(string folder, IReadOnlyList<string> hostSettings, Action<WebApplication>? configure, CancellationToken ct)
    {
        var workload = Workload.TryRead(folder)
            ?? throw new BenchException($"{folder} holds no complete workload; run `generate` first.");
        string[] hostArgs =
        [
            $"--Storage:DataPath={folder}",
            "--urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.EntityFrameworkCore=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
            // The bench measures exports and the API's own latency, not the per-key rate limit its polling would hit.
            "--RateLimiting:Enabled=false",
            .. hostSettings.Select(s => $"--{s}"),
        ];
        var app = AnnexApp.Build(hostArgs);
        try
        {
            configure?.Invoke(app);
            await app.StartAsync(ct);
            var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault()
                ?? throw new BenchException("The server reported no listening address.");
            return new BenchServer(app, new Uri(address), workload);
        }
        catch
        {
            await app.DisposeAsync();
            throw;
        }
    }

    /// <summary>A client for the API with the workload's key; <paramref name="connections"/> bounds its pool.</summary>
    public HttpClient CreateClient(int connections = 4)
    {
        var handler = new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan };
        var http = new HttpClient(handler) { BaseAddress = Address, Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Add("X-Avala-Api-Key", Workload.ApiKey);
        return http;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
