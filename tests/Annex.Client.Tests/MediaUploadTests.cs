using Annex.Tests;
using Xunit;

namespace Annex.Client.Tests;

public sealed class MediaUploadTests(LiveServerFixture fixture) : IClassFixture<LiveServerFixture>
{
    private LiveServer Server => fixture.Server;

    [Fact]
    public async Task An_image_file_is_uploaded_and_its_size_read_from_the_header()
    {
        var (client, _) = await Server.CreateTenantAsync();
        using var _ = client;
        var dataset = await client.CreateDatasetAsync("Photos");
        var item = Assert.Single((await client.CreateItemsAsync(dataset.Uid, [new NewDatasetItem("a.png")])).Items);
        var folder = Directory.CreateTempSubdirectory("annex-media-");
        try
        {
            var png = Path.Combine(folder.FullName, "a.png");
            await File.WriteAllBytesAsync(png, TestImages.Png(12, 7));
            var notImage = Path.Combine(folder.FullName, "a.txt");
            await File.WriteAllTextAsync(notImage, "not an image");

            var stored = await client.UploadItemMediaAsync(dataset.Uid, item.Uid, png);

            Assert.Equal(new ItemMedia(item.Uid, "image/png", new FileInfo(png).Length, 12, 7), stored);
            var refused = await Assert.ThrowsAsync<AnnexValidationException>(() => client.UploadItemMediaAsync(dataset.Uid, item.Uid, notImage));
            Assert.Contains("file", refused.FieldErrors.Keys);
            await Assert.ThrowsAsync<AnnexNotFoundException>(() => client.UploadItemMediaAsync(dataset.Uid, Guid.NewGuid(), png));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
