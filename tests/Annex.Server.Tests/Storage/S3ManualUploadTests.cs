using System.Net;
using Annex.Server.Tests.Infrastructure;
using Annex.Server.Tests.Ingest;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Storage;

/// <summary>The Python SDK's manual upload with the server's images in an S3 bucket (a private moto server on
/// loopback): the upload form is a presigned POST that goes straight to the bucket, and the dataset is made
/// from what landed there.</summary>
public sealed class S3ManualUploadTests
{
    [SkippableFact]
    public async Task Files_posted_to_presigned_forms_become_the_items_of_the_new_dataset()
    {
        using var bucket = await MotoServer.CreateBucketAsync(prefix: "annex/");
        using var factory = new AnnexFactory(settings: bucket.Settings());
        var tenant = await factory.CreateTenantAsync();
        using var store = new HttpClient();
        var png = TestImages.Png(40, 30);

        var target = await ManualUpload.UploadAsync(tenant.Http, store, "On S3", "frames/a.png", png, "image/png", expectLocal: false);
        var url = target["url"]!.GetValue<string>();
        Assert.StartsWith(bucket.Options.ServiceUrl!, url, StringComparison.Ordinal);
        var fields = target["fields"]!.AsObject();
        var names = fields.Select(f => f.Key.ToLowerInvariant()).ToList();
        Assert.True(names.Contains("policy") && names.Contains("x-amz-signature"), "fields: " + fields.ToJsonString());
        Assert.StartsWith("annex/media/", fields["key"]!.GetValue<string>(), StringComparison.Ordinal);
        await ManualUpload.UploadAsync(tenant.Http, store, "On S3", "frames/b.jpg", TestImages.Jpeg(64, 48), "image/jpeg", expectLocal: false);

        var dataset = await tenant.Http.PostOkAsync("/api/v1/datasets/manual-upload/", ManualUpload.CreateBody("On S3", "on-s3"));
        Assert.Equal(2, dataset["item_count"]!.GetValue<long>());
        var uid = dataset["uid"]!.GetValue<string>();
        var items = (await tenant.Http.GetOkAsync($"/api/v1/datasets/{uid}/items/"))["results"]!.AsArray();
        Assert.Equal(["frames/a.png", "frames/b.jpg"], items.Select(i => i!["ref_id"]!.GetValue<string>()));
        Assert.Equal([40, 64], items.Select(i => i!["width"]!.GetValue<int>()));

        // The item's image is the object the client posted, read back through the server.
        var itemUid = items[0]!["uid"]!.GetValue<string>();
        Assert.Contains($"annex/{fields["key"]!.GetValue<string>()["annex/".Length..]}", await bucket.KeysAsync());
        using var image = await tenant.Http.GetAsync($"/api/v1/datasets/{uid}/items/{itemUid}/media/");
        Assert.Equal(HttpStatusCode.OK, image.StatusCode);
        Assert.Equal(png, await image.Content.ReadAsByteArrayAsync());
    }

    [SkippableFact]
    public async Task A_file_in_the_bucket_that_is_not_an_image_refuses_the_dataset_and_writes_nothing()
    {
        using var bucket = await MotoServer.CreateBucketAsync();
        using var factory = new AnnexFactory(settings: bucket.Settings());
        var tenant = await factory.CreateTenantAsync();
        using var store = new HttpClient();
        await ManualUpload.UploadAsync(tenant.Http, store, "Mixed", "a.png", TestImages.Png(8, 6), "image/png", expectLocal: false);
        // The store takes any bytes; the server checks them when it makes the items.
        await ManualUpload.UploadAsync(tenant.Http, store, "Mixed", "notes.txt", "not an image"u8.ToArray(), "text/plain", expectLocal: false);

        await tenant.Http.PostRejectedAsync(
            "/api/v1/datasets/manual-upload/",
            Api.Compact(ManualUpload.CreateBody("Mixed", "mixed")),
            """{"files": {"notes.txt": ["Upload a valid image. The file you uploaded was either not an image or a corrupted image."]}}""");
        Api.AssertJson("[]", (await tenant.Http.GetOkAsync("/api/v1/datasets/"))["results"]);
    }
}
