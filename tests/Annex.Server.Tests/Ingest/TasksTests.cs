using System.Net;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>GET /api/v1/tasks/: the results of the organization's projects, in the shape of Avala's tasks.</summary>
public sealed class TasksTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Every_stored_result_is_a_completed_task_named_after_its_item_and_filtered_by_project()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var items = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http), 3);
        var first = await Seed.ProjectAsync(tenant.Http, "First");
        var second = await Seed.ProjectAsync(tenant.Http, "Second");
        await Seed.ResultsAsync(tenant.Http, first, items, perItem: 2);
        await Seed.ResultsAsync(tenant.Http, second, [items[2]], perItem: 1);

        var all = (await tenant.Http.GetOkAsync("/api/v1/tasks/"))["results"]!.AsArray();
        Assert.Equal(4, all.Count);
        foreach (var task in all)
        {
            Shape.HasFields(task, "uid", "type", "name", "status", "project", "dataset_item", "annotation_count", "created_at", "updated_at");
            Shape.Uid(task!["uid"]);
            Assert.Equal("annotation", task["type"]!.GetValue<string>());
            Assert.Equal("completed", task["status"]!.GetValue<string>());
            Shape.Timestamp(task["created_at"]);
        }

        Assert.Equal(["frame_00001", "frame_00002", "frame_00003", "frame_00003"], all.Select(t => t!["name"]!.GetValue<string>()));
        Assert.Equal([first, first, first, second], all.Select(t => t!["project"]!.GetValue<string>()));
        Assert.Equal(items[2], all[3]!["dataset_item"]!.GetValue<string>());
        Assert.Equal(1, all[3]!["annotation_count"]!.GetValue<int>());

        // The task is the result: its uid is the one the results list gives.
        var results = (await tenant.Http.GetOkAsync($"/api/v1/projects/{second}/results/"))["results"]!.AsArray();
        Assert.Equal(results[0]!["uid"]!.GetValue<string>(), all[3]!["uid"]!.GetValue<string>());

        Api.AssertJson($"[{all[3]!.ToJsonString()}]", (await tenant.Http.GetOkAsync($"/api/v1/tasks/?project={second}"))["results"]);
        Assert.Equal(4, (await tenant.Http.GetOkAsync("/api/v1/tasks/?status=completed"))["results"]!.AsArray().Count);
        Assert.Empty((await tenant.Http.GetOkAsync("/api/v1/tasks/?status=pending"))["results"]!.AsArray());
        Api.AssertJson(all[0]!.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/tasks/{all[0]!["uid"]}/"));

        var (status, body) = await tenant.Http.GetJsonAsync("/api/v1/tasks/?project=nope");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"project": ["Must be a valid UUID."]}""", body);
    }

    [Fact]
    public async Task Tasks_page_with_a_cursor_and_a_new_upsert_updates_the_same_task()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var items = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http), 5);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);

        var seen = new List<string>();
        var url = $"/api/v1/tasks/?project={project}&limit=2";
        while (url is not null)
        {
            var page = await tenant.Http.GetOkAsync(url);
            seen.AddRange(page["results"]!.AsArray().Select(t => t!["uid"]!.GetValue<string>()));
            url = page["next"]?.GetValue<string>() is { } next ? new Uri(next).PathAndQuery : null;
        }

        Assert.Equal(5, seen.Distinct().Count());
        var before = await tenant.Http.GetOkAsync($"/api/v1/tasks/{seen[0]}/");
        await Seed.ResultsAsync(tenant.Http, project, [items[0]], perItem: 3);
        var after = await tenant.Http.GetOkAsync($"/api/v1/tasks/{seen[0]}/");
        Assert.Equal(3, after["annotation_count"]!.GetValue<int>());
        Assert.Equal(before["created_at"]!.GetValue<string>(), after["created_at"]!.GetValue<string>());
        Assert.True(Shape.Timestamp(after["updated_at"]) > Shape.Timestamp(before["updated_at"]));
    }

    [Fact]
    public async Task Another_organizations_tasks_are_not_found_and_not_listed()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var items = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http), 1);
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);
        var task = (await tenant.Http.GetOkAsync("/api/v1/tasks/"))["results"]![0]!["uid"]!.GetValue<string>();

        var (status, body) = await other.Http.GetJsonAsync($"/api/v1/tasks/{task}/");
        Shape.IsNotFound(status, body);
        Assert.Empty((await other.Http.GetOkAsync($"/api/v1/tasks/?project={project}"))["results"]!.AsArray());
        Assert.Empty((await other.Http.GetOkAsync("/api/v1/tasks/"))["results"]!.AsArray());
        var (malformed, notFound) = await tenant.Http.GetJsonAsync("/api/v1/tasks/not-a-uuid/");
        Shape.IsNotFound(malformed, notFound);
    }
}
