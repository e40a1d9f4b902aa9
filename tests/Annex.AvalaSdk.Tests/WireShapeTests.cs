using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.AvalaSdk.Tests;

/// <summary>Real answers of the server against the Python SDK's pydantic models, read from the SDK snapshot
/// itself: every field a model requires is there, and every field present has JSON its annotation accepts.
/// A new snapshot is checked as it is, without edits here.</summary>
[Collection(SdkCollection.Name)]
public sealed class WireShapeTests(SdkServer server)
{
    private static readonly Lazy<IReadOnlyDictionary<string, IReadOnlyList<PythonField>>> Models =
        new(() => PythonModels.ReadFolder(SdkLocations.PythonTypes!));

    [Fact]
    public void The_model_reader_tells_required_fields_from_optional_and_defaulted_ones()
    {
        const string source = """"
            from pydantic import BaseModel, Field


            class Thing(BaseModel):
                """A thing.

                note: not a field
                """

                uid: str
                name: Optional[str] = None
                tags: List[str] = []
                owner: str | None
                count: int = Field(...)
                size: int = Field(default=0)

                def label(self) -> str:
                    return self.uid


            class Bigger(Thing):
                depth: float
            """";
        var models = PythonModels.Parse(source).ToDictionary(m => m.Name, m => m.Fields);
        Assert.Equal(["uid", "name", "tags", "owner", "count", "size"], models["Thing"].Select(f => f.Name));
        Assert.Equal(["uid", "count"], models["Thing"].Where(f => f.Required).Select(f => f.Name));
        Assert.Equal(["depth"], models["Bigger"].Select(f => f.Name));

        var all = new Dictionary<string, IReadOnlyList<PythonField>>();
        Assert.Null(PythonModels.Mismatch("Optional[datetime]", null, all));
        Assert.Null(PythonModels.Mismatch("Optional[datetime]", JsonValue.Create("2026-01-01T00:00:00Z"), all));
        Assert.NotNull(PythonModels.Mismatch("datetime", JsonValue.Create("yesterday"), all));
        Assert.NotNull(PythonModels.Mismatch("str", null, all));
        Assert.NotNull(PythonModels.Mismatch("int", JsonValue.Create(1.5), all));
        Assert.NotNull(PythonModels.Mismatch("bool", JsonValue.Create("true"), all));
        Assert.NotNull(PythonModels.Mismatch("List[str]", JsonNode.Parse("[\"a\", 1]"), all));
        Assert.Null(PythonModels.Mismatch("Optional[List[Dict[str, Any]]]", JsonNode.Parse("[{\"a\": 1}]"), all));
        Assert.NotNull(PythonModels.Mismatch("Dict[str, Any]", JsonNode.Parse("[]"), all));
    }

    public static TheoryData<string> ServedModels() =>
    [
        "Export", "Dataset", "DatasetItem", "Organization", "OrganizationMember", "Project",
        "Slice", "SliceItem", "Task", "Webhook", "WebhookDelivery", "CursorPage",
    ];

    [SkippableTheory]
    [MemberData(nameof(ServedModels))]
    public async Task Answers_carry_every_field_the_python_sdk_requires_with_its_json_type(string model)
    {
        Requirements.Require(SdkLocations.PythonTypes is not null, SdkLocations.MissingClients);
        var world = await server.CreateWorldAsync();
        var samples = new Samples(world, server);
        var problems = new List<string>();
        if (model == "CursorPage")
        {
            // Both SDKs read a page's "results" and the cursor of its "next" link; the TypeScript SDK takes a
            // missing "next" for "more pages", so it must be there, null on the last page.
            foreach (var url in Samples.ListUrls(world))
            {
                if (await samples.GetAsync(url) is not { } page)
                {
                    continue;
                }

                if (page["results"] is not JsonArray)
                {
                    problems.Add($"{url}: no results array");
                }

                foreach (var link in new[] { "next", "previous" })
                {
                    var present = page.TryGetPropertyValue(link, out var value);
                    if ((link == "next" && !present) || (present && value is not null && value.GetValueKind() != System.Text.Json.JsonValueKind.String))
                    {
                        problems.Add($"{url}: {link} must be a URL or null, was {(present ? value?.ToJsonString() ?? "null" : "missing")}");
                    }
                }
            }
        }
        else
        {
            Assert.True(Models.Value.TryGetValue(model, out var fields), $"the Python SDK has no model {model}");
            var answers = await samples.ForAsync(model);
            if (answers.Count == 0)
            {
                problems.Add("no answer to check");
            }

            foreach (var (url, body) in answers)
            {
                problems.AddRange(PythonModels.MissingOrWrong(fields, body, Models.Value).Select(p => $"{url}: {p}"));
            }
        }

        problems.InsertRange(0, samples.Problems);
        Assert.True(problems.Count == 0, $"{model}:\n" + string.Join('\n', problems));
    }

    /// <summary>The answers that carry one model, each with the URL it came from; a request that fails is noted in
    /// <see cref="Problems"/> and the others are still checked.</summary>
    private sealed class Samples(SdkWorld world, SdkServer server)
    {
        public List<string> Problems { get; } = [];

