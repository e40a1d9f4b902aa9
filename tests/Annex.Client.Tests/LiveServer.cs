using System.Net;
using Annex.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Annex.Client.Tests;

/// <summary>The real server listening on a loopback socket (Kestrel on 127.0.0.1, a free port), for tests
/// that need a connection that can really be cut, or a second process-local server in front of it.</summary>
public sealed class LiveServer : IDisposable
{
    public LiveServer(IDictionary<string, string?>? settings = null)
    {
        Factory = new AnnexFactory(settings: settings);
        Factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        Factory.StartServer();
        var address = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Address = new Uri(address);
    }

    public AnnexFactory Factory { get; }

    public Uri Address { get; }

    /// <summary>A new organization; the client speaks to the server's socket with its admin key.</summary>
    public async Task<(AnnexClient Client, string Key)> CreateTenantAsync(string name = "Acme", Uri? through = null, AnnexClientOptions? options = null)
    {
        var tenant = await Factory.CreateTenantAsync(name);
        return (new AnnexClient(through ?? Address, tenant.Key.Key, options), tenant.Key.Key);
    }

    public void Dispose() => Factory.Dispose();
}
