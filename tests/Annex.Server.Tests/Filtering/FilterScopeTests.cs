using Annex.Server.Infrastructure.Data;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Filtering;

/// <summary>A filter is evaluated over what its export covers, never over the rest of the organization.</summary>
public sealed class FilterScopeTests
{
    [Fact]
    public async Task A_filter_never_reads_results_outside_the_exports_datasets()
    {
        using var factory = new AnnexFactory();
        var tenant = await factory.CreateTenantAsync("Scoped");
        var project = await Seed.ProjectAsync(tenant.Http);
        var covered = await Seed.DatasetAsync(tenant.Http, "covered");
        var other = await Seed.DatasetAsync(tenant.Http, "other");
        await Seed.ResultsAsync(tenant.Http, project, await Seed.ItemsAsync(tenant.Http, covered, 4), perItem: 1);
        await Seed.ResultsAsync(tenant.Http, project, await Seed.ItemsAsync(tenant.Http, other, 4), perItem: 1);

        // Rows the export does not cover are made unreadable by the filter (its JSON no longer parses): evaluating
        // the filter on any of them fails the export, so an export that succeeds never looked at them.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
            var otherUid = Guid.Parse(other);
            var otherId = await db.Datasets.Where(d => d.Uid == otherUid).Select(d => d.Id).SingleAsync();
            await db.DatasetItems.Where(i => i.DatasetId == otherId).ExecuteUpdateAsync(s => s.SetProperty(i => i.Metadata, "{\"time\": "));
            await db.Results.Where(r => r.DatasetItem.DatasetId == otherId).ExecuteUpdateAsync(s => s.SetProperty(r => r.Annotations, "[{\"label\": "));
        }

        // Items 2 and 4 are "day"; items 1 and 4 carry a car.
        var uid = (await Seed.ExportAsync(tenant.Http, "scoped", datasets: [covered], filter: "metadata.time = \"day\" OR label = \"car\""))["uid"]!.GetValue<string>();
        var done = await Seed.WaitForAsync(tenant.Http, uid, ["exported", "failed"]);
        Assert.Equal("exported", done["status"]!.GetValue<string>());
        Assert.Equal(3, done["total_task_count"]!.GetValue<long>());
    }
}
