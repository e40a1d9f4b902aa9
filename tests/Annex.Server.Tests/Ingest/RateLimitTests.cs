using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Annex.Tests;
using Xunit;

namespace Annex.Server.Tests.Ingest;

public sealed class RateLimitTests
{
    private static AnnexFactory Factory(int limit, int burst, string window = "01:00:00", string burstWindow = "01:00:00") => new(settings: new Dictionary<string, string?>
    {
        ["RateLimiting:PermitLimit"] = limit.ToString(CultureInfo.InvariantCulture),
        ["RateLimiting:BurstLimit"] = burst.ToString(CultureInfo.InvariantCulture),
        ["RateLimiting:Window"] = window,
        ["RateLimiting:BurstWindow"] = burstWindow,
    });

    [Fact]
    public async Task Every_response_carries_the_limit_headers_and_the_request_after_the_limit_is_429()
    {
        using var factory = Factory(limit: 3, burst: 100);
        var tenant = await factory.CreateTenantAsync();
        var before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        for (var i = 0; i < 3; i++)
        {
            using var ok = await tenant.Http.GetAsync("/api/v1/exports/");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("3", Header(ok, "X-RateLimit-Limit"));
            Assert.Equal((2 - i).ToString(CultureInfo.InvariantCulture), Header(ok, "X-RateLimit-Remaining"));
            var reset = long.Parse(Header(ok, "X-RateLimit-Reset"), CultureInfo.InvariantCulture);
            Assert.InRange(reset, before + 3500, before + 3700);
        }

        using var throttled = await tenant.Http.GetAsync("/api/v1/exports/");
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal("0", Header(throttled, "X-RateLimit-Remaining"));
        var retryAfter = int.Parse(Header(throttled, "Retry-After"), CultureInfo.InvariantCulture);
        Assert.InRange(retryAfter, 3500, 3600);
        var body = JsonNode.Parse(await throttled.Content.ReadAsStringAsync());
        Api.AssertJson($$"""{"detail": "Request was throttled. Expected available in {{retryAfter}} seconds."}""", body);
    }

    [Fact]
    public async Task The_burst_limit_throttles_before_the_window_limit()
    {
        using var factory = Factory(limit: 100, burst: 2);
        var tenant = await factory.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetJsonAsync("/api/v1/datasets/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetJsonAsync("/api/v1/datasets/")).Status);
        using var throttled = await tenant.Http.GetAsync("/api/v1/datasets/");
        Assert.Equal(HttpStatusCode.TooManyRequests, throttled.StatusCode);
        Assert.Equal("98", Header(throttled, "X-RateLimit-Remaining"));
    }

    [Fact]
    public async Task Each_key_has_its_own_allowance()
    {
        using var factory = Factory(limit: 1, burst: 100);
        var first = await factory.CreateTenantAsync("First");
        var second = await factory.CreateTenantAsync("Second");
        Assert.Equal(HttpStatusCode.OK, (await first.Http.GetJsonAsync("/api/v1/exports/")).Status);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await first.Http.GetJsonAsync("/api/v1/exports/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await second.Http.GetJsonAsync("/api/v1/exports/")).Status);
    }

    [Fact]
    public async Task A_window_that_ran_out_gives_a_new_allowance()
    {
        // A short window: the assertion is only that the second request after it ended succeeds.
        using var factory = Factory(limit: 1, burst: 100, window: "00:00:00.300");
        var tenant = await factory.CreateTenantAsync();
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetJsonAsync("/api/v1/exports/")).Status);
        await Task.Delay(TimeSpan.FromMilliseconds(400));
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetJsonAsync("/api/v1/exports/")).Status);
    }

    [Fact]
    public async Task Reads_writes_and_uploads_each_have_their_own_limit()
    {
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?>
        {
            ["RateLimiting:Reads:PermitLimit"] = "2",
            ["RateLimiting:Writes:PermitLimit"] = "2",
            ["RateLimiting:Uploads:PermitLimit"] = "1",
        });
        var tenant = await factory.CreateTenantAsync();

        var dataset = await Seed.DatasetAsync(tenant.Http);
        using (var items = await tenant.Http.PostAsJsonAsync($"/api/v1/datasets/{dataset}/items/", new { items = new[] { new { ref_id = "a" } } }))
        {
            Assert.Equal(HttpStatusCode.Created, items.StatusCode);
            Assert.Equal("2", Header(items, "X-RateLimit-Limit"));
            Assert.Equal("0", Header(items, "X-RateLimit-Remaining"));
        }

        using (var thirdWrite = await tenant.Http.PostAsJsonAsync("/api/v1/datasets/", new { name = "Third" }))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, thirdWrite.StatusCode);
            Assert.NotNull(thirdWrite.Headers.RetryAfter);
        }

        // Writes are spent; reads and uploads are not.
        for (var i = 0; i < 2; i++)
        {
            using var read = await tenant.Http.GetAsync("/api/v1/datasets/");
            Assert.Equal(HttpStatusCode.OK, read.StatusCode);
            Assert.Equal("2", Header(read, "X-RateLimit-Limit"));
        }

        using (var thirdRead = await tenant.Http.GetAsync("/api/v1/datasets/"))
        {
            Assert.Equal(HttpStatusCode.TooManyRequests, thirdRead.StatusCode);
        }

        var (status, _) = await BulkItemMediaTests.BulkAsync(tenant.Http, dataset, ("a.png", TestImages.Png(2, 2)));
        Assert.Equal(HttpStatusCode.OK, status);
        (status, _) = await BulkItemMediaTests.BulkAsync(tenant.Http, dataset, ("a.png", TestImages.Png(2, 2)));
        Assert.Equal(HttpStatusCode.TooManyRequests, status);
    }

    [Fact]
    public async Task Two_servers_on_one_database_allow_the_shared_limit_between_them_not_each()
    {
        var settings = new Dictionary<string, string?>
        {
            ["RateLimiting:Shared"] = "true",
            ["RateLimiting:SharedBlockSize"] = "3",
            ["RateLimiting:Reads:PermitLimit"] = "10",
            ["RateLimiting:Reads:Window"] = "01:00:00",
        };
        using var first = new AnnexFactory(settings: settings);
        var tenant = await first.CreateTenantAsync();
        using var second = new AnnexFactory(first.DataPath, settings);
        using var secondHttp = second.CreateClientWithKey(tenant.Key.Key);

        var allowed = new[] { 0, 0 };
        for (var i = 0; i < 40; i++)
        {
            var server = i % 2;
            using var response = await (server == 0 ? tenant.Http : secondHttp).GetAsync("/api/v1/datasets/");
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"request {i}: {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.OK)
            {
                allowed[server]++;
            }
            else
            {
                Assert.InRange(int.Parse(Header(response, "Retry-After"), CultureInfo.InvariantCulture), 3500, 3600);
            }
        }

        // Each server took blocks of 3 from the one counter; between them they used exactly the 10 it had.
        Assert.Equal(10, allowed[0] + allowed[1]);
        Assert.True(allowed[0] > 0 && allowed[1] > 0, $"{allowed[0]} and {allowed[1]}");

        // Writes are a counter of their own, untouched by the reads.
        using var write = await secondHttp.PostAsJsonAsync("/api/v1/datasets/", new { name = "Still" });
        Assert.Equal(HttpStatusCode.Created, write.StatusCode);
    }

    private static string Header(HttpResponseMessage response, string name) =>
        Assert.Single(response.Headers.GetValues(name));
}
