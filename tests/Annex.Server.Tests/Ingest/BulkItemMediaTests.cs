using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>POST /api/v1/datasets/{uid}/items/media/: many items' images in one request, all or nothing.</summary>
public sealed class BulkItemMediaTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Files_find_their_items_by_ref_id_by_name_without_extension_and_by_uid()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", new
        {
            items = new object[] { new { ref_id = "cam/a.png" }, new { ref_id = "b" }, new { ref_id = "c" } },
        }, HttpStatusCode.Created);
        var items = (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/"))["results"]!.AsArray()
            .ToDictionary(r => r!["ref_id"]!.GetValue<string>(), r => r!["uid"]!.GetValue<string>());
        var a = TestImages.Png(11, 12);
        var b = TestImages.Jpeg(30, 20);
        var c = TestImages.Gif(5, 6);

        var (status, body) = await BulkAsync(tenant.Http, dataset, ("cam/a.png", a), ("b.jpg", b), ($"{items["c"]}.gif", c));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(3, body!["uploaded"]!.GetValue<int>());
        Api.AssertJson(
            $$"""{"item_uid": "{{items["b"]}}", "content_type": "image/jpeg", "size": {{b.Length}}, "width": 30, "height": 20}""",
            body["items"]![1]);
        foreach (var (refId, bytes) in new[] { ("cam/a.png", a), ("b", b), ("c", c) })
        {
            using var download = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{items[refId]}/media/");
            Assert.Equal(HttpStatusCode.OK, download.StatusCode);
            Assert.Equal(bytes, await download.Content.ReadAsByteArrayAsync());
        }
    }

    [Fact]
    public async Task One_bad_file_rejects_the_whole_request_and_leaves_every_item_and_the_store_as_they_were()
    {
        using var factory = new AnnexFactory();
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 3);
        var first = TestImages.Png(4, 4);
        Assert.Equal(HttpStatusCode.OK, (await ItemMediaTests.UploadAsync(tenant.Http, dataset, items[0], first, "x.png")).Status);
        var blobsBefore = MediaBlobs(factory);

        var (status, body) = await BulkAsync(
            tenant.Http, dataset, ("frame_00001.png", TestImages.Png(8, 8)), ("frame_00002.png", TestImages.Png(9, 9)), ("frame_00003.png", "%PDF-1.7"u8.ToArray()));

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"files": ["frame_00003.png: Upload a valid image. The file you uploaded was either not an image or a corrupted image."]}""", body);
        using (var kept = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{items[0]}/media/"))
        {
            Assert.Equal(first, await kept.Content.ReadAsByteArrayAsync());
        }

        using (var none = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{items[1]}/media/"))
        {
            Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        }

        Assert.Equal(blobsBefore, MediaBlobs(factory));

        // A file that names no item, or an item another file already took, fails the request the same way.
        (status, body) = await BulkAsync(
            tenant.Http, dataset, ("frame_00001.png", TestImages.Png(8, 8)), ("nope.png", TestImages.Png(8, 8)), ("frame_00001.jpg", TestImages.Jpeg(8, 8)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""
            {"files": [
              "nope.png: No item of this dataset has this file name (or its name without the extension) as its ref_id or uid.",
              "frame_00001.jpg: Item frame_00001 already gets the file frame_00001.png in this request."]}
            """, body);
        Assert.Equal(blobsBefore, MediaBlobs(factory));
    }

    [Fact]
    public async Task Replacing_images_in_bulk_removes_the_images_they_replace()
    {
        using var factory = new AnnexFactory();
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 2);
        Assert.Equal(HttpStatusCode.OK, (await BulkAsync(tenant.Http, dataset, ("frame_00001.png", TestImages.Png(2, 2)), ("frame_00002.png", TestImages.Png(3, 3)))).Status);
        var replacement = TestImages.Png(5, 5);

        Assert.Equal(HttpStatusCode.OK, (await BulkAsync(tenant.Http, dataset, ("frame_00001.png", replacement))).Status);
        Assert.Equal(HttpStatusCode.OK, (await ItemMediaTests.UploadAsync(tenant.Http, dataset, items[1], replacement, "x.png")).Status);

        Assert.Equal(2, MediaBlobs(factory).Count);
        using var download = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{items[0]}/media/");
        Assert.Equal(replacement, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task Too_many_files_is_400_and_too_many_bytes_is_413_and_neither_stores_anything()
    {
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?>
        {
            ["Media:MaxFilesPerRequest"] = "2",
            ["Media:MaxBulkUploadBytes"] = "100000",
        });
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 3);

        var (status, body) = await BulkAsync(
            tenant.Http, dataset, ("frame_00001.png", TestImages.Png(2, 2)), ("frame_00002.png", TestImages.Png(2, 2)), ("frame_00003.png", TestImages.Png(2, 2)));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"files": ["Ensure this request has at most 2 files; send the rest in another request."]}""", body);

        // 60,000 bytes each: the second file takes the request past 100,000 bytes while it streams.
        (status, body) = await BulkAsync(
            tenant.Http, dataset, ("frame_00001.jpg", TestImages.Jpeg(8, 8, app1Length: 60_000)), ("frame_00002.jpg", TestImages.Jpeg(8, 8, app1Length: 60_000)));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, status);
        Api.AssertJson("""{"detail": "The images of one request may total at most 100000 bytes; send the rest in another request."}""", body);
        Assert.Empty(MediaBlobs(factory));
    }

    [Fact]
    public async Task A_body_that_is_not_multipart_or_has_no_files_is_400_and_another_organizations_dataset_is_404()
    {
        var owner = await fixture.Factory.CreateTenantAsync("Owner");
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var dataset = await Seed.DatasetAsync(owner.Http);
        await Seed.ItemsAsync(owner.Http, dataset, 1);

        using var json = await owner.Http.PostAsync($"/api/v1/datasets/{dataset}/items/media/", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.BadRequest, json.StatusCode);
        var (status, body) = await BulkAsync(owner.Http, dataset);
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"files": ["No file was submitted. Check the encoding type on the form."]}""", body);
        (status, _) = await BulkAsync(other.Http, dataset, ("frame_00001.png", TestImages.Png(2, 2)));
        Assert.Equal(HttpStatusCode.NotFound, status);
    }

    internal static async Task<(HttpStatusCode Status, JsonNode? Body)> BulkAsync(HttpClient client, string dataset, params (string Name, byte[] Bytes)[] files)
    {
        using var form = new MultipartFormDataContent { { new StringContent("ignored"), "note" } };
        foreach (var (name, bytes) in files)
        {
            var file = new ByteArrayContent(bytes);
            file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            form.Add(file, "files", name);
        }

        using var response = await client.PostAsync($"/api/v1/datasets/{dataset}/items/media/", form);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private static List<string> MediaBlobs(AnnexFactory factory)
    {
        var root = Path.Combine(factory.DataPath, "blobs", "media");
        return Directory.Exists(root) ? [.. Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)] : [];
    }
}
