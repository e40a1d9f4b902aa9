using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.AvalaSdk.Tests;

/// <summary>Avala's TypeScript SDK, unchanged, against a real Annex server: one test per SDK area, each
/// running one of the harness's scripts (tests/avala-sdk/scripts) and checking what every call gave back.</summary>
[Collection(SdkCollection.Name)]
public sealed class TypeScriptSdkTests(SdkServer server, TypeScriptSdk sdk)
{
    private async Task<Steps> RunAsync(string script, SdkWorld world, object input)
    {
        TypeScriptSdk.Require();
        return await sdk.RunAsync(script, server.ApiRoot, world.Key, input);
    }

    private static void AssertUid(JsonNode? value, string what) =>
        Assert.True(Guid.TryParse(value?["uid"]?.GetValue<string>(), out _), $"{what}: no uid in {value?.ToJsonString()}");

    private static async Task<JsonNode> GetOkAsync(HttpClient http, string url)
    {
        var (status, body) = await http.GetJsonAsync(url);
        Assert.True(status == System.Net.HttpStatusCode.OK, $"GET {url}: {(int)status} {body?.ToJsonString()}");
        return body!;
    }

    private static string Text(JsonNode? node, string property) =>
        node?[property]?.GetValue<string>() ?? throw new Xunit.Sdk.XunitException($"no {property} in {node?.ToJsonString()}");

    [SkippableFact]
    public async Task Exports_create_for_a_dataset_or_a_project_list_page_get_and_finish()
    {
        var world = await server.CreateWorldAsync();
        var steps = await RunAsync("exports", world, new { dataset = world.Dataset, project = world.Project });

        // create sends only the singular key: the export names that source, with a default name and format.
        var byDataset = steps.Ok("createForDataset");
        AssertUid(byDataset, "createForDataset");
        var byProject = steps.Ok("createForProject");
        AssertUid(byProject, "createForProject");
        var stored = await GetOkAsync(world.Http, $"/api/v1/exports/{Text(byDataset, "uid")}/");
        Api.AssertJson($"""["{world.Dataset}"]""", stored["datasets"]);
        Assert.Equal("avala-json-external", Text(stored, "format"));
        Assert.False(string.IsNullOrWhiteSpace(Text(stored, "name")));
        Api.AssertJson($"""["{world.Project}"]""", (await GetOkAsync(world.Http, $"/api/v1/exports/{Text(byProject, "uid")}/"))["projects"]);

        Assert.Equal(new[] { Text(byProject, "uid"), Text(byDataset, "uid") }.Order(), steps.Uids("list").Order());
        Assert.False(steps.Ok("list")!["hasMore"]!.GetValue<bool>());
        var first = steps.Ok("listFirstPage")!;
        Assert.Single(steps.Items("listFirstPage"));
        Assert.True(first["hasMore"]!.GetValue<bool>());
        Assert.False(string.IsNullOrEmpty(first["nextCursor"]?.GetValue<string>()), "the first page's next link carries no cursor the SDK can read");
        var second = steps.Items("listSecondPage");
        Assert.Single(second);
        Assert.NotEqual(steps.Uids("listFirstPageAgain")[0], steps.Uids("listSecondPage")[0]);

        Assert.Equal(Text(byDataset, "uid"), Text(steps.Ok("get"), "uid"));
        var finished = steps.Ok("finished");
        Assert.True(Text(finished, "status") == "exported", $"export ended as {finished?.ToJsonString()}");
        var download = new Uri(Text(finished, "downloadUrl"));
        using var anonymous = new HttpClient();
        var archive = await anonymous.GetByteArrayAsync(download);
        Assert.Equal("PK"u8.ToArray(), archive[..2]);

        steps.NotFound("getMissing");
    }

