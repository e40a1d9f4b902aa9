using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using Annex.Client;
using Annex.Client.Tests;
using Annex.Tests;
using Xunit;

namespace Annex.Cli.Tests;

/// <summary>An import sends a folder's images in bulk requests, so the uploads limit counts batches, not images.</summary>
public sealed class BulkImageImportTests
{
    [Fact]
    public async Task A_folder_of_250_images_costs_three_upload_requests()
    {
        using var server = new LiveServer(new Dictionary<string, string?>
        {
            ["RateLimiting:Uploads:PermitLimit"] = "4",
            ["RateLimiting:Uploads:Window"] = "01:00:00",
        });
        var scratch = Directory.CreateTempSubdirectory("annex-cli-bulk-");
        try
        {
            var cli = await CliHarness.ForNewTenantAsync(server, scratch.FullName);
            var yolo = Path.Combine(scratch.FullName, "street");
            Directory.CreateDirectory(Path.Combine(yolo, "images", "train"));
            Directory.CreateDirectory(Path.Combine(yolo, "labels", "train"));
            await File.WriteAllTextAsync(Path.Combine(yolo, "data.yaml"), "names: [car]\n");
            for (var i = 0; i < 250; i++)
            {
                var name = i.ToString("D4", CultureInfo.InvariantCulture);
                await File.WriteAllBytesAsync(Path.Combine(yolo, "images", "train", name + ".png"), TestImages.Png(16 + (i % 7), 12));
                await File.WriteAllTextAsync(Path.Combine(yolo, "labels", "train", name + ".txt"), "0 0.5 0.5 0.25 0.5\n");
            }

            var imported = await cli.RunAsync("datasets", "import", "street");

            Assert.True(imported.ExitCode == ExitCodes.Done, imported.ToString());
            Assert.True(imported.Out.Contains("Imported 250 items with 250 annotations (250 results, 250 images)", StringComparison.Ordinal), imported.ToString());
            using var client = new AnnexClient(server.Address, cli.Key);
            var dataset = Assert.Single(await client.ListDatasetsAsync().ToListAsync());
            var items = await client.ListItemsAsync(dataset.Uid).ToListAsync();
            Assert.Equal(250, items.Count);
            Assert.All(items, item => Assert.Equal(16 + (int.Parse(item.RefId, CultureInfo.InvariantCulture) % 7), item.Width));

            // 100 + 100 + 50 images: three of the four uploads allowed this hour; the next one is the last.
            using var http = new HttpClient();
            using var form = new MultipartFormDataContent { { new ByteArrayContent(TestImages.Png(3, 3)) { Headers = { ContentType = new MediaTypeHeaderValue("image/png") } }, "file", "x.png" } };
            using var request = new HttpRequestMessage(HttpMethod.Put, new Uri(server.Address, $"/api/v1/datasets/{dataset.Uid}/items/{items[0].Uid}/media/")) { Content = form };
            request.Headers.Add(AnnexClient.ApiKeyHeader, cli.Key);
            using var last = await http.SendAsync(request);
            Assert.Equal(HttpStatusCode.OK, last.StatusCode);
            Assert.Equal("0", Assert.Single(last.Headers.GetValues("X-RateLimit-Remaining")));
        }
        finally
        {
            scratch.Delete(recursive: true);
        }
    }
}
