using System.IO.Compression;
using System.Net;
using Xunit;

namespace Annex.Client.Tests;

public sealed class RetryAndDownloadTests(LiveServerFixture fixture) : IClassFixture<LiveServerFixture>
{
    private LiveServer Server => fixture.Server;

    [Theory]
    [InlineData(429)]
    [InlineData(503)]
    public async Task A_throttled_request_is_retried_after_Retry_After(int status)
    {
        await using var front = await ThrottlingFront.StartAsync(Server.Address, throttle: 2, status);
        var (client, _) = await Server.CreateTenantAsync(through: front.Address);
        using var _ = client;

        var created = await client.CreateDatasetAsync("Throttled");

        Assert.Equal("Throttled", created.Name);
        Assert.Equal(3, front.Seen);
        Assert.Equal(0, created.ItemCount);
    }

    [Fact]
    public async Task Throttling_that_outlasts_the_retries_is_a_rate_limit_exception()
    {
        await using var front = await ThrottlingFront.StartAsync(Server.Address, throttle: int.MaxValue, retryAfter: "1");
        var (client, _) = await Server.CreateTenantAsync(through: front.Address, options: new AnnexClientOptions { MaxRetries = 2 });
        using var _ = client;

        var error = await Assert.ThrowsAsync<AnnexRateLimitException>(() => client.GetExportAsync(Guid.NewGuid()));

        Assert.Equal(HttpStatusCode.TooManyRequests, error.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(1), error.RetryAfter);
        Assert.StartsWith("Request was throttled", error.Detail, StringComparison.Ordinal);
        Assert.Equal(3, front.Seen);
    }

    [Fact]
    public async Task A_download_cut_halfway_resumes_with_Range_and_matches_the_archive()
    {
        using var proxy = new CuttingProxy(Server.Address);
        var (direct, key) = await Server.CreateTenantAsync();
        using var _ = direct;
        var (dataset, _, _) = await Seeding.DetectionAsync(direct, 3000, boxesPerItem: 3);
        var export = await direct.CreateExportAsync(Seeding.ExportOf(dataset));
        await direct.WaitForExportAsync(export.Uid, TimeSpan.FromMilliseconds(100), TimeSpan.FromMinutes(2));
        var folder = Directory.CreateDirectory(Path.Combine(Server.Factory.DataPath, "downloads")).FullName;
        var whole = await direct.DownloadExportAsync(export.Uid, Path.Combine(folder, "whole.zip"));
        Assert.Equal(0, whole.Resumes);
        var expected = await File.ReadAllBytesAsync(whole.Path);
        Assert.True(expected.Length > 100_000, $"the archive is only {expected.Length} bytes; too small to cut");

        using var client = new AnnexClient(proxy.Address, key);
        proxy.CutOnceAfter(expected.Length / 2);
        var progress = new Recorder<DownloadProgress>();
        var resumed = await client.DownloadExportAsync(export.Uid, Path.Combine(folder, "resumed.zip"), progress);

        Assert.Equal(1, proxy.Cuts);
        Assert.Equal(1, resumed.Resumes);
        Assert.Equal(expected.Length, resumed.Bytes);
        Assert.Equal(expected, await File.ReadAllBytesAsync(resumed.Path));
        Assert.False(File.Exists(resumed.Path + ".part"));
        Assert.Matches(@"Range: bytes=\d+-", proxy.Requests);
        var secondAttempt = progress.Reports.First(r => r.Attempt == 2);
        Assert.InRange(secondAttempt.BytesReceived, 1, expected.Length - 1);
        Assert.Equal(expected.Length, progress.Reports[^1].BytesReceived);
        using var zip = new ZipArchive(File.OpenRead(resumed.Path), ZipArchiveMode.Read);
        Assert.Single(zip.Entries);
    }
}
