using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>POST/GET /api/v1/slices/: named sets of items, possibly from several datasets.</summary>
public sealed class SlicesTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Create_is_201_with_the_slice_shape_and_get_returns_the_same()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var first = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http, "A"), 2);
        var second = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http, "B"), 1);

        var created = await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = " Night ", items = new[] { first[0], first[1].ToUpperInvariant(), second[0] } });

        Shape.HasFields(created, "uid", "name", "slug", "owner_name", "organization", "visibility", "status", "item_count", "created_at");
        var uid = Shape.Uid(created["uid"]);
        Assert.Equal("Night", created["name"]!.GetValue<string>());
        Assert.Equal("night", created["slug"]!.GetValue<string>());
        Assert.Equal("private", created["visibility"]!.GetValue<string>());
        Assert.Equal("ready", created["status"]!.GetValue<string>());
        Assert.Equal(tenant.Key.OrganizationUid.ToString(), created["organization"]!["uid"]!.GetValue<string>());
        Assert.Equal(created["owner_name"]!.GetValue<string>(), created["organization"]!["slug"]!.GetValue<string>());
        Assert.Equal(3, created["item_count"]!.GetValue<long>());
        Shape.Timestamp(created["created_at"]);

        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/slices/{uid}/"));
        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/slices/{uid}"));
        var list = await tenant.Http.GetOkAsync("/api/v1/slices/");
        Api.AssertJson($"[{created.ToJsonString()}]", list["results"]);
    }

    [Fact]
    public async Task An_item_named_twice_is_counted_once()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var items = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http), 2);
        var created = await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "Twice", items = new[] { items[0], items[1], items[0] } });
        Assert.Equal(2, created["item_count"]!.GetValue<long>());
        var got = await tenant.Http.GetOkAsync($"/api/v1/slices/{created["uid"]}/");
        Assert.Equal(2, got["item_count"]!.GetValue<long>());
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { "{}", """{"name": ["This field is required."], "items": ["This field is required."]}""" },
        { """{"name": " ", "items": ["ITEM0"]}""", """{"name": ["This field may not be blank."]}""" },
        { """{"name": "S", "items": null}""", """{"items": ["This field may not be null."]}""" },
        { """{"name": "S", "items": "ITEM0"}""", """{"items": ["Expected a list of items but got type \"str\"."]}""" },
        { """{"name": "S", "items": ["ITEM0", "frame_00002", 3]}""", """{"items": {"1": ["Must be a valid UUID."], "2": ["Must be a valid UUID."]}}""" },
        { """{"name": "S", "items": ["ITEM0", "0190a5c4-0000-7000-8000-00000000beef"]}""", """{"items": {"1": ["Invalid pk \"0190a5c4-0000-7000-8000-00000000beef\" - object does not exist."]}}""" },
        {
            """{"name": "S", "visibility": "private", "sub_slices": [{"type": "query", "dataset_uid": "DATASET"}]}""",
            """{"sub_slices": {"0": {"type": ["\"query\" is not a valid choice; Annex builds sub-slices of type \"dataset\" ({\"type\": \"dataset\", \"dataset_uid\": \"<uid>\"}: every item of the dataset)."]}}}"""
        },
        {
            """{"name": "S", "sub_slices": [{"type": "dataset", "dataset_uid": "DATASET", "filter": "label = car"}, "DATASET", {"type": "dataset"}]}""",
            """{"sub_slices": {"0": {"filter": ["Annex does not support this sub-slice option; a dataset sub-slice takes every item of the dataset."]}, "1": {"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}, "2": {"dataset_uid": ["This field is required."]}}}"""
        },
        { """{"name": "S", "sub_slices": [{"type": "dataset", "dataset_uid": "0190a5c4-0000-7000-8000-00000000beef"}]}""", """{"sub_slices": {"0": {"dataset_uid": ["Invalid pk \"0190a5c4-0000-7000-8000-00000000beef\" - object does not exist."]}}}""" },
        { """{"name": "S", "sub_slices": {}}""", """{"sub_slices": ["Expected a list of items but got type \"dict\"."]}""" },
        { """{"name": "S", "items": ["ITEM0"], "visibility": "secret"}""", """{"visibility": ["\"secret\" is not a valid choice; the choices are private, public."]}""" },
        { """{"name": "S", "items": ["ITEM0"], "random_selection_count": 0}""", """{"random_selection_count": ["Ensure this value is greater than or equal to 1."]}""" },
        { """{"name": "S", "items": ["ITEM0"], "organization": "someone-else"}""", """{"organization": ["Object with slug=someone-else does not exist."]}""" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_bodies_are_400_and_create_nothing(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var items = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http), 1);

        var dataset = await Seed.DatasetAsync(tenant.Http, "Other");
        await tenant.Http.PostRejectedAsync("/api/v1/slices/", body.Replace("ITEM0", items[0], StringComparison.Ordinal).Replace("DATASET", dataset, StringComparison.Ordinal), expected);

        var list = await tenant.Http.GetOkAsync("/api/v1/slices/");
        Api.AssertJson("[]", list["results"]);
    }

    [Theory]
    [InlineData("/api/v1/slices/0190a5c4-0000-7000-8000-000000000000/")]
    [InlineData("/api/v1/slices/not-a-uuid/")]
    public async Task Unknown_or_malformed_uids_are_404(string url)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, body) = await tenant.Http.GetJsonAsync(url);
        Shape.IsNotFound(status, body);
    }

    [Fact]
    public async Task Avala_routes_find_a_slice_by_owner_and_slug_and_list_its_items()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var dataset = await Seed.DatasetAsync(tenant.Http, "Road");
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 3);
        var created = await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "Hard Cases", items = new[] { items[2], items[0] } });
        var owner = created["owner_name"]!.GetValue<string>();
        Assert.Equal("hard-cases", created["slug"]!.GetValue<string>());

        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/slices/{owner}/hard-cases/"));
        Api.AssertJson($"[{created.ToJsonString()}]", (await tenant.Http.GetOkAsync($"/api/v1/slices/{owner}/list/"))["results"]);

        var listed = (await tenant.Http.GetOkAsync($"/api/v1/slices/{owner}/hard-cases/items/list/"))["results"]!.AsArray();
        Assert.Equal([items[0], items[2]], listed.Select(i => i!["uid"]!.GetValue<string>()));
        var item = listed[0]!;
        Shape.HasFields(item, "uid", "key", "dataset", "dataset_owner_name", "dataset_slug", "url", "metadata", "width", "height", "created_at", "updated_at");
        Assert.Equal("frame_00001", item["key"]!.GetValue<string>());
        Assert.Equal(dataset, item["dataset"]!.GetValue<string>());
        Assert.Equal(owner, item["dataset_owner_name"]!.GetValue<string>());
        Assert.Equal("road", item["dataset_slug"]!.GetValue<string>());
        Assert.Null(item["url"]);
        Api.AssertJson("""{"index": 1, "time": "night"}""", item["metadata"]);
        Api.AssertJson(item.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/slices/{owner}/hard-cases/items/{items[0]}/"));

        var page = await tenant.Http.GetOkAsync($"/api/v1/slices/{owner}/hard-cases/items/list/?limit=1");
        Assert.Single(page["results"]!.AsArray());
        Assert.NotNull(page["next"]);

        foreach (var url in new[]
        {
            $"/api/v1/slices/{owner}/hard-cases/items/{items[1]}/",
            $"/api/v1/slices/{owner}/hard-cases/items/not-a-uuid/",
            $"/api/v1/slices/{owner}/easy-cases/",
            $"/api/v1/slices/{owner}/easy-cases/items/list/",
            "/api/v1/slices/nobody/hard-cases/",
            "/api/v1/slices/nobody/list/",
        })
        {
            var (status, body) = await tenant.Http.GetJsonAsync(url);
            Shape.IsNotFound(status, body);
        }

        foreach (var url in new[] { $"/api/v1/slices/{owner}/list/", $"/api/v1/slices/{owner}/hard-cases/", $"/api/v1/slices/{owner}/hard-cases/items/list/", $"/api/v1/slices/{owner}/hard-cases/items/{items[0]}/" })
        {
            var (status, body) = await other.Http.GetJsonAsync(url);
            Shape.IsNotFound(status, body);
        }
    }

    [Fact]
    public async Task Sub_slices_take_every_item_of_a_dataset_and_a_random_selection_takes_a_sample()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var first = await Seed.DatasetAsync(tenant.Http, "A");
        var firstItems = await Seed.ItemsAsync(tenant.Http, first, 5);
        var second = await Seed.DatasetAsync(tenant.Http, "B");
        var secondItems = await Seed.ItemsAsync(tenant.Http, second, 3, prefix: "b_");

        // The body Avala's SDKs send.
        var whole = await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "All of A", visibility = "public", sub_slices = new[] { new { type = "dataset", dataset_uid = first } } });
        Assert.Equal(5, whole["item_count"]!.GetValue<long>());
        Assert.Equal("public", whole["visibility"]!.GetValue<string>());
        var owner = whole["owner_name"]!.GetValue<string>();
        var wholeItems = (await tenant.Http.GetOkAsync($"/api/v1/slices/{owner}/all-of-a/items/list/"))["results"]!.AsArray();
        Assert.Equal(firstItems, wholeItems.Select(i => i!["uid"]!.GetValue<string>()));

        var both = await tenant.Http.PostOkAsync("/api/v1/slices/", new
        {
            name = "Sample",
            visibility = "private",
            organization = owner,
            items = new[] { secondItems[0], firstItems[0] },
            sub_slices = new[] { new { type = "dataset", dataset_uid = first } },
            random_selection_count = 3,
        });
        Assert.Equal(3, both["item_count"]!.GetValue<long>());
        var sampled = (await tenant.Http.GetOkAsync($"/api/v1/slices/{owner}/sample/items/list/"))["results"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()).ToList();
        Assert.Equal(3, sampled.Distinct().Count());
        Assert.All(sampled, uid => Assert.Contains(uid, firstItems.Append(secondItems[0])));

        var union = await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "Union", organization = tenant.Key.OrganizationUid, items = secondItems, sub_slices = new[] { new { type = "dataset", dataset_uid = first } }, random_selection_count = 100 });
        Assert.Equal(8, union["item_count"]!.GetValue<long>());
        var empty = await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "Nothing yet", visibility = "private", sub_slices = Array.Empty<object>() });
        Assert.Equal(0, empty["item_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_slice_called_list_gets_a_slug_the_list_route_does_not_hide()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var items = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http), 1);
        var created = await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = "List", items });
        Assert.Equal("list-slice", created["slug"]!.GetValue<string>());
        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/slices/{created["owner_name"]}/list-slice/"));
    }
}
