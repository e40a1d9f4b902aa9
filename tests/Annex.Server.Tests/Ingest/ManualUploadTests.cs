using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Annex.Tests;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>
/// The Python SDK's <c>datasets.upload_files</c> + <c>create_from_manual_upload</c> (what <c>create_from_local</c>
/// does) on local storage, replayed request by request: an upload URL per file (with the API key), a form POST
/// of the file to that URL (without it), then the dataset's create body.
/// </summary>
public sealed class ManualUploadTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Files_uploaded_through_signed_links_become_the_items_of_the_new_dataset()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Uploader");
        var anonymous = fixture.Factory.CreateClientWithKey(null);
        var png = TestImages.Png(40, 30);
        var jpeg = TestImages.Jpeg(64, 48);

        await ManualUpload.UploadAsync(tenant.Http, anonymous, "Cats", "cats/a.png", png, "image/png", expectLocal: true);
        await ManualUpload.UploadAsync(tenant.Http, anonymous, "Cats", "b.jpg", jpeg, "image/jpeg", expectLocal: true);
        // Files for another dataset name stay out of this one.
        await ManualUpload.UploadAsync(tenant.Http, anonymous, "Dogs", "dog.png", png, "image/png", expectLocal: true);

        var dataset = await tenant.Http.PostOkAsync("/api/v1/datasets/manual-upload/", ManualUpload.CreateBody("Cats", "cats"));
        Assert.Equal("cats", dataset["slug"]!.GetValue<string>());
        Assert.Equal(2, dataset["item_count"]!.GetValue<long>());
        // What create_from_local(wait=True) polls for.
        var uid = dataset["uid"]!.GetValue<string>();
        Assert.Equal("created", (await tenant.Http.GetOkAsync($"/api/v1/datasets/{uid}/"))["status"]!.GetValue<string>());

        var owner = (await tenant.Http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!["slug"]!.GetValue<string>();
        var items = (await tenant.Http.GetOkAsync($"/api/v1/datasets/{owner}/cats/items/"))["results"]!.AsArray();
        Assert.Equal(["b.jpg", "cats/a.png"], items.Select(i => i!["key"]!.GetValue<string>()));
        Assert.Equal([64, 40], items.Select(i => i!["width"]!.GetValue<int>()));
        Assert.Equal([48, 30], items.Select(i => i!["height"]!.GetValue<int>()));

        // The bytes are the item's image, served and exported like an uploaded one.
        var url = new Uri(items[1]!["url"]!.GetValue<string>());
        using var image = await tenant.Http.GetAsync(url.PathAndQuery);
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal("image/png", image.Content.Headers.ContentType!.MediaType);
        Assert.Equal(png, await image.Content.ReadAsByteArrayAsync());

        // The uploads were used up: a second dataset of the same name finds none.
        await tenant.Http.PostRejectedAsync(
            "/api/v1/datasets/manual-upload/",
            Api.Compact(ManualUpload.CreateBody("Cats", "cats-again")),
            """{"name": ["No files were uploaded for a dataset named \"Cats\"; upload them with /datasets/manual-upload/file-upload-url/ first."]}""");
    }

    [Fact]
    public async Task An_upload_link_is_signed_single_use_and_bound_to_its_upload()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var anonymous = fixture.Factory.CreateClientWithKey(null);
        var png = TestImages.Png(8, 6);
        var first = await ManualUpload.TargetAsync(tenant.Http, "Links", "a.png", png.Length);
        var second = await ManualUpload.TargetAsync(tenant.Http, "Links", "b.png", png.Length);
        var firstUrl = first["url"]!.GetValue<string>();
        var secondUrl = second["url"]!.GetValue<string>();

        // Without its signature, with another link's signature, or with the signature changed: 403.
        var unsigned = firstUrl[..firstUrl.IndexOf('?', StringComparison.Ordinal)];
        var swapped = unsigned + secondUrl[secondUrl.IndexOf('?', StringComparison.Ordinal)..];
        var altered = firstUrl[..^2] + (firstUrl.EndsWith("AA", StringComparison.Ordinal) ? "BB" : "AA");
        foreach (var url in new[] { unsigned, swapped, altered })
        {
            using var refused = await ManualUpload.PostFileAsync(anonymous, url, [], "a.png", png, "image/png");
            Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
            Assert.Contains("Invalid upload signature", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var stored = await ManualUpload.PostFileAsync(anonymous, firstUrl, [], "a.png", png, "image/png"))
        {
            Assert.Equal(HttpStatusCode.NoContent, stored.StatusCode);
        }

        using (var again = await ManualUpload.PostFileAsync(anonymous, firstUrl, [], "a.png", png, "image/png"))
        {
            Assert.Equal(HttpStatusCode.Conflict, again.StatusCode);
            Assert.Contains("already used", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Uploads_obey_the_item_media_rules_and_a_refused_file_can_be_sent_again()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var anonymous = fixture.Factory.CreateClientWithKey(null);
        var png = TestImages.Png(8, 6);

        // Larger than images may be, or empty: refused before a link exists.
        var (tooLarge, tooLargeBody) = await tenant.Http.PostJsonAsync(
            "/api/v1/datasets/manual-upload/file-upload-url/", new { dataset_name = "Rules", file_path_in_dataset = "big.png", content_length = 100L * 1024 * 1024 + 1 });
        Assert.Equal(HttpStatusCode.BadRequest, tooLarge);
        Api.AssertJson("""{"content_length": ["Ensure this file is at most 104857600 bytes."]}""", tooLargeBody);
        var (missing, missingBody) = await tenant.Http.PostJsonAsync("/api/v1/datasets/manual-upload/file-upload-url/", new { content_length = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Api.AssertJson(
            """{"dataset_name": ["This field is required."], "file_path_in_dataset": ["This field is required."], "content_length": ["The submitted file is empty."]}""",
            missingBody);

        var target = await ManualUpload.TargetAsync(tenant.Http, "Rules", "notes.png", png.Length);
        var url = target["url"]!.GetValue<string>();
        using (var text = await ManualUpload.PostFileAsync(anonymous, url, [], "notes.png", "not an image"u8.ToArray(), "image/png"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, text.StatusCode);
            Api.AssertJson("""{"file": ["Upload a valid image. The file you uploaded was either not an image or a corrupted image."]}""", JsonNode.Parse(await text.Content.ReadAsStringAsync()));
        }

        // More bytes than the link was made for.
        using (var longer = await ManualUpload.PostFileAsync(anonymous, url, [], "notes.png", [.. png, .. new byte[10]], "image/png"))
        {
            Assert.Equal(HttpStatusCode.BadRequest, longer.StatusCode);
            Assert.Contains("at most", await longer.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        // Nothing was kept, so there is nothing to create a dataset from yet; the same link still takes the right file.
        await tenant.Http.PostRejectedAsync(
            "/api/v1/datasets/manual-upload/",
            Api.Compact(ManualUpload.CreateBody("Rules", "rules")),
            """{"name": ["No files were uploaded for a dataset named \"Rules\"; upload them with /datasets/manual-upload/file-upload-url/ first."]}""");
        using (var stored = await ManualUpload.PostFileAsync(anonymous, url, [], "notes.png", png, "image/png"))
        {
            Assert.Equal(HttpStatusCode.NoContent, stored.StatusCode);
        }

        var dataset = await tenant.Http.PostOkAsync("/api/v1/datasets/manual-upload/", ManualUpload.CreateBody("Rules", "rules"));
        Assert.Equal(1, dataset["item_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task A_taken_slug_or_a_bad_data_type_writes_nothing_and_keeps_the_uploads_for_a_retry()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var anonymous = fixture.Factory.CreateClientWithKey(null);
        await tenant.Http.PostOkAsync("/api/v1/datasets/", new { name = "Existing", slug = "taken" });
        await ManualUpload.UploadAsync(tenant.Http, anonymous, "Retry", "a.png", TestImages.Png(8, 6), "image/png", expectLocal: true);

        await tenant.Http.PostRejectedAsync(
            "/api/v1/datasets/manual-upload/",
            Api.Compact(ManualUpload.CreateBody("Retry", "taken")),
            """{"slug": ["A dataset with the slug \"taken\" already exists in your organization."]}""");
        await tenant.Http.PostRejectedAsync(
            "/api/v1/datasets/manual-upload/",
            Api.Compact(new { name = "Retry", slug = "retry", data_type = "video" }),
            """{"data_type": ["\"video\" is not a data type Annex can store. Choose one of: image."]}""");
        Assert.Single((await tenant.Http.GetOkAsync("/api/v1/datasets/"))["results"]!.AsArray());

        var dataset = await tenant.Http.PostOkAsync("/api/v1/datasets/manual-upload/", ManualUpload.CreateBody("Retry", "retry"));
        Assert.Equal(1, dataset["item_count"]!.GetValue<long>());
    }

    [Fact]
    public async Task Another_organization_cannot_use_or_claim_the_uploads()
    {
        var owner = await fixture.Factory.CreateTenantAsync();
        var anonymous = fixture.Factory.CreateClientWithKey(null);
        await ManualUpload.UploadAsync(owner.Http, anonymous, "Private files", "a.png", TestImages.Png(8, 6), "image/png", expectLocal: true);

        var intruder = await fixture.Factory.CreateTenantAsync();
        await intruder.Http.PostRejectedAsync(
            "/api/v1/datasets/manual-upload/",
            Api.Compact(ManualUpload.CreateBody("Private files", "private-files")),
            """{"name": ["No files were uploaded for a dataset named \"Private files\"; upload them with /datasets/manual-upload/file-upload-url/ first."]}""");

        var dataset = await owner.Http.PostOkAsync("/api/v1/datasets/manual-upload/", ManualUpload.CreateBody("Private files", "private-files"));
        Assert.Equal(1, dataset["item_count"]!.GetValue<long>());
    }
}

/// <summary>The requests the Python SDK makes for a manual upload.</summary>
public static class ManualUpload
{
    /// <summary><c>create_from_manual_upload(name=..., slug=..., data_type="image")</c>'s body.</summary>
    public static object CreateBody(string name, string slug) => new { name, slug, data_type = "image", visibility = "private", create_metadata = true };

    /// <summary><c>create_manual_upload_url</c>: the upload form for one file.</summary>
    public static async Task<JsonNode> TargetAsync(HttpClient api, string datasetName, string path, long length)
    {
        var target = await api.PostOkAsync(
            "/api/v1/datasets/manual-upload/file-upload-url/", new { dataset_name = datasetName, file_path_in_dataset = path, content_length = length }, HttpStatusCode.OK);
        Assert.NotNull(target["url"]);
        Assert.IsType<JsonObject>(target["fields"]);
        return target;
    }

    /// <summary><c>httpx.post(info["url"], data=fields, files={"file": (name, fh, content_type)})</c>: the
    /// fields first, then the file; no API key.</summary>
    public static async Task<HttpResponseMessage> PostFileAsync(HttpClient client, string url, IEnumerable<KeyValuePair<string, string>> fields, string fileName, byte[] bytes, string contentType)
    {
        var form = new MultipartFormDataContent();
        foreach (var (name, value) in fields)
        {
            form.Add(new StringContent(value), name);
        }

        var file = new ByteArrayContent(bytes);
        file.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        form.Add(file, "file", fileName);
        var target = client.BaseAddress is not null && url.StartsWith(client.BaseAddress.GetLeftPart(UriPartial.Authority), StringComparison.Ordinal)
            ? new Uri(url).PathAndQuery
            : url;
        using var request = new HttpRequestMessage(HttpMethod.Post, target) { Content = form };
        return await client.SendAsync(request);
    }

    /// <summary>One file of <c>upload_files</c>: the form, then the POST, which must succeed.</summary>
    public static async Task<JsonNode> UploadAsync(HttpClient api, HttpClient uploader, string datasetName, string path, byte[] bytes, string contentType, bool expectLocal)
    {
        var target = await TargetAsync(api, datasetName, path, bytes.Length);
        var url = target["url"]!.GetValue<string>();
        Assert.Equal(expectLocal, url.Contains("/api/v1/datasets/manual-upload/", StringComparison.Ordinal));
        var fields = target["fields"]!.AsObject().Select(f => new KeyValuePair<string, string>(f.Key, f.Value!.GetValue<string>())).ToList();
        using var response = await PostFileAsync(uploader, url, fields, Path.GetFileName(path), bytes, contentType);
        Assert.True(response.IsSuccessStatusCode, $"upload to {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return target;
    }
}

/// <summary>Uploads that no dataset took are forgotten a day after their link expired, with their files.</summary>
public sealed class ManualUploadSweeperTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Unused_uploads_are_deleted_with_their_files_a_day_after_the_link_expired()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var anonymous = fixture.Factory.CreateClientWithKey(null);
        var target = await ManualUpload.UploadAsync(tenant.Http, anonymous, "Forgotten", "a.png", TestImages.Png(8, 6), "image/png", expectLocal: true);
        var uid = Guid.Parse(target["uid"]!.GetValue<string>());
        var key = Annex.Server.Features.Datasets.ItemMediaApi.Key(await OrganizationIdAsync(uid), uid);
        var blobs = fixture.Factory.Services.GetRequiredService<Annex.Server.Infrastructure.Storage.IBlobStore>();
        var present = await blobs.OpenReadAsync(key, CancellationToken.None);
        Assert.NotNull(present);
        await present.Content.DisposeAsync();

        var clock = new ShiftedTime { Offset = TimeSpan.FromHours(24) };
        Assert.Equal(0, await Sweeper(clock).SweepAsync(CancellationToken.None));
        clock.Offset = TimeSpan.FromHours(25) + TimeSpan.FromMinutes(1);
        Assert.True(await Sweeper(clock).SweepAsync(CancellationToken.None) >= 1);

        Assert.Null(await blobs.OpenReadAsync(key, CancellationToken.None));
        await tenant.Http.PostRejectedAsync(
            "/api/v1/datasets/manual-upload/",
            Api.Compact(ManualUpload.CreateBody("Forgotten", "forgotten")),
            """{"name": ["No files were uploaded for a dataset named \"Forgotten\"; upload them with /datasets/manual-upload/file-upload-url/ first."]}""");
    }

    private Annex.Server.Features.Datasets.ManualUploadSweeper Sweeper(TimeProvider clock) => new(
        fixture.Factory.Services.GetRequiredService<IServiceScopeFactory>(),
        fixture.Factory.Services.GetRequiredService<Annex.Server.Infrastructure.Storage.IBlobStore>(),
        clock,
        Microsoft.Extensions.Logging.Abstractions.NullLogger<Annex.Server.Features.Datasets.ManualUploadSweeper>.Instance);

    private async Task<long> OrganizationIdAsync(Guid uploadUid)
    {
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Annex.Server.Infrastructure.Data.AnnexDbContext>();
        return (await db.ManualUploads.SingleAsync(u => u.Uid == uploadUid)).OrganizationId;
    }

    /// <summary>The system clock moved forward by <see cref="Offset"/>.</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }
}
