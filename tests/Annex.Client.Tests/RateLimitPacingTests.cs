using System.Diagnostics;
using System.Net;
using Annex.Tests;
using Xunit;

namespace Annex.Client.Tests;

/// <summary>The client reads the server's <c>X-RateLimit-*</c> headers and waits for a spent window to reset
/// rather than be refused; bulk image uploads cost one request for many files.</summary>
public sealed class RateLimitPacingTests
{
    [Fact]
    public async Task The_client_waits_for_a_spent_window_instead_of_being_refused()
    {
        using var server = new LiveServer(new Dictionary<string, string?>
        {
            ["RateLimiting:Reads:PermitLimit"] = "3",
            ["RateLimiting:Reads:Window"] = "00:00:02",
        });

        var (paced, pacedStatuses, pacedTime) = await ListRepeatedlyAsync(server, new AnnexClientOptions(), "Paced");
        Assert.DoesNotContain(HttpStatusCode.TooManyRequests, pacedStatuses);
        Assert.Equal(7, paced);

        // Seven reads at three per two seconds span at least two resets of the window.
        Assert.True(pacedTime >= TimeSpan.FromSeconds(2), $"took {pacedTime}");

        // Without pacing the same reads still succeed, by being refused and retried after Retry-After.
        var (unpaced, unpacedStatuses, _) = await ListRepeatedlyAsync(server, new AnnexClientOptions { PaceRequests = false }, "Unpaced");
        Assert.Equal(7, unpaced);
        Assert.Contains(HttpStatusCode.TooManyRequests, unpacedStatuses);
    }

    [Fact]
    public async Task Many_images_go_up_in_one_request_and_a_bad_one_fails_it_whole()
    {
        using var server = new LiveServer();
        var (client, _) = await server.CreateTenantAsync();
        using var _ = client;
        var dataset = await client.CreateDatasetAsync("Photos");
        var items = (await client.CreateItemsAsync(dataset.Uid, [new NewDatasetItem("a"), new NewDatasetItem("b")])).Items;
        var folder = Directory.CreateTempSubdirectory("annex-media-");
        try
        {
            var a = Path.Combine(folder.FullName, "a.png");
            var b = Path.Combine(folder.FullName, "b.jpg");
            var bad = Path.Combine(folder.FullName, "bad.png");
            await File.WriteAllBytesAsync(a, TestImages.Png(12, 7));
            await File.WriteAllBytesAsync(b, TestImages.Jpeg(40, 30));
            await File.WriteAllTextAsync(bad, "not an image");

            var stored = await client.UploadItemMediaBulkAsync(dataset.Uid, [new MediaFile("a.png", a), new MediaFile($"{items[1].Uid}.jpg", b)]);

            Assert.Equal(2, stored.Uploaded);
            Assert.Equal(new ItemMedia(items[0].Uid, "image/png", new FileInfo(a).Length, 12, 7), stored.Items[0]);
            Assert.Equal(new ItemMedia(items[1].Uid, "image/jpeg", new FileInfo(b).Length, 40, 30), stored.Items[1]);
            var refused = await Assert.ThrowsAsync<AnnexValidationException>(
                () => client.UploadItemMediaBulkAsync(dataset.Uid, [new MediaFile("a.png", b), new MediaFile("b.png", bad)]));
            Assert.Contains("files", refused.FieldErrors.Keys);
            Assert.Equal(12, (await client.ListItemsAsync(dataset.Uid).SingleAsync(i => i.Uid == items[0].Uid)).Width);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static async Task<(int Succeeded, List<HttpStatusCode> Statuses, TimeSpan Elapsed)> ListRepeatedlyAsync(LiveServer server, AnnexClientOptions options, string name)
    {
        var tenant = await server.Factory.CreateTenantAsync(name);
        var statuses = new List<HttpStatusCode>();
        using var http = new HttpClient(new StatusRecorder(statuses));
        var client = new AnnexClient(http, server.Address, tenant.Key.Key, options);
        var clock = Stopwatch.StartNew();
        var succeeded = 0;
        for (var i = 0; i < 7; i++)
        {
            await client.ListDatasetsAsync().ToListAsync();
            succeeded++;
        }

        return (succeeded, statuses, clock.Elapsed);
    }

    private sealed class StatusRecorder(List<HttpStatusCode> statuses) : DelegatingHandler(new SocketsHttpHandler())
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            lock (statuses)
            {
                statuses.Add(response.StatusCode);
            }

            return response;
        }
    }
}