    [SkippableFact]
    public async Task Datasets_create_list_with_filters_get_and_read_items_by_owner_and_slug()
    {
        var world = await server.CreateWorldAsync();
        var steps = await RunAsync("datasets", world, new { dataset = world.Dataset, owner = world.Owner, datasetSlug = world.DatasetSlug, item = world.Items[0] });

        var created = steps.Ok("create");
        AssertUid(created, "create");
        var uid = Text(created, "uid");
        Assert.Equal("SDK Street Scenes", Text(created, "name"));
        Assert.Equal("sdk-street-scenes", Text(created, "slug"));
        Assert.Equal("image", Text(created, "dataType"));

        Assert.Equal(new[] { uid, world.Dataset }.Order(), steps.Uids("list").Order());
        Assert.Equal([uid], steps.Uids("listByName"));
        Assert.Contains(uid, steps.Uids("listByDataType"));
        Assert.Contains(world.Dataset, steps.Uids("listByDataType"));
        Assert.Empty(steps.Items("listByOtherDataType"));
        Assert.Contains(uid, steps.Uids("listByVisibility"));
        Assert.DoesNotContain(uid, steps.Uids("listByOtherVisibility"));
        Assert.Contains(uid, steps.Uids("listByStatus"));
        Assert.Single(steps.Items("listFirstPage"));
        Assert.True(steps.Ok("listFirstPage")!["hasMore"]!.GetValue<bool>());

        Assert.Equal(uid, Text(steps.Ok("get"), "uid"));
        var seeded = steps.Ok("getSeeded");
        Assert.Equal(world.Dataset, Text(seeded, "uid"));
        Assert.Equal(3, seeded!["itemCount"]!.GetValue<int>());

        Assert.Equal(world.Items.Order(), steps.Uids("listItems").Order());
        Assert.Equal(2, steps.Items("listItemsFirstPage").Count);
        Assert.True(steps.Ok("listItemsFirstPage")!["hasMore"]!.GetValue<bool>());
        Assert.Equal(steps.Uids("listItems")[0], Text(steps.Ok("getItem"), "uid"));

        steps.NotFound("getMissing");
    }

    [SkippableFact]
    public async Task Organizations_list_get_by_slug_and_list_members()
    {
        var world = await server.CreateWorldAsync("Acme Robotics");
        var other = await server.CreateWorldAsync("Other Org");
        var steps = await RunAsync("organizations", world, new { owner = world.Owner, otherOwner = other.Owner });

        var slugs = steps.Items("list").Select(o => Text(o, "slug")).ToList();
        Assert.Equal([world.Owner], slugs);
        var organization = steps.Ok("get");
        Assert.Equal(world.Owner, Text(organization, "slug"));
        Assert.Equal("Acme Robotics", Text(organization, "name"));
        Assert.Equal(world.Tenant.Key.OrganizationUid.ToString(), Text(organization, "uid"));

        var members = steps.Items("listMembers");
        Assert.Contains(world.Tenant.Key.UserUid.ToString(), members.Select(m => Text(m, "userUid")));

        // Another organization is not there for this key.
        steps.NotFound("getOther");
    }

    [SkippableFact]
    public async Task Projects_list_and_get()
    {
        var world = await server.CreateWorldAsync();
        var steps = await RunAsync("projects", world, new { project = world.Project });

        Assert.Equal(new[] { world.Project, world.OtherProject }.Order(), steps.Uids("list").Order());
        Assert.Single(steps.Items("listFirstPage"));
        Assert.True(steps.Ok("listFirstPage")!["hasMore"]!.GetValue<bool>());
        var project = steps.Ok("get");
        Assert.Equal(world.Project, Text(project, "uid"));
        Assert.Equal("Detection", Text(project, "name"));
        steps.NotFound("getMissing");
    }

    [SkippableFact]
    public async Task Slices_create_list_by_owner_get_by_slug_and_read_items()
    {
        var world = await server.CreateWorldAsync();
        var steps = await RunAsync("slices", world, new { dataset = world.Dataset, owner = world.Owner, sliceSlug = world.SliceSlug, item = world.Items[0] });

        var created = steps.Ok("create");
        AssertUid(created, "create");
        Assert.Equal("SDK Night Frames", Text(created, "name"));
        Assert.False(string.IsNullOrWhiteSpace(Text(created, "slug")));

        Assert.Equal(new[] { Text(created, "uid"), world.Slice }.Order(), steps.Uids("list").Order());
        Assert.Equal(Text(created, "uid"), Text(steps.Ok("get"), "uid"));
        Assert.Equal(world.Slice, Text(steps.Ok("getSeeded"), "uid"));
        Assert.Equal(world.Items.Take(2).Order(), steps.Uids("listItems").Order());
        Assert.Equal(steps.Uids("listItems")[0], Text(steps.Ok("getItem"), "uid"));
        steps.NotFound("getMissing");
    }

