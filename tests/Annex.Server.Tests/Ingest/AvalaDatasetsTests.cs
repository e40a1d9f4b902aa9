using System.Net;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>Datasets as the Avala SDKs use them: the create body (<c>name</c>, <c>slug</c>, <c>data_type</c>,
/// <c>visibility</c>, <c>create_metadata</c>), list filters and the owner/slug routes.</summary>
public sealed class AvalaDatasetsTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    /// <summary>What <c>datasets.create(name=..., slug=..., data_type="image")</c> sends.</summary>
    private static object SdkBody(string name, string slug, string dataType = "image", string visibility = "private") =>
        new { name, slug, data_type = dataType, visibility, create_metadata = true };

    [Fact]
    public async Task The_sdk_create_body_makes_a_dataset_with_its_slug_and_honest_type_and_status()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var created = await tenant.Http.PostOkAsync("/api/v1/datasets/", SdkBody("Night drive", "night-drive", visibility: "public"));

        Shape.HasFields(created, "uid", "name", "slug", "item_count", "data_type", "status", "visibility", "created_at");
        Assert.Equal("night-drive", created["slug"]!.GetValue<string>());
        Assert.Equal("image", created["data_type"]!.GetValue<string>());
        Assert.Equal("created", created["status"]!.GetValue<string>());
        Assert.Equal("public", created["visibility"]!.GetValue<string>());

        var uid = Shape.Uid(created["uid"]);
        Api.AssertJson(created.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/datasets/{uid}/"));
    }

    [Fact]
    public async Task A_slug_is_derived_from_the_name_when_none_is_given()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var first = await tenant.Http.PostOkAsync("/api/v1/datasets/", new { name = "Straßen & Brücken" });
        var second = await tenant.Http.PostOkAsync("/api/v1/datasets/", new { name = "Straßen & Brücken" });

        Assert.Equal("strassen-brucken", first["slug"]!.GetValue<string>());
        Assert.Equal("strassen-brucken-2", second["slug"]!.GetValue<string>());
        Assert.Equal("private", first["visibility"]!.GetValue<string>());

        // "items" would make /datasets/<owner>/items/ ambiguous.
        Assert.Equal("items-dataset", (await tenant.Http.PostOkAsync("/api/v1/datasets/", new { name = "Items" }))["slug"]!.GetValue<string>());
        await tenant.Http.PostRejectedAsync(
            "/api/v1/datasets/",
            """{"name": "Items", "slug": "items"}""",
            """{"slug": ["\"items\" is reserved: /datasets/<owner>/items/ is the item list of the dataset with the uid <owner>. Choose another slug."]}""");
    }

    [Fact]
    public async Task A_taken_slug_is_400_before_anything_is_written_so_a_retry_does_not_duplicate()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        await tenant.Http.PostOkAsync("/api/v1/datasets/", SdkBody("Night drive", "night-drive"));

        await tenant.Http.PostRejectedAsync(
            "/api/v1/datasets/",
            Api.Compact(SdkBody("Night drive", "night-drive")),
            """{"slug": ["A dataset with the slug \"night-drive\" already exists in your organization."]}""");

        var list = await tenant.Http.GetOkAsync("/api/v1/datasets/");
        Assert.Single(list["results"]!.AsArray());

        // Another organization may use the same slug.
        var other = await fixture.Factory.CreateTenantAsync();
        await other.Http.PostOkAsync("/api/v1/datasets/", SdkBody("Night drive", "night-drive"));
    }

    public static TheoryData<string, string> InvalidBodies => new()
    {
        { """{"name": "A", "slug": "Night Drive"}""", """{"slug": ["Enter a valid \"slug\" consisting of lowercase letters, numbers or hyphens (not at either end), at most 100 characters."]}""" },
        { """{"name": "A", "slug": ""}""", """{"slug": ["This field may not be blank."]}""" },
        { """{"name": "A", "slug": 7}""", """{"slug": ["Enter a valid \"slug\" consisting of lowercase letters, numbers or hyphens (not at either end), at most 100 characters."]}""" },
        { """{"name": "A", "data_type": "video"}""", """{"data_type": ["\"video\" is not a data type Annex can store. Choose one of: image."]}""" },
        { """{"name": "A", "data_type": "lidar"}""", """{"data_type": ["\"lidar\" is not a data type Annex can store. Choose one of: image."]}""" },
        { """{"name": "A", "data_type": null}""", """{"data_type": ["This field may not be null."]}""" },
        { """{"name": "A", "visibility": "secret"}""", """{"visibility": ["\"secret\" is not a valid choice. Choose one of: private, public."]}""" },
        { """{"name": "A", "create_metadata": "yes"}""", """{"create_metadata": ["Must be a valid boolean."]}""" },
        { """{"name": "A", "is_sequence": true}""", """{"is_sequence": ["Annex stores single images, not sequences."]}""" },
        { """{"name": "A", "provider_config": {"provider": "aws_s3"}}""", """{"provider_config": ["Annex keeps images in its own storage; upload them with /datasets/manual-upload/ or the item media endpoint."]}""" },
        { """{"name": "A", "owner_name": "someone-else"}""", """{"owner_name": ["Datasets are created in the organization of the API key; owner_name must be its slug."]}""" },
    };

    [Theory]
    [MemberData(nameof(InvalidBodies))]
    public async Task Invalid_sdk_fields_are_400_and_create_nothing(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        await tenant.Http.PostRejectedAsync("/api/v1/datasets/", body, expected);
        Api.AssertJson("[]", (await tenant.Http.GetOkAsync("/api/v1/datasets/"))["results"]);
    }

    [Fact]
    public async Task Owner_name_may_be_the_callers_organization()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Owner Name Org");
        var organization = (await tenant.Http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!;
        var slug = organization["slug"]!.GetValue<string>();
        var created = await tenant.Http.PostOkAsync("/api/v1/datasets/", new { name = "A", owner_name = slug, organization_uid = organization["uid"]!.GetValue<string>() });
        Assert.Equal("a", created["slug"]!.GetValue<string>());
    }

    [Fact]
    public async Task The_list_filters_by_name_data_type_status_and_visibility()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var night = await tenant.Http.PostOkAsync("/api/v1/datasets/", SdkBody("Night drive", "night", visibility: "public"));
        var day = await tenant.Http.PostOkAsync("/api/v1/datasets/", SdkBody("Day drive", "day"));

        async Task<string[]> Slugs(string query) =>
            [.. (await tenant.Http.GetOkAsync("/api/v1/datasets/" + query))["results"]!.AsArray().Select(d => d!["slug"]!.GetValue<string>())];

        Assert.Equal(["night", "day"], await Slugs(""));
        Assert.Equal(["night"], await Slugs("?name=night"));
        Assert.Equal(["night", "day"], await Slugs("?name=DRIVE"));
        Assert.Equal(["day"], await Slugs("?visibility=private"));
        Assert.Equal(["night"], await Slugs("?visibility=public&name=night"));
        Assert.Equal(["night", "day"], await Slugs("?data_type=image&status=created"));
        Assert.Empty(await Slugs("?data_type=video"));
        Assert.Empty(await Slugs("?status=creating"));
        Assert.Equal(["day"], await Slugs("?name=day&limit=1"));
        Assert.NotNull(night["uid"]);
        Assert.NotNull(day["uid"]);
    }

    [Fact]
    public async Task A_dataset_and_its_items_are_found_by_owner_and_slug()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Slug Owners");
        var owner = (await tenant.Http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!["slug"]!.GetValue<string>();
        var created = await tenant.Http.PostOkAsync("/api/v1/datasets/", SdkBody("Night drive", "night-drive"));
        var uid = created["uid"]!.GetValue<string>();
        var items = await Seed.ItemsAsync(tenant.Http, uid, 3);
        using (var uploaded = await tenant.Http.PutAsync($"/api/v1/datasets/{uid}/items/{items[0]}/media/", TenantObjects.PngUpload()))
        {
            Assert.Equal(HttpStatusCode.OK, uploaded.StatusCode);
        }

        var bySlug = await tenant.Http.GetOkAsync($"/api/v1/datasets/{owner}/night-drive/");
        Assert.Equal(uid, bySlug["uid"]!.GetValue<string>());
        Assert.Equal(3, bySlug["item_count"]!.GetValue<long>());

        var page = await tenant.Http.GetOkAsync($"/api/v1/datasets/{owner}/night-drive/items/?limit=2");
        Shape.HasFields(page, "next", "previous", "results");
        var first = page["results"]![0]!;
        Shape.HasFields(first, "uid", "key", "dataset", "dataset_slug", "dataset_owner_name", "url", "metadata", "width", "height", "created_at", "updated_at");
        Assert.Equal(items[0], first["uid"]!.GetValue<string>());
        Assert.Equal("frame_00001", first["key"]!.GetValue<string>());
        Assert.Equal(uid, first["dataset"]!.GetValue<string>());
        Assert.Equal("night-drive", first["dataset_slug"]!.GetValue<string>());
        Assert.Equal(owner, first["dataset_owner_name"]!.GetValue<string>());
        Assert.Equal(8, first["width"]!.GetValue<int>());

        // The uploaded image: its url serves it to the same key.
        var url = new Uri(first["url"]!.GetValue<string>());
        Assert.Equal($"/api/v1/datasets/{uid}/items/{items[0]}/media/", url.AbsolutePath);
        using (var image = await tenant.Http.GetAsync(url.PathAndQuery))
        {
            Assert.Equal(HttpStatusCode.OK, image.StatusCode);
            Assert.Equal("image/png", image.Content.Headers.ContentType!.MediaType);
        }

        var next = new Uri(page["next"]!.GetValue<string>()).PathAndQuery;
        var second = await tenant.Http.GetOkAsync(next);
        Assert.Single(second["results"]!.AsArray());

        // An item without an image has the URL it was created with (none here).
        var item = await tenant.Http.GetOkAsync($"/api/v1/datasets/{owner}/night-drive/items/{items[2]}/");
        Assert.Equal(items[2], item["uid"]!.GetValue<string>());
        Assert.Null(item["url"]);
        Assert.Equal(3, item["metadata"]!["index"]!.GetValue<int>());
    }

    [Fact]
    public async Task Owner_and_slug_routes_are_404_for_another_organization_and_for_unknown_names()
    {
        var owner = await fixture.Factory.CreateTenantAsync("Slug Victim");
        var ownerSlug = (await owner.Http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!["slug"]!.GetValue<string>();
        var uid = (await owner.Http.PostOkAsync("/api/v1/datasets/", SdkBody("Secret", "secret")))["uid"]!.GetValue<string>();
        var item = (await Seed.ItemsAsync(owner.Http, uid, 1))[0];

        var intruder = await fixture.Factory.CreateTenantAsync("Slug Intruder");
        var intruderSlug = (await intruder.Http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!["slug"]!.GetValue<string>();
        await intruder.Http.PostOkAsync("/api/v1/datasets/", SdkBody("Mine", "mine"));
        foreach (var url in new[]
        {
            $"/api/v1/datasets/{ownerSlug}/secret/", $"/api/v1/datasets/{ownerSlug}/secret/items/", $"/api/v1/datasets/{ownerSlug}/secret/items/{item}/",
            $"/api/v1/datasets/{intruderSlug}/secret/", $"/api/v1/datasets/{intruderSlug}/mine/items/{item}/", $"/api/v1/datasets/{intruderSlug}/nope/items/",
        })
        {
            var (status, body) = await intruder.Http.GetJsonAsync(url);
            Assert.True(status == HttpStatusCode.NotFound, $"{url}: {(int)status} {body?.ToJsonString()}");
            Api.AssertJson("""{"detail": "Not found."}""", body);
        }
    }
}
