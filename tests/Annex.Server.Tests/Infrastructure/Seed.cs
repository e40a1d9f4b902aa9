using System.Globalization;
using System.Text.Json.Nodes;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>Builds datasets, projects and results through the public API, as a client would.</summary>
public static class Seed
{
    public static readonly object[] DefaultLabels =
    [
        new { name = "car", color = "#FF0000" },
        new { name = "pedestrian", color = "#00FF00" },
        new { name = "truck", color = "#0000FF" },
    ];

    public static async Task<string> DatasetAsync(HttpClient client, string name = "Highway")
    {
        var created = await client.PostOkAsync("/api/v1/datasets/", new { name });
        return created["uid"]!.GetValue<string>();
    }

    public static async Task<string> ProjectAsync(HttpClient client, string name = "Detection", object[]? labels = null)
    {
        var created = await client.PostOkAsync("/api/v1/projects/", new { name, labels = labels ?? DefaultLabels });
        return created["uid"]!.GetValue<string>();
    }

    /// <summary>Adds <paramref name="count"/> items (frame_00001...) and returns their uids in order.</summary>
    public static async Task<List<string>> ItemsAsync(HttpClient client, string datasetUid, int count, int start = 1, string prefix = "frame_")
    {
        var uids = new List<string>(count);
        for (var offset = 0; offset < count; offset += 5000)
        {
            var batch = Enumerable.Range(start + offset, Math.Min(5000, count - offset)).Select(n => new
            {
                ref_id = prefix + n.ToString("D5", CultureInfo.InvariantCulture),
                metadata = new { index = n, time = n % 2 == 0 ? "day" : "night" },
                width = 1920,
                height = 1080,
            }).ToArray();
            var created = await client.PostOkAsync($"/api/v1/datasets/{datasetUid}/items/", new { items = batch });
            uids.AddRange(created["items"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()));
        }

        return uids;
    }

    /// <summary>A bounding box annotation as clients send it.</summary>
    public static object Box(string label, double x, double y, double width, double height) =>
        new { label, type = "bounding_box", coordinates = new { x, y, width, height }, attributes = new { occluded = false } };

    /// <summary>Upserts results with <paramref name="perItem"/> boxes on each item.</summary>
    public static async Task ResultsAsync(HttpClient client, string projectUid, IReadOnlyList<string> itemUids, int perItem)
    {
        string[] labels = ["car", "pedestrian", "truck"];
        for (var offset = 0; offset < itemUids.Count; offset += 2000)
        {
            var batch = itemUids.Skip(offset).Take(2000).Select((uid, i) => new
            {
                dataset_item_uid = uid,
                annotations = Enumerable.Range(0, perItem).Select(a => Box(labels[(offset + i + a) % 3], 10 + a, 20 + a, 30 + a, 40 + a)).ToArray(),
            }).ToArray();
            var (status, body) = await client.PostJsonAsync($"/api/v1/projects/{projectUid}/results/", new { results = batch });
            if ((int)status >= 300)
            {
                throw new InvalidOperationException($"results upsert failed: {(int)status} {body?.ToJsonString()}");
            }
        }
    }

    public static async Task<JsonNode> ExportAsync(HttpClient client, string name, string[]? datasets = null, string[]? projects = null, string[]? slices = null, string? filter = null)
    {
        return await client.PostOkAsync("/api/v1/exports/", new
        {
            name,
            format = "avala-json-external",
            datasets = datasets ?? [],
            projects = projects ?? [],
            slices = slices ?? [],
            filter_query_string = filter,
        });
    }

    /// <summary>Polls an export until it reaches one of <paramref name="statuses"/>.</summary>
    public static async Task<JsonNode> WaitForAsync(HttpClient client, string exportUid, string[] statuses, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var (_, body) = await client.GetJsonAsync($"/api/v1/exports/{exportUid}/");
            var status = body?["status"]?.GetValue<string>();
            if (status is not null && statuses.Contains(status))
            {
                return body!;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"export {exportUid} still {status} after the timeout: {body?.ToJsonString()}");
            }

            await Task.Delay(50);
        }
    }
}
