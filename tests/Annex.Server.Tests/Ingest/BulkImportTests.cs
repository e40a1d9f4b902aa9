using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>The bulk write endpoints at their full batch sizes, <c>?existing=skip</c> for resumed imports, and
/// all-or-nothing batches when one element is wrong.</summary>
public sealed class BulkImportTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private static object[] NewItems(int count, int start = 0) =>
        [.. Enumerable.Range(start, count).Select(n => new
        {
            ref_id = "img/" + n.ToString("D6", CultureInfo.InvariantCulture) + ".jpg",
            width = 640,
            height = 480,
            metadata = new { n },
        })];

    private static object[] NewResults(IEnumerable<string> itemUids, string label = "car") =>
        [.. itemUids.Select((uid, i) => new
        {
            dataset_item_uid = uid,
            annotations = new[] { Seed.Box(label, 1 + (i % 50), 2, 30, 40), Seed.Box("truck", 5, 6, 7, 8) },
        })];

    [Fact]
    public async Task Ten_thousand_items_and_five_thousand_results_go_in_one_request_each()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);

        var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", new { items = NewItems(10_000) });
        Assert.Equal(10_000, created["count"]!.GetValue<int>());
        Assert.Equal(0, created["skipped"]!.GetValue<int>());
        var rows = created["items"]!.AsArray();
        Assert.Equal(10_000, rows.Count);
        Assert.Equal("img/009999.jpg", rows[9_999]!["ref_id"]!.GetValue<string>());
        Assert.Equal(10_000, rows.Select(r => r!["uid"]!.GetValue<string>()).Distinct().Count());
        Assert.Equal(10_000, (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/"))["item_count"]!.GetValue<long>());

        var uids = rows.Select(r => r!["uid"]!.GetValue<string>()).ToList();
        var upserted = await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/", new { results = NewResults(uids.Take(5_000)) });
        Assert.Equal(5_000, upserted["created"]!.GetValue<int>());
        Assert.Equal(5_000, upserted["results"]!.AsArray().Count);

        // What the bulk insert stored reads back as any other row does: through the list, in order, with its fields.
        var listed = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/?limit=3");
        Api.AssertJson(new JsonArray(rows[0]!.DeepClone(), rows[1]!.DeepClone(), rows[2]!.DeepClone()).ToJsonString(), listed["results"]);
        var result = await tenant.Http.GetOkAsync($"/api/v1/projects/{project}/results/?dataset_item={uids[4_999]}");
        Api.AssertJson(upserted["results"]![4_999]!.ToJsonString(), result["results"]![0]);
        Assert.Equal(2, result["results"]![0]!["annotation_count"]!.GetValue<int>());
    }

    [Fact]
    public async Task Existing_skip_leaves_stored_items_as_they_are_and_reports_them()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var first = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", new { items = NewItems(3) });

        // A resumed import sends the first three again, with other fields, and two new ones.
        var again = NewItems(5).Select((item, i) => i < 3 ? new { ref_id = $"img/{i:D6}.jpg", width = 9, height = 9, metadata = new { n = -1 } } : item).ToArray();
        var resumed = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/?existing=skip", new { items = again });

        Assert.Equal(2, resumed["count"]!.GetValue<int>());
        Assert.Equal(3, resumed["skipped"]!.GetValue<int>());
        var rows = resumed["items"]!.AsArray();
        Assert.Equal(5, rows.Count);
        for (var i = 0; i < 3; i++)
        {
            Api.AssertJson(first["items"]![i]!.ToJsonString(), rows[i]);
        }

        Assert.Equal(5, (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/"))["item_count"]!.GetValue<long>());
        var listed = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/");
        Assert.Equal(5, listed["results"]!.AsArray().Count);
        Assert.Equal(640, listed["results"]![0]!["width"]!.GetValue<int>());

        // Sending the whole batch once more writes nothing and is still a success.
        var third = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/?existing=skip", new { items = again });
        Assert.Equal(0, third["count"]!.GetValue<int>());
        Assert.Equal(5, third["skipped"]!.GetValue<int>());
        Api.AssertJson(resumed["items"]!.ToJsonString(), third["items"]);
        Assert.Equal(5, (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/"))["item_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Existing_skip_keeps_stored_results_and_the_default_still_replaces_them()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var uids = await Seed.ItemsAsync(tenant.Http, dataset, 4);
        var first = await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/", new { results = NewResults(uids.Take(2)) });

        var resumed = await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/?existing=skip", new { results = NewResults(uids, "pedestrian") });
        Assert.Equal(2, resumed["created"]!.GetValue<int>());
        Assert.Equal(0, resumed["updated"]!.GetValue<int>());
        Assert.Equal(2, resumed["skipped"]!.GetValue<int>());
        Api.AssertJson(first["results"]![0]!.ToJsonString(), resumed["results"]![0]);
        Assert.Equal("pedestrian", resumed["results"]![2]!["annotations"]![0]!["label"]!.GetValue<string>());

        var stored = await tenant.Http.GetOkAsync($"/api/v1/projects/{project}/results/?dataset_item={uids[1]}");
        Assert.Equal("car", stored["results"]![0]!["annotations"]![0]!["label"]!.GetValue<string>());

        // Nothing new: 200, not 201.
        var nothing = await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/?existing=skip", new { results = NewResults(uids, "truck") }, HttpStatusCode.OK);
        Assert.Equal(4, nothing["skipped"]!.GetValue<int>());

        var replaced = await tenant.Http.PostOkAsync($"/api/v1/projects/{project}/results/?existing=replace", new { results = NewResults(uids.Take(1), "truck") }, HttpStatusCode.OK);
        Assert.Equal(1, replaced["updated"]!.GetValue<int>());
        Assert.Equal(0, replaced["skipped"]!.GetValue<int>());
        stored = await tenant.Http.GetOkAsync($"/api/v1/projects/{project}/results/?dataset_item={uids[0]}");
        Assert.Equal("truck", stored["results"]![0]!["annotations"]![0]!["label"]!.GetValue<string>());
        Assert.Equal(4, (await tenant.Http.GetOkAsync($"/api/v1/projects/{project}/results/"))["results"]!.AsArray().Count);
    }

    [Fact]
    public async Task An_unknown_existing_choice_is_a_field_error()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);

        await tenant.Http.PostRejectedAsync($"/api/v1/datasets/{dataset}/items/?existing=overwrite", new { items = NewItems(1) },
            """{"existing": ["\"overwrite\" is not a valid choice. Choose one of: fail, skip."]}""");
        await tenant.Http.PostRejectedAsync($"/api/v1/projects/{project}/results/?existing=ignore", new { results = Array.Empty<object>() },
            """{"existing": ["\"ignore\" is not a valid choice. Choose one of: replace, skip."]}""");
        Assert.Empty((await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/"))["results"]!.AsArray());
    }

    [Fact]
    public async Task One_bad_element_at_the_end_of_a_full_batch_writes_nothing_and_names_its_index()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var stored = await Seed.ItemsAsync(tenant.Http, dataset, 1, prefix: "img/");

        var items = NewItems(10_000, start: 10);
        items[9_998] = new { ref_id = "img/00001", width = 1, height = 1, metadata = new { n = 0 } };
        items[9_999] = new { ref_id = "img/x.jpg", width = 0, height = 1, metadata = new { n = 0 } };
        await tenant.Http.PostRejectedAsync($"/api/v1/datasets/{dataset}/items/", new { items },
            """{"items": {"9999": {"width": ["Ensure this value is greater than or equal to 1."]}}}""");
        items[9_999] = new { ref_id = "img/x.jpg", width = 1, height = 1, metadata = new { n = 0 } };
        await tenant.Http.PostRejectedAsync($"/api/v1/datasets/{dataset}/items/", new { items },
            """{"items": {"9998": {"ref_id": ["An item with ref_id \"img/00001\" already exists in this dataset."]}}}""");
        Assert.Equal(1, (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/"))["item_count"]!.GetValue<long>());
        Assert.Single((await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/"))["results"]!.AsArray());

        // Results: a label the project lacks on the last of 5,000, and an item that does not exist.
        var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/?existing=skip", new { items = NewItems(4_999) });
        var uids = created["items"]!.AsArray().Select(r => r!["uid"]!.GetValue<string>()).Append(stored[0]).ToList();
        var results = NewResults(uids);
        results[4_999] = new { dataset_item_uid = uids[4_999], annotations = new[] { Seed.Box("bus", 1, 1, 1, 1) } };
        var (status, body) = await tenant.Http.PostJsonAsync($"/api/v1/projects/{project}/results/?existing=skip", new { results });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["results"]!["4999"]!["annotations"]!["0"]!["label"]);
        Assert.Null(body["results"]!["4998"]);

        var missing = Guid.NewGuid().ToString();
        results[4_999] = new { dataset_item_uid = missing, annotations = Array.Empty<object>() };
        await tenant.Http.PostRejectedAsync($"/api/v1/projects/{project}/results/", new { results },
            "{\"results\": {\"4999\": {\"dataset_item_uid\": [\"Invalid pk \\\"" + missing + "\\\" - object does not exist.\"]}}}");
        Assert.Empty((await tenant.Http.GetOkAsync($"/api/v1/projects/{project}/results/"))["results"]!.AsArray());
    }
}