    [SkippableFact]
    public async Task Tasks_list_by_project_and_get()
    {
        var world = await server.CreateWorldAsync();
        var steps = await RunAsync("tasks", world, new { project = world.Project, otherProject = world.OtherProject });

        var tasks = steps.Items("list");
        Assert.Equal(3, tasks.Count);
        Assert.All(tasks, t => Assert.Equal(world.Project, Text(t, "project")));
        Assert.Empty(steps.Items("listOtherProject"));
        Assert.Single(steps.Items("listFirstPage"));
        Assert.True(steps.Ok("listFirstPage")!["hasMore"]!.GetValue<bool>());
        var task = steps.Ok("get");
        Assert.Equal(steps.Uids("list")[0], Text(task, "uid"));
        Assert.Equal(world.Project, Text(task, "project"));
        steps.NotFound("getMissing");
    }

    [SkippableFact]
    public async Task Webhooks_create_list_get_test_update_delete_and_their_deliveries()
    {
        var world = await server.CreateWorldAsync();
        var steps = await RunAsync("webhooks", world, new { targetUrl = server.ReceiverUrl, dataset = world.Dataset });

        var hook = steps.Ok("create");
        AssertUid(hook, "create");
        var uid = Text(hook, "uid");
        Assert.Equal(server.ReceiverUrl, Text(hook, "targetUrl"));
        Api.AssertJson("""["export.completed"]""", hook!["events"]);
        Assert.True(hook["isActive"]!.GetValue<bool>());
        Assert.Equal([uid], steps.Uids("list"));
        Assert.Equal(server.ReceiverUrl, Text(steps.Ok("get"), "targetUrl"));
        Assert.NotNull(steps.Ok("test"));

        // The export's completion is delivered to the receiver and listed as a delivery of this webhook.
        steps.Ok("export");
        var deliveries = steps.Ok("deliveries");
        Assert.True(deliveries is not null, "no export.completed delivery was listed within 20 s");
        var delivery = steps.Ok("delivery");
        AssertUid(delivery, "delivery");
        Assert.Equal("export.completed", Text(delivery, "eventType"));
        Assert.Equal(uid, Text(delivery, "subscription"));

        Assert.False(steps.Ok("deactivate")!["isActive"]!.GetValue<bool>());
        Assert.False(steps.Ok("getDeactivated")!["isActive"]!.GetValue<bool>());
        steps.Ok("delete");
        steps.NotFound("getDeleted");
    }

    /// <summary>What the area tests above call; every other SDK method is for something Annex does not have.</summary>
    private static readonly HashSet<string> Supported =
    [
        "exports.create", "exports.list", "exports.get",
        "datasets.create", "datasets.list", "datasets.get", "datasets.listItems", "datasets.getItem",
        "organizations.list", "organizations.get", "organizations.listMembers",
        "projects.list", "projects.get",
        "slices.create", "slices.list", "slices.get", "slices.listItems", "slices.getItem",
        "tasks.list", "tasks.get",
        "webhooks.create", "webhooks.list", "webhooks.get", "webhooks.update", "webhooks.delete", "webhooks.test",
        "webhookDeliveries.list", "webhookDeliveries.get",
    ];

    [SkippableFact]
    public async Task Methods_for_what_Annex_does_not_have_get_a_clean_404_or_405_with_a_detail()
    {
        var world = await server.CreateWorldAsync();
        var steps = await RunAsync("out-of-scope", world, new { owner = world.Owner, datasetSlug = world.DatasetSlug, project = world.Project });

        var methods = steps.Ok("methods")!.AsArray().Select(m => m!.GetValue<string>()).ToList();
        var called = steps.Names.Where(n => n != "methods").ToHashSet();
        var untested = string.Join(", ", methods.Where(m => !Supported.Contains(m) && !called.Contains(m)));
        Assert.True(untested.Length == 0, $"SDK methods no test calls (a newer SDK?): {untested}");
        var unknown = string.Join(", ", called.Where(c => !methods.Contains(c)));
        Assert.True(unknown.Length == 0, $"calls of methods the SDK does not have: {unknown}");

        var unclean = new List<string>();
        foreach (var name in called)
        {
            var error = steps.Error(name);
            var status = error["status"]?.GetValue<int>();
            var detail = error["body"]?["detail"]?.GetValue<string>();
            if (status is not (404 or 405) || string.IsNullOrWhiteSpace(detail) || error["name"]!.GetValue<string>() is not ("NotFoundError" or "AvalaError"))
            {
                unclean.Add($"{name}: {error.ToJsonString()}");
            }
        }

        Assert.True(unclean.Count == 0, "not a clean 404/405:\n" + string.Join('\n', unclean));
    }
}
