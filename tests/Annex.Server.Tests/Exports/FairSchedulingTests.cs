using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>The queue's fairness: a cap of running exports per organization, and waiting exports of the
/// least-served organization first.</summary>
public sealed class FairSchedulingTests
{
    private static Dictionary<string, string?> Settings(int workers, int cap) => new()
    {
        ["Exports:Workers"] = workers.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Exports:MaxRunningPerOrganization"] = cap.ToString(System.Globalization.CultureInfo.InvariantCulture),
        // Small batches make each export take long enough to overlap with the others.
        ["Exports:BatchSize"] = "10",
    };

    private static async Task<(TenantClient Tenant, string Dataset)> TenantWithDataAsync(AnnexFactory factory, string name, int items)
    {
        var tenant = await factory.CreateTenantAsync(name);
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, await Seed.ItemsAsync(tenant.Http, dataset, items), perItem: 2);
        return (tenant, dataset);
    }

    /// <summary>Most exports an organization had running at once, sampled until <paramref name="stop"/>.</summary>
    private static async Task<int> WatchMostRunningAsync(AnnexFactory factory, CancellationToken stop)
    {
        var most = 0;
        while (!stop.IsCancellationRequested)
        {
            await using (var scope = factory.Services.CreateAsyncScope())
            {
                var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
                var running = await db.Exports.Where(e => e.Status == ExportStatus.Exporting)
                    .GroupBy(e => e.OrganizationId).Select(g => g.Count()).ToListAsync(CancellationToken.None);
                most = Math.Max(most, running.DefaultIfEmpty(0).Max());
            }

            await Task.Delay(10, CancellationToken.None);
        }

        return most;
    }

    [Fact]
    public async Task An_organization_never_runs_more_exports_than_its_cap_even_with_idle_workers()
    {
        using var factory = new AnnexFactory(settings: Settings(workers: 4, cap: 2));
        var (tenant, dataset) = await TenantWithDataAsync(factory, "Busy", items: 600);
        using var stop = new CancellationTokenSource();
        var watcher = WatchMostRunningAsync(factory, stop.Token);

        var uids = new List<string>();
        for (var n = 0; n < 16; n++)
        {
            uids.Add((await Seed.ExportAsync(tenant.Http, $"batch {n}", datasets: [dataset]))["uid"]!.GetValue<string>());
        }

        foreach (var uid in uids)
        {
            await Seed.WaitForAsync(tenant.Http, uid, ["exported"], TimeSpan.FromMinutes(2));
        }

        await stop.CancelAsync();
        var most = await watcher;
        Assert.InRange(most, 1, 2);
    }

    [Fact]
    public async Task A_single_export_of_another_organization_goes_before_a_queue_of_200()
    {
        using var factory = new AnnexFactory(settings: Settings(workers: 2, cap: 5));
        var (busy, busyDataset) = await TenantWithDataAsync(factory, "Busy", items: 400);
        var (quiet, quietDataset) = await TenantWithDataAsync(factory, "Quiet", items: 20);

        for (var n = 0; n < 200; n++)
        {
            await Seed.ExportAsync(busy.Http, $"batch {n}", datasets: [busyDataset]);
        }

        var doneBefore = await ExportedCountAsync(busy.Http);
        var single = (await Seed.ExportAsync(quiet.Http, "the only one", datasets: [quietDataset]))["uid"]!.GetValue<string>();
        await Seed.WaitForAsync(quiet.Http, single, ["exported"], TimeSpan.FromMinutes(2));
        var doneAfter = await ExportedCountAsync(busy.Http);

        // The queue was still long when the single export arrived, and only the exports already running (two
        // workers) and perhaps one more each finished before it: the next free worker took the single export,
        // since its organization had none running.
        Assert.True(doneBefore <= 150, $"{doneBefore} of the 200 exports had finished before the single one was created; the queue was too short to show anything");
        Assert.True(doneAfter - doneBefore <= 6, $"{doneAfter - doneBefore} of the waiting exports finished before the other organization's single export");

        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(5);
        while (await ExportedCountAsync(busy.Http) < 200)
        {
            Assert.True(DateTime.UtcNow < deadline, "the 200 exports did not all finish within 5 minutes");
            await Task.Delay(250);
        }
    }

    private static async Task<int> ExportedCountAsync(HttpClient client)
    {
        var (_, body) = await client.GetJsonAsync("/api/v1/exports/?limit=1000");
        return body!["results"]!.AsArray().Count(e => e!["status"]!.GetValue<string>() == "exported");
    }
}
