using System.Net;
using System.Net.Http.Headers;
using Annex.Server.Tests.Infrastructure;
using Annex.Tests;
using SkiaSharp;
using Xunit;

namespace Annex.Server.Tests.Console;

/// <summary>GET /api/v1/datasets/{uid}/items/{item_uid}/thumbnail/: made by the server from the uploaded image,
/// once, then served from the blob store with an ETag.</summary>
public sealed class ThumbnailTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    /// <summary>A real JPEG: four quadrants, red, green, blue and white, so a thumbnail can be checked by its pixels.</summary>
    public static byte[] Quadrants(int width, int height, SKEncodedImageFormat format = SKEncodedImageFormat.Jpeg)
    {
        using var surface = SKSurface.Create(new SKImageInfo(width, height));
        var canvas = surface.Canvas;
        using var paint = new SKPaint();
        (SKColor Color, SKRect Rect)[] parts =
        [
            (SKColors.Red, new SKRect(0, 0, width / 2f, height / 2f)),
            (SKColors.Lime, new SKRect(width / 2f, 0, width, height / 2f)),
            (SKColors.Blue, new SKRect(0, height / 2f, width / 2f, height)),
            (SKColors.White, new SKRect(width / 2f, height / 2f, width, height)),
        ];
        foreach (var (color, rect) in parts)
        {
            paint.Color = color;
            canvas.DrawRect(rect, paint);
        }

        using var image = surface.Snapshot();
        using var data = image.Encode(format, 95);
        return data.ToArray();
    }

    private static async Task UploadAsync(HttpClient http, string dataset, string item, byte[] image, string contentType = "image/jpeg")
    {
        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var form = new MultipartFormDataContent { { file, "file", "image" } };
        using var response = await http.PutAsync($"/api/v1/datasets/{dataset}/items/{item}/media/", form);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
    }

    private async Task<(HttpClient Http, string Dataset, List<string> Items)> WorldAsync()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 3);
        return (tenant.Http, dataset, items);
    }

    private static string Url(string dataset, string item, string query = "") => $"/api/v1/datasets/{dataset}/items/{item}/thumbnail/{query}";

    private string[] StoredThumbnails() =>
        Directory.Exists(Path.Combine(fixture.Factory.DataPath, "blobs", "thumbnails"))
            ? Directory.GetFiles(Path.Combine(fixture.Factory.DataPath, "blobs", "thumbnails"), "*", SearchOption.AllDirectories)
            : [];

    [Fact]
    public async Task A_thumbnail_is_the_image_scaled_down_made_once_and_revalidated_by_etag()
    {
        var (http, dataset, items) = await WorldAsync();
        await UploadAsync(http, dataset, items[0], Quadrants(640, 480));
        var before = StoredThumbnails().Length;

        using var first = await http.GetAsync(Url(dataset, items[0]));
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal("image/webp", first.Content.Headers.ContentType!.MediaType);
        var bytes = await first.Content.ReadAsByteArrayAsync();
        using (var bitmap = SKBitmap.Decode(bytes))
        {
            // The longer side becomes 256 and the aspect ratio stays; each quadrant keeps its colour.
            Assert.Equal((256, 192), (bitmap.Width, bitmap.Height));
            AssertNear(SKColors.Red, bitmap.GetPixel(64, 48));
            AssertNear(SKColors.Lime, bitmap.GetPixel(192, 48));
            AssertNear(SKColors.Blue, bitmap.GetPixel(64, 144));
            AssertNear(SKColors.White, bitmap.GetPixel(192, 144));
        }

        var etag = first.Headers.ETag!;
        Assert.True(first.Headers.CacheControl is { Private: true, NoCache: true }, first.Headers.CacheControl?.ToString());
        var stored = StoredThumbnails();
        Assert.Equal(before + 1, stored.Length);
        var madeAt = stored.Select(File.GetLastWriteTimeUtc).Max();

        using var second = await http.GetAsync(Url(dataset, items[0], "?size=256"));
        Assert.Equal(bytes, await second.Content.ReadAsByteArrayAsync());
        Assert.Equal(etag, second.Headers.ETag);
        Assert.Equal(before + 1, StoredThumbnails().Length);
        Assert.Equal(madeAt, StoredThumbnails().Select(File.GetLastWriteTimeUtc).Max());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, Url(dataset, items[0]));
        conditional.Headers.IfNoneMatch.Add(etag);
        using var notModified = await http.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());

        // The version in the ETag, given as v=, makes the URL one a browser may keep.
        var version = etag.Tag.Trim('"').Split('-')[0];
        using var pinned = await http.GetAsync(Url(dataset, items[0], $"?size=256&v={version}"));
        Assert.Contains("immutable", pinned.Headers.CacheControl!.ToString(), StringComparison.Ordinal);
        Assert.True(pinned.Headers.CacheControl.MaxAge > TimeSpan.FromDays(1));
    }

    [Theory]
    [InlineData(128, 128, 96)]
    [InlineData(512, 512, 384)]
    public async Task Each_size_bounds_the_longer_side(int size, int width, int height)
    {
        var (http, dataset, items) = await WorldAsync();
        await UploadAsync(http, dataset, items[0], Quadrants(480, 640, SKEncodedImageFormat.Png), "image/png");
        using var response = await http.GetAsync(Url(dataset, items[0], $"?size={size}"));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var bitmap = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((height, width), (bitmap.Width, bitmap.Height));
    }

    [Fact]
    public async Task A_small_image_is_never_scaled_up()
    {
        var (http, dataset, items) = await WorldAsync();
        await UploadAsync(http, dataset, items[0], TestImages.Png(8, 6), "image/png");
        using var response = await http.GetAsync(Url(dataset, items[0], "?size=512"));
        using var bitmap = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((8, 6), (bitmap.Width, bitmap.Height));
    }

    [Theory]
    [InlineData("?size=100", "\"100\" is not a valid choice. Choose one of: 128, 256, 512.")]
    [InlineData("?size=abc", "\"abc\" is not a valid choice. Choose one of: 128, 256, 512.")]
    [InlineData("?size=", "\"\" is not a valid choice. Choose one of: 128, 256, 512.")]
    [InlineData("?size=-256", "\"-256\" is not a valid choice. Choose one of: 128, 256, 512.")]
    public async Task A_wrong_size_is_a_field_error(string query, string message)
    {
        var (http, dataset, items) = await WorldAsync();
        await UploadAsync(http, dataset, items[0], Quadrants(64, 64));
        var (status, body) = await http.GetJsonAsync(Url(dataset, items[0], query));
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson(Api.Compact(new { size = new[] { message } }), body);
    }

    [Fact]
    public async Task External_media_is_409_no_media_404_and_an_undecodable_image_422()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var created = await tenant.Http.PostOkAsync($"/api/v1/datasets/{dataset}/items/", new { items = new object[] { new { ref_id = "remote", media_url = "https://images.example.com/a.jpg" }, new { ref_id = "bare" }, new { ref_id = "broken" } } });
        var uids = created["items"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()).ToList();

        var (remote, remoteBody) = await tenant.Http.GetJsonAsync(Url(dataset, uids[0]));
        Assert.Equal(HttpStatusCode.Conflict, remote);
        Assert.Contains("media_url", remoteBody!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        var (bare, _) = await tenant.Http.GetJsonAsync(Url(dataset, uids[1]));
        Assert.Equal(HttpStatusCode.NotFound, bare);

        // A WebP whose header is right (the upload accepts it) but whose picture data is not.
        await UploadAsync(tenant.Http, dataset, uids[2], TestImages.WebP(40, 30, "VP8 "), "image/webp");
        var (broken, brokenBody) = await tenant.Http.GetJsonAsync(Url(dataset, uids[2]));
        Assert.Equal((HttpStatusCode)422, broken);
        Assert.StartsWith("No thumbnail for item \"broken\": The stored image could not be decoded", brokenBody!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        var (unknown, _) = await tenant.Http.GetJsonAsync(Url(dataset, Guid.NewGuid().ToString()));
        Assert.Equal(HttpStatusCode.NotFound, unknown);
    }

    [Fact]
    public async Task A_replaced_image_gets_a_new_thumbnail_and_the_old_one_is_deleted()
    {
        var (http, dataset, items) = await WorldAsync();
        await UploadAsync(http, dataset, items[1], Quadrants(640, 480));
        using var first = await http.GetAsync(Url(dataset, items[1]));
        var firstTag = first.Headers.ETag!;
        var files = StoredThumbnails().Length;

        await UploadAsync(http, dataset, items[1], Quadrants(300, 100, SKEncodedImageFormat.Png), "image/png");
        Assert.Equal(files - 1, StoredThumbnails().Length);
        using var second = await http.GetAsync(Url(dataset, items[1]));
        Assert.NotEqual(firstTag, second.Headers.ETag);
        using var bitmap = SKBitmap.Decode(await second.Content.ReadAsByteArrayAsync());
        Assert.Equal((256, 85), (bitmap.Width, bitmap.Height));

        using var deleted = await http.DeleteAsync($"/api/v1/datasets/{dataset}/items/{items[1]}/media/");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(files - 1, StoredThumbnails().Length);
        var (gone, _) = await http.GetJsonAsync(Url(dataset, items[1]));
        Assert.Equal(HttpStatusCode.NotFound, gone);
    }

    /// <summary>A JPEG with an EXIF APP1 segment carrying <paramref name="orientation"/> (big-endian TIFF, one IFD0
    /// entry), put after the encoder's JFIF segment.</summary>
    public static byte[] WithOrientation(byte[] jpeg, int orientation)
    {
        byte[] exif =
        [
            .. "Exif\0\0"u8,
            (byte)'M', (byte)'M', 0, 42, 0, 0, 0, 8, // TIFF header: big-endian, IFD0 at offset 8
            0, 1, // one entry
            0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, (byte)orientation, 0, 0, // Orientation, SHORT, count 1, value
            0, 0, 0, 0, // no next IFD
        ];
        var at = jpeg[2] == 0xFF && jpeg[3] == 0xE0 ? 4 + ((jpeg[4] << 8) | jpeg[5]) : 2;
        byte[] segment = [0xFF, 0xE1, (byte)((exif.Length + 2) >> 8), (byte)(exif.Length + 2), .. exif];
        return [.. jpeg[..at], .. segment, .. jpeg[at..]];
    }

    [Theory]
    [InlineData(1, 64, 32, "red lime blue white")]
    [InlineData(3, 64, 32, "white blue lime red")]
    [InlineData(6, 32, 64, "blue red white lime")]
    [InlineData(8, 32, 64, "lime white red blue")]
    public async Task A_photo_with_an_exif_orientation_shows_upright_with_the_oriented_size(int orientation, int width, int height, string corners)
    {
        // Stored 64 x 32: red top-left, lime top-right, blue bottom-left, white bottom-right.
        var (http, dataset, items) = await WorldAsync();
        await UploadAsync(http, dataset, items[0], WithOrientation(Quadrants(64, 32), orientation));

        // The item's size is the shown one, so the gallery's overlay (drawn in the item's pixels) fits the thumbnail.
        var item = await http.GetOkAsync($"/api/v1/datasets/{dataset}/gallery/{items[0]}/");
        Assert.Equal((width, height), (item["width"]!.GetValue<int>(), item["height"]!.GetValue<int>()));

        using var response = await http.GetAsync(Url(dataset, items[0]));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var bitmap = SKBitmap.Decode(await response.Content.ReadAsByteArrayAsync());
        Assert.Equal((width, height), (bitmap.Width, bitmap.Height));
        var colors = new Dictionary<string, SKColor> { ["red"] = SKColors.Red, ["lime"] = SKColors.Lime, ["blue"] = SKColors.Blue, ["white"] = SKColors.White };
        var expected = corners.Split(' ').Select(c => colors[c]).ToArray();
        AssertNear(expected[0], bitmap.GetPixel(width / 4, height / 4));
        AssertNear(expected[1], bitmap.GetPixel(width * 3 / 4, height / 4));
        AssertNear(expected[2], bitmap.GetPixel(width / 4, height * 3 / 4));
        AssertNear(expected[3], bitmap.GetPixel(width * 3 / 4, height * 3 / 4));
    }

    private static void AssertNear(SKColor expected, SKColor actual) =>
        Assert.True(
            Math.Abs(expected.Red - actual.Red) < 24 && Math.Abs(expected.Green - actual.Green) < 24 && Math.Abs(expected.Blue - actual.Blue) < 24,
            $"expected about {expected}, got {actual}");
}
