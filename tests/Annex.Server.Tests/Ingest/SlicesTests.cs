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

        Shape.HasFields(created, "uid", "name", "item_count", "created_at");
        var uid = Shape.Uid(created["uid"]);
        Assert.Equal("Night", created["name"]!.GetValue<string>());
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
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_bodies_are_400_and_create_nothing(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var items = await Seed.ItemsAsync(tenant.Http, await Seed.DatasetAsync(tenant.Http), 1);

        await tenant.Http.PostRejectedAsync("/api/v1/slices/", body.Replace("ITEM0", items[0], StringComparison.Ordinal), expected);

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
}
