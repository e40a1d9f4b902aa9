using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>Cursor pagination of the ingest lists: walking forwards and back, limits, bad cursors.</summary>
public sealed class PaginationTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task Items_walk_forwards_and_back_with_limit_2_without_gaps_or_duplicates()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var uids = await Seed.ItemsAsync(tenant.Http, dataset, 7);

        // Forwards: follow the absolute next links until there are none.
        var pages = new List<JsonNode>();
        string? url = $"/api/v1/datasets/{dataset}/items/?limit=2";
        while (url is not null)
        {
            var page = await tenant.Http.GetOkAsync(url);
            Shape.HasFields(page, "next", "previous", "results");
            pages.Add(page);
            url = page["next"]?.GetValue<string>();
            if (url is not null)
            {
                Assert.True(Uri.TryCreate(url, UriKind.Absolute, out var absolute) && absolute.Scheme == Uri.UriSchemeHttp, $"next is not an absolute URL: {url}");
                Assert.Contains("limit=2", url, StringComparison.Ordinal);
            }

            Assert.True(pages.Count <= 10, "next links never end");
        }

        Assert.Equal([2, 2, 2, 1], pages.Select(p => p["results"]!.AsArray().Count));
        Assert.Null(pages[0]["previous"]);
        Assert.All(pages.Skip(1), p => Assert.NotNull(p["previous"]));
        Assert.Equal(uids, pages.SelectMany(UidsOf).ToList());

        // Backwards from the last page: each previous link gives the page seen before it.
        var current = pages[^1];
        for (var index = pages.Count - 2; index >= 0; index--)
        {
            var previousUrl = current["previous"]!.GetValue<string>();
            Assert.True(Uri.TryCreate(previousUrl, UriKind.Absolute, out _), $"previous is not an absolute URL: {previousUrl}");
            current = await tenant.Http.GetOkAsync(previousUrl);
            Assert.Equal(UidsOf(pages[index]), UidsOf(current));
            Assert.NotNull(current["next"]);
        }

        Assert.Null(current["previous"]);

        // And forwards again from a page reached backwards.
        var again = await tenant.Http.GetOkAsync(current["next"]!.GetValue<string>());
        Assert.Equal(UidsOf(pages[1]), UidsOf(again));
    }

    [Theory]
    [InlineData("datasets")]
    [InlineData("projects")]
    [InlineData("slices")]
    public async Task Top_level_lists_page_one_object_at_a_time(string kind)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http, "Base");
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 1);
        var expected = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            var created = kind switch
            {
                "datasets" => await tenant.Http.PostOkAsync("/api/v1/datasets/", new { name = $"D{i}" }),
                "projects" => await tenant.Http.PostOkAsync("/api/v1/projects/", new { name = $"P{i}", labels = Seed.DefaultLabels }),
                _ => await tenant.Http.PostOkAsync("/api/v1/slices/", new { name = $"S{i}", items }),
            };
            expected.Add(created["uid"]!.GetValue<string>());
        }

        var rows = await tenant.Http.AllPagesAsync($"/api/v1/{kind}/?limit=1");
        var seen = rows.Select(r => r["uid"]!.GetValue<string>()).ToList();
        if (kind == "datasets")
        {
            expected.Insert(0, dataset);
        }

        Assert.Equal(expected, seen);
    }

    [Fact]
    public async Task Limit_defaults_to_100_and_is_clamped_to_1000()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var uids = await Seed.ItemsAsync(tenant.Http, dataset, 1005);

        var byDefault = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/");
        Assert.Equal(100, byDefault["results"]!.AsArray().Count);

        var clamped = await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/?limit=5000");
        Assert.Equal(1000, clamped["results"]!.AsArray().Count);
        Assert.Equal(uids.Take(1000), UidsOf(clamped));

        var rest = await tenant.Http.GetOkAsync(clamped["next"]!.GetValue<string>());
        Assert.Equal(uids.Skip(1000), UidsOf(rest));
        Assert.Null(rest["next"]);
    }

    public static TheoryData<string, string> BadLimits => new()
    {
        { "abc", """{"limit": ["A valid integer is required."]}""" },
        { "1.5", """{"limit": ["A valid integer is required."]}""" },
        { "", """{"limit": ["A valid integer is required."]}""" },
        { "0", """{"limit": ["Ensure this value is greater than or equal to 1."]}""" },
        { "-3", """{"limit": ["Ensure this value is greater than or equal to 1."]}""" },
    };

    [Theory]
    [MemberData(nameof(BadLimits))]
    public async Task A_bad_limit_is_400_on_every_list(string limit, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        foreach (var url in await ListUrlsAsync(tenant.Http))
        {
            var (status, body) = await tenant.Http.GetJsonAsync($"{url}?limit={Uri.EscapeDataString(limit)}");
            Assert.True(status == HttpStatusCode.BadRequest, $"{url}: {(int)status}");
            Api.AssertJson(expected, body);
        }
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("!!!")]
    [InlineData("bnVsbA")] // base64 of "null"
    [InlineData("WzEsMl0")] // base64 of "[1,2]"
    public async Task A_bad_cursor_is_400_on_every_list(string cursor)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        foreach (var url in await ListUrlsAsync(tenant.Http))
        {
            var (status, body) = await tenant.Http.GetJsonAsync($"{url}?cursor={Uri.EscapeDataString(cursor)}");
            Assert.True(status == HttpStatusCode.BadRequest, $"{url}: {(int)status}");
            Api.AssertJson("""{"detail": "Invalid cursor"}""", body);
        }
    }

    private static async Task<string[]> ListUrlsAsync(HttpClient client)
    {
        var dataset = await Seed.DatasetAsync(client);
        var project = await Seed.ProjectAsync(client);
        return ["/api/v1/datasets/", "/api/v1/projects/", "/api/v1/slices/", $"/api/v1/datasets/{dataset}/items/", $"/api/v1/projects/{project}/results/"];
    }

    private static List<string> UidsOf(JsonNode page) => [.. page["results"]!.AsArray().Select(r => r!["uid"]!.GetValue<string>())];
}
