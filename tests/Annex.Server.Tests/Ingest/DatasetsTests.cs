using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>POST/GET /api/v1/datasets/: response shape, name validation, lookups.</summary>
public sealed class DatasetsTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Create_is_201_with_the_dataset_shape_and_get_returns_the_same()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var created = await tenant.Http.PostOkAsync("/api/v1/datasets/", new { name = "  Highway  " });

        Shape.HasFields(created, "uid", "name", "slug", "item_count", "data_type", "status", "visibility", "created_at");
        var uid = Shape.Uid(created["uid"]);
        Assert.Equal("Highway", created["name"]!.GetValue<string>());
        Assert.Equal(0, created["item_count"]!.GetValue<long>());
        Shape.Timestamp(created["created_at"]);

        // With and without the trailing slash, and with the uid in capitals.
        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/datasets/{uid}/"));
        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/datasets/{uid.ToUpperInvariant()}"));
    }

    [Fact]
    public async Task List_returns_the_organizations_datasets_in_creation_order()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var first = await tenant.Http.PostOkAsync("/api/v1/datasets", new { name = "One" });
        var second = await tenant.Http.PostOkAsync("/api/v1/datasets", new { name = "Two" });

        var page = await tenant.Http.GetOkAsync("/api/v1/datasets/");
        Shape.HasFields(page, "next", "previous", "results");
        Assert.Null(page["next"]);
        Assert.Null(page["previous"]);
        Api.AssertJson($"[{first.ToJsonString()}, {second.ToJsonString()}]", page["results"]);
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { "{}", """{"name": ["This field is required."]}""" },
        { """{"name": null}""", """{"name": ["This field may not be null."]}""" },
        { """{"name": ""}""", """{"name": ["This field may not be blank."]}""" },
        { """{"name": " \t "}""", """{"name": ["This field may not be blank."]}""" },
        { """{"name": ["Highway"]}""", """{"name": ["Not a valid string."]}""" },
        { """{"name": {"en": "Highway"}}""", """{"name": ["Not a valid string."]}""" },
        { $$"""{"name": "{{new string('d', 256)}}"}""", """{"name": ["Ensure this field has no more than 255 characters."]}""" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_bodies_are_400_and_create_nothing(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        await tenant.Http.PostRejectedAsync("/api/v1/datasets/", body, expected);

        var list = await tenant.Http.GetOkAsync("/api/v1/datasets/");
        Api.AssertJson("[]", list["results"]);
    }

    [Fact]
    public async Task A_name_of_255_characters_is_accepted()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var name = new string('d', 255);
        var created = await tenant.Http.PostOkAsync("/api/v1/datasets/", new { name });
        Assert.Equal(name, created["name"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("/api/v1/datasets/0190a5c4-0000-7000-8000-000000000000/")]
    [InlineData("/api/v1/datasets/not-a-uuid/")]
    [InlineData("/api/v1/datasets/0190a5c4-0000-7000-8000-000000000000/items/")]
    [InlineData("/api/v1/datasets/not-a-uuid/items/")]
    public async Task Unknown_or_malformed_uids_are_404(string url)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, body) = await tenant.Http.GetJsonAsync(url);
        Shape.IsNotFound(status, body);
    }

    [Fact]
    public async Task Adding_items_to_an_unknown_dataset_is_404()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (status, body) = await tenant.Http.PostJsonAsync($"/api/v1/datasets/{Guid.NewGuid()}/items/", new { items = new[] { new { ref_id = "a" } } });
        Shape.IsNotFound(status, body);
    }

    [Fact]
    public async Task Item_count_follows_every_successful_batch()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 3);
        await Seed.ItemsAsync(tenant.Http, dataset, 4, start: 10);

        var got = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/");
        Assert.Equal(7, got["item_count"]!.GetValue<long>());
        var listed = await tenant.Http.GetOkAsync("/api/v1/datasets/");
        Assert.Equal(7, listed["results"]![0]!["item_count"]!.GetValue<long>());
    }
}
