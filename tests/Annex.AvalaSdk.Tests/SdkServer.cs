using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.AvalaSdk.Tests;

/// <summary>One real server for the SDK tests: Kestrel on a loopback port (the SDKs speak HTTP over a socket),
/// and a loopback receiver for its webhooks. Each test makes its own organization (<see cref="CreateWorldAsync"/>).</summary>
public sealed class SdkServer : IAsyncLifetime
{
    private WebApplication? _receiver;

    public SdkServer()
    {
        Factory = new AnnexFactory(settings: new Dictionary<string, string?>
        {
            // A scenario sends a burst of calls with one key: limits far above anything a test sends.
            ["RateLimiting:PermitLimit"] = "1000000",
            ["RateLimiting:BurstLimit"] = "1000000",
            // Webhooks go to the receiver on loopback, promptly.
            ["Webhooks:AllowPrivateAddresses"] = "true",
            ["Webhooks:PollInterval"] = "00:00:00.100",
            ["Webhooks:RetryBaseDelay"] = "00:00:00.100",
        });
        Factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        Factory.StartServer();
        var address = Factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        ApiRoot = new Uri(address.TrimEnd('/') + "/api/v1/");
    }

    public AnnexFactory Factory { get; }

    /// <summary>The SDKs' base URL: <c>http://127.0.0.1:port/api/v1/</c>.</summary>
    public Uri ApiRoot { get; }

    /// <summary>Where webhooks can point; every request it gets is kept in <see cref="Received"/>.</summary>
    public string ReceiverUrl { get; private set; } = "";

    public ConcurrentQueue<string> Received { get; } = new();

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        _receiver = builder.Build();
        _receiver.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body);
            Received.Enqueue(await reader.ReadToEndAsync());
            return Results.Ok();
        });
        await _receiver.StartAsync();
        ReceiverUrl = _receiver.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First() + "/hook";
    }

    /// <summary>A new organization with a dataset of three items, a project with a box on each, a second project
    /// with none, and a slice of the first two items; the client speaks to the server's socket with the admin key.</summary>
    public async Task<SdkWorld> CreateWorldAsync(string name = "Acme")
    {
        // The factory's own clients cannot reach a Kestrel server: seed through the socket, as the SDKs do.
        var tenant = await Factory.CreateTenantAsync(name);
        var http = new HttpClient { BaseAddress = new Uri(ApiRoot, "/") };
        http.DefaultRequestHeaders.Add("X-Avala-Api-Key", tenant.Key.Key);
        http.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));

        var dataset = await Seed.DatasetAsync(http, "Highway Scenes");
        var items = await Seed.ItemsAsync(http, dataset, 3);
        var project = await Seed.ProjectAsync(http, "Detection");
        await Seed.ResultsAsync(http, project, items, perItem: 1);
        var otherProject = await Seed.ProjectAsync(http, "Segmentation");
        var slice = (await http.PostOkAsync("/api/v1/slices/", new { name = "Night Frames", items = new[] { items[0], items[1] } }))["uid"]!.GetValue<string>();

        // The owner routes name the organization, dataset and slice by slug; read them where they are kept.
        await using var scope = Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var owner = await db.Organizations.Where(o => o.Uid == tenant.Key.OrganizationUid).Select(o => o.Slug).SingleAsync();
        var datasetUid = Guid.Parse(dataset);
        var sliceUid = Guid.Parse(slice);
        var datasetSlug = await db.Datasets.Where(d => d.Uid == datasetUid).Select(d => d.Slug).SingleAsync();
        var sliceSlug = await db.Slices.Where(s => s.Uid == sliceUid).Select(s => s.Slug).SingleAsync();
        return new SdkWorld(tenant, http, owner, dataset, datasetSlug, items, project, otherProject, slice, sliceSlug);
    }

    public async Task DisposeAsync()
    {
        if (_receiver is not null)
        {
            await _receiver.DisposeAsync();
        }

        Factory.Dispose();
    }
}

/// <summary>One test's organization and what was seeded in it.</summary>
public sealed record SdkWorld(
    TenantClient Tenant,
    HttpClient Http,
    string Owner,
    string Dataset,
    string DatasetSlug,
    IReadOnlyList<string> Items,
    string Project,
    string OtherProject,
    string Slice,
    string SliceSlug)
{
    public string Key => Tenant.Key.Key;
}

[CollectionDefinition(Name)]
public sealed class SdkCollection : ICollectionFixture<SdkServer>, ICollectionFixture<TypeScriptSdk>
{
    public const string Name = "Avala SDKs";
}
