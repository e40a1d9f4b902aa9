using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using Annex.Server.Tests.Exports;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Filtering;

/// <summary>Random and mutated filter strings through the real create endpoint: 201 or 400, never a 500,
/// never a slow answer.</summary>
public sealed class FilterFuzzTests(ApiOnlyFixture fixture) : IClassFixture<ApiOnlyFixture>
{
    // The parser and SQL translation are the same on both databases; PostgreSQL's run needs fewer inputs to
    // show that every filter the parser accepts also runs there.
    private static readonly int Inputs = TestDatabase.IsPostgres ? 10_000 : 100_000;

    private static readonly string[] Seeds =
    [
        "label = \"pedestrian\" AND metadata.time = \"night\"",
        "dataset IN (\"550e8400-e29b-41d4-a716-446655440000\") AND NOT attributes.occluded = true",
        "updated_at >= \"2025-01-01T00:00:00Z\" OR annotation_count > 10",
        "ref_id ~ \"frame_00*\"",
        "metadata.weather EXISTS",
        "(label = \"car\" OR label = \"truck\") AND NOT metadata.camera.model = \"front-left\"",
        "type IN (\"polygon\", \"keypoints\") AND metadata.speed >= -1.5e3",
        "metadata.reviewer = null AND created_at < \"2025-06-01\"",
    ];

    private static readonly string[] Pieces =
    [
        "label", "type", "ref_id", "metadata.", "attributes.", "dataset", "project", "slice", "created_at", "annotation_count",
        "=", "!=", "<", "<=", ">", ">=", " IN ", "~", " EXISTS", " AND ", " OR ", " NOT ", "(", ")", ",", "\"", "\\", "\\u12",
        "null", "true", "1e999", "-", ".", "*", "?", "\u00e9", "\ud83d\ude00", "\0", "\n", "((((((((((", "NOT NOT NOT NOT ",
    ];

    private static string Mutate(Random random, string input)
    {
        var text = new StringBuilder(input);
        for (var edits = random.Next(1, 6); edits > 0; edits--)
        {
            var at = text.Length == 0 ? 0 : random.Next(text.Length);
            switch (random.Next(4))
            {
                case 0 when text.Length > 0:
                    text.Remove(at, Math.Min(random.Next(1, 6), text.Length - at));
                    break;
                case 1:
                    text.Insert(at, Pieces[random.Next(Pieces.Length)]);
                    break;
                case 2 when text.Length > 0:
                    text[at] = (char)random.Next(32, 127);
                    break;
                default:
                    text.Insert(at, (char)random.Next(0, 0x2FF));
                    break;
            }
        }

        return text.ToString();
    }

    private static string Generate(Random random, int index) => (index % 4) switch
    {
        0 => Mutate(random, Seeds[random.Next(Seeds.Length)]),
        1 => string.Concat(Enumerable.Range(0, random.Next(1, 12)).Select(_ => Pieces[random.Next(Pieces.Length)])),
        2 => new string([.. Enumerable.Range(0, random.Next(0, 40)).Select(_ => (char)random.Next(1, 128))]),
        _ => index % 1000 == 3 ? new string('(', 5_000) + Seeds[0] : Seeds[random.Next(Seeds.Length)] + string.Concat(Enumerable.Repeat(" AND " + Seeds[random.Next(Seeds.Length)], random.Next(0, 20))),
    };

    [Fact]
    public async Task Fuzzed_filters_are_answered_201_or_400_quickly()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Fuzz");
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var statuses = new ConcurrentDictionary<HttpStatusCode, int>();
        var slowest = TimeSpan.Zero;
        var failures = new ConcurrentQueue<string>();
        var gate = new object();

        await Parallel.ForEachAsync(Enumerable.Range(0, Inputs), new ParallelOptions { MaxDegreeOfParallelism = 4 }, async (index, ct) =>
        {
            var random = new Random(index);
            var filter = Generate(random, index);
            var watch = Stopwatch.StartNew();
            var (status, body) = await tenant.Http.PostJsonAsync("/api/v1/exports/", new { name = "fuzz", format = "avala-json-external", datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>(), filter_query_string = filter });
            watch.Stop();
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            lock (gate)
            {
                slowest = watch.Elapsed > slowest ? watch.Elapsed : slowest;
            }

            if (status is not (HttpStatusCode.Created or HttpStatusCode.BadRequest))
            {
                failures.Enqueue($"{(int)status} for {filter}: {body?.ToJsonString()}");
            }
            else if (status == HttpStatusCode.BadRequest && body?["filter_query_string"] is null && body?["non_field_errors"] is null
                && body?["detail"]?.GetValue<string>().Contains("Null characters are not allowed", StringComparison.Ordinal) != true)
            {
                failures.Enqueue($"400 without a filter message for {filter}: {body?.ToJsonString()}");
            }
        });

        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.Equal(Inputs, statuses.Values.Sum());
        Assert.True(statuses.ContainsKey(HttpStatusCode.Created) && statuses.ContainsKey(HttpStatusCode.BadRequest), string.Join(", ", statuses));
        // A generous bound: it catches a parser that blows up on some input, not a slow machine.
        Assert.True(slowest < TimeSpan.FromSeconds(10), $"slowest answer took {slowest}");
    }
}