        public static IEnumerable<string> ListUrls(SdkWorld w) =>
        [
            "exports/", "datasets/", $"datasets/{w.Owner}/{w.DatasetSlug}/items/", "organizations/", $"organizations/{w.Owner}/members/",
            "projects/", "users/me/projects/", $"slices/{w.Owner}/list/", $"slices/{w.Owner}/{w.SliceSlug}/items/list/",
            $"tasks/?project={w.Project}", "webhooks/", "webhook-deliveries/",
        ];

        public async Task<JsonObject?> GetAsync(string url)
        {
            var (status, body) = await world.Http.GetJsonAsync("/api/v1/" + url);
            if (status == HttpStatusCode.OK && body is JsonObject answer)
            {
                return answer;
            }

            Problems.Add($"GET /api/v1/{url}: {(int)status} {body?.ToJsonString()}");
            return null;
        }

        private async Task<List<(string Url, JsonObject Body)>> OneAsync(string url) =>
            await GetAsync(url) is { } body ? [(url, body)] : [];

        private async Task<JsonObject?> PostAsync(string url, object body)
        {
            var (status, answer) = await world.Http.PostJsonAsync("/api/v1/" + url, body);
            if (status == HttpStatusCode.Created && answer is JsonObject created)
            {
                return created;
            }

            Problems.Add($"POST /api/v1/{url}: {(int)status} {answer?.ToJsonString()}");
            return null;
        }

        private async Task<List<(string Url, JsonObject Body)>> PageAsync(string url)
        {
            if (await GetAsync(url) is not { } page)
            {
                return [];
            }

            if (page["results"] is not JsonArray { Count: > 0 } results)
            {
                Problems.Add($"GET /api/v1/{url}: no results to check: {page.ToJsonString()}");
                return [];
            }

            return [.. results.Select((r, i) => ($"{url} results[{i}]", r!.AsObject()))];
        }

        /// <summary>A list's results, and the detail of its first.</summary>
        private async Task<List<(string Url, JsonObject Body)>> WithOneAsync(string list, Func<string, string> detail)
        {
            var page = await PageAsync(list);
            if (page.Count == 0)
            {
                return page;
            }

            if (page[0].Body["uid"]?.GetValue<string>() is not { } uid)
            {
                Problems.Add($"{list}: no uid in {page[0].Body.ToJsonString()}");
                return page;
            }

            return [.. page, .. await OneAsync(detail(uid))];
        }

        public async Task<List<(string Url, JsonObject Body)>> ForAsync(string model)
        {
            var w = world;
            switch (model)
            {
                case "Export":
                    var export = await PostAsync("exports/", new { dataset = w.Dataset });
                    if (export is not null)
                    {
                        await Seed.WaitForAsync(w.Http, export["uid"]!.GetValue<string>(), ["exported", "failed"]);
                    }

                    return [.. export is null ? [] : new[] { ("POST exports/", export) }, .. await WithOneAsync("exports/", uid => $"exports/{uid}/")];
                case "Dataset":
                    return [.. await WithOneAsync("datasets/", uid => $"datasets/{uid}/"), .. await OneAsync($"datasets/{w.Owner}/{w.DatasetSlug}/")];
                case "DatasetItem":
                    return await WithOneAsync($"datasets/{w.Owner}/{w.DatasetSlug}/items/", uid => $"datasets/{w.Owner}/{w.DatasetSlug}/items/{uid}/");
                case "Organization":
                    return [.. await PageAsync("organizations/"), .. await OneAsync($"organizations/{w.Owner}/")];
                case "OrganizationMember":
                    return await PageAsync($"organizations/{w.Owner}/members/");
                case "Project":
                    return [.. await WithOneAsync("projects/", uid => $"projects/{uid}/"), .. await WithOneAsync("users/me/projects/", uid => $"users/me/projects/{uid}/")];
                case "Slice":
                    return [.. await PageAsync($"slices/{w.Owner}/list/"), .. await OneAsync($"slices/{w.Owner}/{w.SliceSlug}/")];
                case "SliceItem":
                    return await WithOneAsync($"slices/{w.Owner}/{w.SliceSlug}/items/list/", uid => $"slices/{w.Owner}/{w.SliceSlug}/items/{uid}/");
                case "Task":
                    return await WithOneAsync($"tasks/?project={w.Project}", uid => $"tasks/{uid}/");
                case "Webhook":
                    var created = await PostAsync("webhooks/", new { target_url = server.ReceiverUrl, events = new[] { "export.completed" } });
                    return [.. created is null ? [] : new[] { ("POST webhooks/", created) }, .. await WithOneAsync("webhooks/", uid => $"webhooks/{uid}/")];
                case "WebhookDelivery":
                    if (await PostAsync("webhooks/", new { target_url = server.ReceiverUrl, events = new[] { "export.completed" } }) is not null
                        && await PostAsync("exports/", new { dataset = w.Dataset }) is { } delivered)
                    {
                        await Seed.WaitForAsync(w.Http, delivered["uid"]!.GetValue<string>(), ["exported"]);
                        var deadline = DateTime.UtcNow.AddSeconds(20);
                        while (await GetAsync("webhook-deliveries/") is { } page && page["results"] is JsonArray { Count: 0 } && DateTime.UtcNow < deadline)
                        {
                            await Task.Delay(100);
                        }
                    }

                    return await WithOneAsync("webhook-deliveries/", uid => $"webhook-deliveries/{uid}/");
                default:
                    throw new ArgumentOutOfRangeException(nameof(model), model, "no answers known for this model");
            }
        }
    }
}
