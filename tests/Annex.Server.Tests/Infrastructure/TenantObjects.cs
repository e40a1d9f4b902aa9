using System.Net;
using System.Net.Http.Headers;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>An organization with one of everything the API has a uid for: a dataset with items (the first
/// with an uploaded image), a project (with a keypoint label) and results, a slice, an export, a webhook,
/// a second API key, a manual upload link, a task (a result), a webhook delivery (a test event), the
/// organization's, dataset's and slice's slugs, and a spare dataset, project and slice for DELETE to take. Tests
/// that walk every endpoint fill the route's parameters from here.</summary>
public sealed record TenantObjects(
    HttpClient Http, string Dataset, string SpareDataset, List<string> Items, string Project, string SpareProject, string Slice, string SpareSlice, string Export, string Webhook, string Key,
    string OrganizationSlug, string DatasetSlug, string SliceSlug, string Upload, string Task, string Delivery, string Version, string SpareVersion)
{
    /// <summary>The webhook points at the discard port on loopback, so even a delivery would leave this
    /// machine alone; servers that hold these objects must allow loopback webhooks.</summary>
    public const string WebhookUrl = "http://127.0.0.1:9/hook";

    public static readonly IReadOnlyDictionary<string, string?> ServerSettings = new Dictionary<string, string?> { ["Webhooks:AllowPrivateAddresses"] = "true" };

    /// <summary>The uids, which no refusal or other organization's list may show. (Slugs are left out: they are
    /// names, and another organization may well have the same.)</summary>
    public IEnumerable<string> All => [Dataset, SpareDataset, .. Items, Project, SpareProject, Slice, SpareSlice, Export, Webhook, Key, Upload, Task, Delivery, Version, SpareVersion];

    public static async Task<TenantObjects> CreateAsync(HttpClient http, bool waitForExport)
    {
        var dataset = await Seed.DatasetAsync(http);
        var items = await Seed.ItemsAsync(http, dataset, 3);
        using (var uploaded = await http.PutAsync($"/api/v1/datasets/{dataset}/items/{items[0]}/media/", PngUpload()))
        {
            Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        }

        var project = await Seed.ProjectAsync(http, labels: [.. Seed.DefaultLabels, new { name = "person", color = "#00FFFF", keypoints = new[] { "head", "hand" }, skeleton = new[] { new[] { 1, 2 } } }]);
        await Seed.ResultsAsync(http, project, items, perItem: 2);
        var sliceCreated = await http.PostOkAsync("/api/v1/slices/", new { name = "Mine", items });
        var slice = sliceCreated["uid"]!.GetValue<string>();
        var (_, tasks) = await http.GetJsonAsync($"/api/v1/tasks/?project={project}&limit=1");
        var task = tasks!["results"]![0]!["uid"]!.GetValue<string>();
        var export = (await Seed.ExportAsync(http, "owned", datasets: [dataset]))["uid"]!.GetValue<string>();
        if (waitForExport)
        {
            await Seed.WaitForAsync(http, export, ["exported"]);
        }

        var webhook = (await http.PostOkAsync("/api/v1/webhooks/", new { url = WebhookUrl, events = new[] { "export.completed" } }))["uid"]!.GetValue<string>();
        var key = (await http.PostOkAsync("/api/v1/api-keys/", new { name = "pipeline" }))["uid"]!.GetValue<string>();

        // Nothing listens on the discard port, so the test event fails at once and, being a test, is not retried.
        var tested = await http.PostOkAsync($"/api/v1/webhooks/{webhook}/test/", new { }, HttpStatusCode.OK);
        var delivery = tested["delivery"]!["uid"]!.GetValue<string>();
        var spare = await Seed.DatasetAsync(http, "Spare");
        var spareItems = await Seed.ItemsAsync(http, spare, 2);
        var spareProject = await Seed.ProjectAsync(http);
        await Seed.ResultsAsync(http, spareProject, spareItems, perItem: 1);
        var spareSlice = (await http.PostOkAsync("/api/v1/slices/", new { name = "Spare", items = spareItems }))["uid"]!.GetValue<string>();
        var organizationSlug = (await http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!["slug"]!.GetValue<string>();
        var datasetSlug = (await http.GetOkAsync($"/api/v1/datasets/{dataset}/"))["slug"]!.GetValue<string>();
        var upload = (await http.PostOkAsync(
            "/api/v1/datasets/manual-upload/file-upload-url/", new { dataset_name = "Uploaded", file_path_in_dataset = "a.png", content_length = 100 }, HttpStatusCode.OK))["uid"]!.GetValue<string>();
        var version = (await http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "v1" }))["uid"]!.GetValue<string>();
        var spareVersion = (await http.PostOkAsync($"/api/v1/datasets/{dataset}/versions/", new { name = "spare" }))["uid"]!.GetValue<string>();
        return new TenantObjects(
            http, dataset, spare, items, project, spareProject, slice, spareSlice, export, webhook, key,
            organizationSlug, datasetSlug, sliceCreated["slug"]!.GetValue<string>(), upload, task, delivery, version, spareVersion);
    }

    /// <summary>The uid a route parameter takes; a parameter no case knows fails the test, so a new route
    /// cannot go unwalked.</summary>
    public string UidFor(ApiEndpoint endpoint, string parameter) => (parameter, endpoint.Resource) switch
    {
        ("itemUid", _) => Items[0],
        ("uploadUid", _) => Upload,
        ("slug", "datasets") => DatasetSlug,
        ("slug", "organizations") => OrganizationSlug,
        ("projectUid", _) => Project,
        // A version is deleted from the dataset that holds it; the spare version, so the others stay.
        ("uid", "datasets") when endpoint.Parameters.Contains("version") => Dataset,
        ("version", _) when endpoint.Method == "DELETE" => SpareVersion,
        ("version", _) => Version,
        ("other", _) => Version,
        // Deleting what other requests use would leave them nothing but 404s.
        ("uid", "datasets") when endpoint.Method == "DELETE" => SpareDataset,
        ("uid", "projects") when endpoint.Method == "DELETE" => SpareProject,
        ("uid", "slices") when endpoint.Method == "DELETE" => SpareSlice,
        ("uid", "datasets") => Dataset,
        ("uid", "projects") => Project,
        ("uid", "slices") => Slice,
        ("uid", "exports") => Export,
        ("uid", "webhooks") => Webhook,
        ("uid", "api-keys") => Key,
        ("uid", "tasks") => Task,
        ("uid", "webhook-deliveries") => Delivery,
        // /users/me/projects/{uid}
        ("uid", "users") => Project,
        ("owner", _) => OrganizationSlug,
        ("slug", "slices") => SliceSlug,
        _ => throw new InvalidOperationException($"{endpoint} has the parameter {{{parameter}}}, which no test knows: add an object for it to {nameof(TenantObjects)}."),
    };

    public static MultipartFormDataContent PngUpload()
    {
        var file = new ByteArrayContent(TestImages.Png(8, 6));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
        return new MultipartFormDataContent { { file, "file", "a.png" } };
    }
}
