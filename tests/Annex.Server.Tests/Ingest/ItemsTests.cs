using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>POST/GET /api/v1/datasets/{uid}/items/: bulk creation, its validation, and all-or-nothing batches.</summary>
public sealed class ItemsTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private static readonly string[] ItemFields = ["uid", "ref_id", "metadata", "width", "height", "media_url", "created_at", "updated_at"];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Create_is_201_with_every_item_and_the_list_returns_the_same(bool bareArray)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        // uids are global, so each run brings its own; capitals check that answers are lowercase.
        var clientUid = Guid.NewGuid().ToString().ToUpperInvariant();
        var items = $$"""
            [
              {"ref_id": "cam0/000001.jpg", "metadata": {"camera": "front", "gps": {"lat": 52.5, "lon": 13.4}, "tags": ["day", "rain"], "name": "Zoë"},
               "width": 1920, "height": 1080, "media_url": "https://cdn.example.com/cam0/000001.jpg", "uid": "{{clientUid}}"},
              {"ref_id": "cam0/000002.jpg"},
              {"ref_id": "cam0/000003.jpg", "metadata": null, "width": null, "media_url": "s3://bucket/000003.jpg"}
            ]
            """;
        var body = bareArray ? items : $$"""{"items": {{items}}}""";

        var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", body);

        Shape.HasFields(created, "count", "items", "skipped");
        Assert.Equal(3, created["count"]!.GetValue<int>());
        var rows = created["items"]!.AsArray();
        Assert.Equal(3, rows.Count);
        foreach (var row in rows)
        {
            Shape.HasFields(row, ItemFields);
            Shape.Uid(row!["uid"]);
            Assert.Equal(Shape.Timestamp(row["created_at"]), Shape.Timestamp(row["updated_at"]));
        }

        Assert.Equal(clientUid.ToLowerInvariant(), rows[0]!["uid"]!.GetValue<string>());
        Api.AssertJson(
            """{"ref_id": "cam0/000001.jpg", "metadata": {"camera": "front", "gps": {"lat": 52.5, "lon": 13.4}, "tags": ["day", "rain"], "name": "Zoë"}, "width": 1920, "height": 1080, "media_url": "https://cdn.example.com/cam0/000001.jpg"}""",
            WithoutServerFields(rows[0]));
        Api.AssertJson("""{"ref_id": "cam0/000002.jpg", "metadata": {}, "width": null, "height": null, "media_url": null}""", WithoutServerFields(rows[1]));
        Api.AssertJson("""{"ref_id": "cam0/000003.jpg", "metadata": {}, "width": null, "height": null, "media_url": "s3://bucket/000003.jpg"}""", WithoutServerFields(rows[2]));

        // What was stored is what the create answered, in the same order.
        var listed = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/");
        Api.AssertJson(created["items"]!.ToJsonString(), listed["results"]);
        var got = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/");
        Assert.Equal(3, got["item_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Ref_ids_are_trimmed_and_numbers_are_taken_as_text()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", """{"items": [{"ref_id": "  a.jpg "}, {"ref_id": 42}]}""");
        Assert.Equal("a.jpg", created["items"]![0]!["ref_id"]!.GetValue<string>());
        Assert.Equal("42", created["items"]![1]!["ref_id"]!.GetValue<string>());
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { "{}", """{"items": ["This field is required."]}""" },
        { """{"items": []}""", """{"items": ["This list may not be empty."]}""" },
        { "[]", """{"items": ["This list may not be empty."]}""" },
        { """{"items": {"ref_id": "a"}}""", """{"items": ["Expected a list of items but got type \"dict\"."]}""" },
        { """{"items": "a"}""", """{"items": ["Expected a list of items but got type \"str\"."]}""" },
        { """[{"ref_id": "ok"}, "b"]""", """{"items": {"1": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}}}""" },
        { """[{"ref_id": "ok"}, 7]""", """{"items": {"1": {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}}}""" },
        { """[{"ref_id": "ok"}, {"metadata": {}}]""", """{"items": {"1": {"ref_id": ["This field is required."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": null}]""", """{"items": {"1": {"ref_id": ["This field may not be null."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": "  "}]""", """{"items": {"1": {"ref_id": ["This field may not be blank."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": ["x"]}]""", """{"items": {"1": {"ref_id": ["Not a valid string."]}}}""" },
        { $$"""[{"ref_id": "ok"}, {"ref_id": "{{new string('r', 1025)}}"}]""", """{"items": {"1": {"ref_id": ["Ensure this field has no more than 1024 characters."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": "b", "metadata": [1, 2]}]""", """{"items": {"1": {"metadata": ["Expected a dictionary of items but got type \"list\"."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": "b", "metadata": "x"}]""", """{"items": {"1": {"metadata": ["Expected a dictionary of items but got type \"str\"."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": "b", "width": 0, "height": -3}]""", """{"items": {"1": {"width": ["Ensure this value is greater than or equal to 1."], "height": ["Ensure this value is greater than or equal to 1."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": "b", "width": "wide", "height": 10.5}]""", """{"items": {"1": {"width": ["A valid integer is required."], "height": ["A valid integer is required."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": "b", "media_url": "not a url"}]""", """{"items": {"1": {"media_url": ["Enter a valid URL."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": "b", "media_url": "ftp://host/b.jpg"}]""", """{"items": {"1": {"media_url": ["Enter a valid URL."]}}}""" },
        { """[{"ref_id": "ok"}, {"ref_id": "b", "uid": "nope"}]""", """{"items": {"1": {"uid": ["Must be a valid UUID."]}}}""" },
        { """[{"ref_id": "a"}, {"ref_id": "b"}, {"ref_id": "a"}]""", """{"items": {"2": {"ref_id": ["Duplicate ref_id \"a\" in this request (also at index 0)."]}}}""" },
        { """[{"ref_id": "a", "uid": "0190a5c4-0000-7000-8000-0000000000aa"}, {"ref_id": "b", "uid": "0190A5C4-0000-7000-8000-0000000000AA"}]""", """{"items": {"1": {"uid": ["Duplicate uid in this request."]}}}""" },
        {
            """[{"ref_id": "ok"}, {"width": 0}, {"ref_id": "c", "media_url": "x"}]""",
            """{"items": {"1": {"ref_id": ["This field is required."], "width": ["Ensure this value is greater than or equal to 1."]}, "2": {"media_url": ["Enter a valid URL."]}}}"""
        },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_batches_are_400_with_nested_errors_and_write_nothing(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);

        await tenant.Http.PostRejectedAsync($"/api/v1/datasets/{dataset}/items/", body, expected);

        await AssertItemsAsync(tenant.Http, dataset, []);
    }

    [Fact]
    public async Task A_ref_id_already_stored_rejects_the_whole_batch()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 2);

        await tenant.Http.PostRejectedAsync(
            $"/api/v1/datasets/{dataset}/items/",
            """{"items": [{"ref_id": "frame_00003"}, {"ref_id": "frame_00002"}, {"ref_id": "frame_00004"}, {"ref_id": " frame_00001 "}]}""",
            """{"items": {"1": {"ref_id": ["An item with ref_id \"frame_00002\" already exists in this dataset."]}, "3": {"ref_id": ["An item with ref_id \"frame_00001\" already exists in this dataset."]}}}""");

        await AssertItemsAsync(tenant.Http, dataset, ["frame_00001", "frame_00002"]);
    }

    [Fact]
    public async Task A_uid_already_stored_rejects_the_whole_batch()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var existing = await Seed.ItemsAsync(tenant.Http, dataset, 1);

        await tenant.Http.PostRejectedAsync(
            $"/api/v1/datasets/{dataset}/items/",
            $$"""[{"ref_id": "new_1"}, {"ref_id": "new_2", "uid": "{{existing[0]}}"}]""",
            """{"items": {"1": {"uid": ["An item with this uid already exists."]}}}""");

        await AssertItemsAsync(tenant.Http, dataset, ["frame_00001"]);
    }

    [Fact]
    public async Task Ref_ids_are_unique_per_dataset_not_per_organization()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var first = await Seed.DatasetAsync(tenant.Http, "First");
        var second = await Seed.DatasetAsync(tenant.Http, "Second");
        await Seed.ItemsAsync(tenant.Http, first, 2);

        await Seed.ItemsAsync(tenant.Http, second, 2);

        await AssertItemsAsync(tenant.Http, first, ["frame_00001", "frame_00002"]);
        await AssertItemsAsync(tenant.Http, second, ["frame_00001", "frame_00002"]);
    }

    [Fact]
    public async Task Ref_ids_are_compared_case_sensitively()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", """[{"ref_id": "A.jpg"}, {"ref_id": "a.jpg"}]""");
        await AssertItemsAsync(tenant.Http, dataset, ["A.jpg", "a.jpg"]);
    }

    [Fact]
    public async Task More_than_ten_thousand_items_in_one_request_is_400()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = Enumerable.Range(0, 10_001).Select(i => new { ref_id = $"r{i}" }).ToArray();

        await tenant.Http.PostRejectedAsync($"/api/v1/datasets/{dataset}/items/", new { items }, """{"items": ["Ensure this field has no more than 10000 elements."]}""");

        await AssertItemsAsync(tenant.Http, dataset, []);
    }

    /// <summary>The dataset holds exactly these ref_ids, in this order, and its item_count agrees.</summary>
    private static async Task AssertItemsAsync(HttpClient client, string dataset, string[] refIds)
    {
        var rows = await client.AllPagesAsync($"/api/v1/datasets/{dataset}/items/");
        Assert.Equal(refIds, rows.Select(r => r["ref_id"]!.GetValue<string>()).ToArray());
        var got = await client.GetOkAsync($"/api/v1/datasets/{dataset}/");
        Assert.Equal(refIds.Length, got["item_count"]!.GetValue<long>());
    }

    private static JsonObject WithoutServerFields(JsonNode? item)
    {
        var copy = item!.DeepClone().AsObject();
        copy.Remove("uid");
        copy.Remove("created_at");
        copy.Remove("updated_at");
        return copy;
    }
}
