using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>PUT/GET/DELETE /api/v1/datasets/{uid}/items/{item_uid}/media/: an item's image in the blob store.</summary>
public sealed class ItemMediaTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private const string NotAnImage = "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";

    [Fact]
    public async Task An_uploaded_image_is_stored_byte_for_byte_and_gives_the_item_its_size()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        var png = TestImages.Png(37, 21);

        var (status, body) = await UploadAsync(tenant.Http, dataset, item, png, "frame.png");

        Assert.Equal(HttpStatusCode.OK, status);
        Api.AssertJson($$"""{"item_uid": "{{item}}", "content_type": "image/png", "size": {{png.Length}}, "width": 37, "height": 21}""", body);
        var listed = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/");
        var row = listed["results"]!.AsArray().Single(r => r!["uid"]!.GetValue<string>() == item)!;
        Assert.Equal(37, row["width"]!.GetValue<int>());
        Assert.Equal(21, row["height"]!.GetValue<int>());

        using var download = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{item}/media/");
        Assert.Equal(HttpStatusCode.OK, download.StatusCode);
        Assert.Equal("image/png", download.Content.Headers.ContentType?.MediaType);
        Assert.Equal(png, await download.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_new_upload_replaces_the_image_and_delete_removes_it()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        await UploadAsync(tenant.Http, dataset, item, TestImages.Png(10, 10), "a.png");
        var jpeg = TestImages.Jpeg(1920, 1080);

        var (status, body) = await UploadAsync(tenant.Http, dataset, item, jpeg, "a.jpg");

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("image/jpeg", body!["content_type"]!.GetValue<string>());
        using (var download = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{item}/media/"))
        {
            Assert.Equal(jpeg, await download.Content.ReadAsByteArrayAsync());
        }

        using var deleted = await tenant.Http.DeleteAsync($"/api/v1/datasets/{dataset}/items/{item}/media/");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{item}/media/");
        Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
        Assert.DoesNotContain(
            Directory.EnumerateFiles(Path.Combine(fixture.Factory.DataPath, "blobs", "media"), "*", SearchOption.AllDirectories),
            f => f.Contains(Guid.Parse(item).ToString("N"), StringComparison.Ordinal));
    }

    [Fact]
    public async Task Downloads_honour_range_requests()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        var png = TestImages.Png(64, 64);
        await UploadAsync(tenant.Http, dataset, item, png, "a.png");

        using var request = new HttpRequestMessage(HttpMethod.Get, $"/api/v1/datasets/{dataset}/items/{item}/media/");
        request.Headers.Range = new RangeHeaderValue(8, 23);
        using var response = await tenant.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
        Assert.Equal(png[8..24], await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task A_file_that_is_not_an_image_is_a_400_and_keeps_the_previous_image()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        var png = TestImages.Png(5, 5);
        await UploadAsync(tenant.Http, dataset, item, png, "a.png");

        var (status, body) = await UploadAsync(tenant.Http, dataset, item, "%PDF-1.7 not an image"u8.ToArray(), "a.png");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson($$"""{"file": ["{{NotAnImage}}"]}""", body);
        using var download = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{item}/media/");
        Assert.Equal(png, await download.Content.ReadAsByteArrayAsync());
        var listed = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/");
        Assert.Equal(5, listed["results"]![0]!["width"]!.GetValue<int>());
    }

    [Fact]
    public async Task Bad_uploads_get_field_errors()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        var url = $"/api/v1/datasets/{dataset}/items/{item}/media/";

        var (status, body) = await tenant.Http.SendAsync(HttpMethod.Put, url, new { file = "x" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"file": ["No file was submitted. Check the encoding type on the form."]}""", body);

        using (var form = new MultipartFormDataContent { { new StringContent("x"), "other" } })
        {
            using var response = await tenant.Http.PutAsync(url, form);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Api.AssertJson("""{"file": ["No file was submitted."]}""", JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        }

        (status, body) = await UploadAsync(tenant.Http, dataset, item, [], "empty.png");
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"file": ["The submitted file is empty."]}""", body);

        using (var broken = new ByteArrayContent("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n\u0089PNG"u8.ToArray()))
        {
            broken.Headers.ContentType = MediaTypeHeaderValue.Parse("multipart/form-data; boundary=b");
            using var response = await tenant.Http.PutAsync(url, broken);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["file"]);
        }

        using var none = await tenant.Http.GetAsync(url);
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
    }

    [Fact]
    public async Task An_image_over_the_size_limit_is_refused_and_nothing_is_kept()
    {
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?> { ["Media:MaxUploadBytes"] = "4096" });
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];

        var (status, body) = await UploadAsync(tenant.Http, dataset, item, TestImages.Jpeg(100, 100, app1Length: 10_000), "big.jpg");

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"file": ["Ensure this file is at most 4096 bytes."]}""", body);
        using var none = await tenant.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{item}/media/");
        Assert.Equal(HttpStatusCode.NotFound, none.StatusCode);
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(factory.DataPath, "tmp")));
        Assert.False(Directory.Exists(Path.Combine(factory.DataPath, "blobs", "media")));
    }

    [Fact]
    public async Task Another_organizations_item_is_not_found()
    {
        var owner = await fixture.Factory.CreateTenantAsync();
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var dataset = await Seed.DatasetAsync(owner.Http);
        var item = (await Seed.ItemsAsync(owner.Http, dataset, 1))[0];
        await UploadAsync(owner.Http, dataset, item, TestImages.Png(3, 3), "a.png");

        var (status, _) = await UploadAsync(other.Http, dataset, item, TestImages.Png(4, 4), "b.png");
        Assert.Equal(HttpStatusCode.NotFound, status);
        using var read = await other.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{item}/media/");
        Assert.Equal(HttpStatusCode.NotFound, read.StatusCode);
        using var delete = await other.Http.DeleteAsync($"/api/v1/datasets/{dataset}/items/{item}/media/");
        Assert.Equal(HttpStatusCode.NotFound, delete.StatusCode);
        using var still = await owner.Http.GetAsync($"/api/v1/datasets/{dataset}/items/{item}/media/");
        Assert.Equal(HttpStatusCode.OK, still.StatusCode);
    }

    internal static async Task<(HttpStatusCode Status, JsonNode? Body)> UploadAsync(HttpClient client, string dataset, string item, byte[] bytes, string fileName)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = MediaTypeHeaderValue.Parse("application/octet-stream");
        form.Add(file, "file", fileName);
        using var response = await client.PutAsync($"/api/v1/datasets/{dataset}/items/{item}/media/", form);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }
}
