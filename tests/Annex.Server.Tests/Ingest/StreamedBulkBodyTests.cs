using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>The bulk endpoints read their bodies element by element as they arrive: a body cut into pieces of any
/// size reads exactly as the same body sent at once, errors included. <c>Prefer: return=minimal</c> answers counts.</summary>
public sealed class StreamedBulkBodyTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    /// <summary>Writes its body a few bytes at a time, flushing after each piece, without a Content-Length.</summary>
    private sealed class TrickleContent(string body, int piece) : HttpContent
    {
        private readonly byte[] _bytes = Encoding.UTF8.GetBytes(body);

        protected override async Task SerializeToStreamAsync(Stream stream, TransportContext? context)
        {
            for (var start = 0; start < _bytes.Length; start += piece)
            {
                await stream.WriteAsync(_bytes.AsMemory(start, Math.Min(piece, _bytes.Length - start)));
                await stream.FlushAsync();
            }
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body, HttpResponseMessage Response)> PostAsync(HttpClient client, string url, HttpContent content, bool minimal = false)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = content };
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        if (minimal)
        {
            request.Headers.TryAddWithoutValidation("Prefer", "respond-async, return=minimal");
        }

        var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response);
    }

    private static string ItemsBody(int count) =>
        "{\"comment\": {\"made by\": [\"a \\u00e9 test\", 1.5, null]}, \"items\": [" +
        string.Join(", ", Enumerable.Range(0, count).Select(n => string.Create(CultureInfo.InvariantCulture,
            $$$"""{"ref_id": "img/{{{n:D4}}}.jpg", "width": 640, "height": 480, "metadata": {"n": {{{n}}}, "tags": ["a\"b", {"deep": [[{{{n}}}]]}], "name": "caf\u00e9 {{{n}}}"}}"""))) +
        "], \"trailing\": true}";

    [Theory]
    [InlineData(1)]
    [InlineData(7)]
    [InlineData(4096)]
    public async Task A_body_arriving_a_few_bytes_at_a_time_stores_the_same_items(int piece)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var count = piece == 1 ? 60 : 600;

        var (status, created, response) = await PostAsync(tenant.Http, $"/api/v1/datasets/{dataset}/items/", new TrickleContent(ItemsBody(count), piece));
        response.Dispose();

        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(count, created!["count"]!.GetValue<int>());
        var items = created["items"]!.AsArray();
        Assert.Equal(Enumerable.Range(0, count).Select(n => string.Create(CultureInfo.InvariantCulture, $"img/{n:D4}.jpg")), items.Select(i => i!["ref_id"]!.GetValue<string>()));
        Api.AssertJson($$"""{"n": {{count - 1}}, "tags": ["a\"b", {"deep": [[{{count - 1}}]]}], "name": "café {{count - 1}}"}""", items[count - 1]!["metadata"]);
        Assert.Equal(count, (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/"))["item_count"]!.GetValue<long>());
    }

    public static TheoryData<string, string> Bodies => new()
    {
        // Element errors, with other properties around the list.
        { """{"before": {"x": [1, {"y": 2}]}, "items": [{"ref_id": "ok"}, {"width": 0}, 7], "after": "z"}""", """{"items": {"1": {"ref_id": ["This field is required."], "width": ["Ensure this value is greater than or equal to 1."]}, "2": {"non_field_errors": ["Invalid data. Expected a dictionary, but got int."]}}}""" },
        // A parse error after elements with errors: the parse error is the answer.
        { """{"items": [{"ref_id": "ok"}, {"width": 0}]} x""", "parse error" },
        { """{"items": [{"ref_id": "ok"}, {"width": 0}""", "parse error" },
        { """[{"ref_id": "a"}, {"ref_id": "b"},]""", "parse error" },
        // Text no database can hold, in an element or in another property.
        { """{"items": [{"ref_id": "ok"}, {"ref_id": "a\u0000b"}]}""", """{"detail": "JSON parse error - Null characters are not allowed (a string holds \\u0000)."}""" },
        { """{"note": {"x": "\ud800"}, "items": [{"ref_id": "ok"}]}""", """{"detail": "JSON parse error - a string holds an unpaired \\u surrogate escape, which is not valid text."}""" },
        // The list as a whole.
        { "   \n ", """{"items": ["This field is required."]}""" },
        { """{"item": [{"ref_id": "a"}]}""", """{"items": ["This field is required."]}""" },
        { """{"items": null}""", """{"items": ["This field may not be null."]}""" },
        { """{"items": 3.5}""", """{"items": ["Expected a list of items but got type \"float\"."]}""" },
        { """{"items": {"ref_id": "a", "metadata": {"x": [1]}}}""", """{"items": ["Expected a list of items but got type \"dict\"."]}""" },
        { """{"items": [{"ref_id": "a"}], "items": [{"ref_id": "b"}]}""", """{"items": ["The key \"items\" appears twice in one object; send each key once."]}""" },
        { "\"items\"", """{"non_field_errors": ["Invalid data. Expected a dictionary, but got str."]}""" },
        { "[]", """{"items": ["This list may not be empty."]}""" },
    };

    [Theory]
    [MemberData(nameof(Bodies))]
    public async Task A_refused_body_gets_the_same_answer_whole_and_in_pieces(string body, string expected)
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var url = $"/api/v1/datasets/{dataset}/items/";

        var (status, whole, response) = await PostAsync(tenant.Http, url, new StringContent(body, Encoding.UTF8));
        response.Dispose();
        Assert.Equal(HttpStatusCode.BadRequest, status);
        if (expected == "parse error")
        {
            Assert.StartsWith("JSON parse error - ", whole!["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        }
        else
        {
            Api.AssertJson(expected, whole);
        }

        foreach (var piece in new[] { 1, 3 })
        {
            var (pieceStatus, pieces, pieceResponse) = await PostAsync(tenant.Http, url, new TrickleContent(body, piece));
            pieceResponse.Dispose();
            Assert.Equal(HttpStatusCode.BadRequest, pieceStatus);
            Api.AssertJson(whole!.ToJsonString(), pieces);
        }

        Assert.Empty((await tenant.Http.GetOkAsync($"{url}"))["results"]!.AsArray());
    }

    [Fact]
    public async Task Prefer_return_minimal_answers_uids_and_counts_and_says_it_did()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var project = await Seed.ProjectAsync(tenant.Http);
        var items = """{"items": [{"ref_id": "a.jpg", "width": 10, "height": 20, "metadata": {"k": 1}}, {"ref_id": "b.jpg"}]}""";

        var (status, created, response) = await PostAsync(tenant.Http, $"/api/v1/datasets/{dataset}/items/", new StringContent(items, Encoding.UTF8), minimal: true);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("return=minimal", Assert.Single(response.Headers.GetValues("Preference-Applied")));
        response.Dispose();
        var listed = (await tenant.Http.GetOkAsync($"/api/v1/datasets/{dataset}/items/"))["results"]!.AsArray();
        var uids = listed.Select(i => i!["uid"]!.GetValue<string>()).ToList();
        Api.AssertJson($$"""{"count": 2, "items": [{"uid": "{{uids[0]}}", "ref_id": "a.jpg"}, {"uid": "{{uids[1]}}", "ref_id": "b.jpg"}], "skipped": 0}""", created);

        // Sent again as a resumed import does: the stored items' uids, counted as skipped.
        (status, created, response) = await PostAsync(tenant.Http, $"/api/v1/datasets/{dataset}/items/?existing=skip", new TrickleContent(items, 5), minimal: true);
        response.Dispose();
        Assert.Equal(HttpStatusCode.Created, status);
        Api.AssertJson($$"""{"count": 0, "items": [{"uid": "{{uids[0]}}", "ref_id": "a.jpg"}, {"uid": "{{uids[1]}}", "ref_id": "b.jpg"}], "skipped": 2}""", created);

        var results = $$$"""{"results": [{"dataset_item_uid": "{{{uids[0]}}}", "annotations": [{"label": "car", "type": "bounding_box", "coordinates": {"x": 1, "y": 2, "width": 3, "height": 4}}]}, {"dataset_item_uid": "{{{uids[1]}}}", "annotations": []}]}""";
        (status, var counted, response) = await PostAsync(tenant.Http, $"/api/v1/projects/{project}/results/", new StringContent(results, Encoding.UTF8), minimal: true);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal("return=minimal", Assert.Single(response.Headers.GetValues("Preference-Applied")));
        response.Dispose();
        Api.AssertJson("""{"created": 2, "updated": 0, "skipped": 0}""", counted);

        (status, counted, response) = await PostAsync(tenant.Http, $"/api/v1/projects/{project}/results/?existing=skip", new StringContent(results, Encoding.UTF8), minimal: true);
        response.Dispose();
        Assert.Equal(HttpStatusCode.OK, status);
        Api.AssertJson("""{"created": 0, "updated": 0, "skipped": 2}""", counted);

        // Without the preference: the full answer, as before, and no Preference-Applied.
        (status, counted, response) = await PostAsync(tenant.Http, $"/api/v1/projects/{project}/results/", new StringContent(results, Encoding.UTF8));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(response.Headers.Contains("Preference-Applied"));
        response.Dispose();
        Assert.Equal(2, counted!["updated"]!.GetValue<int>());
        Assert.Equal(2, counted["results"]!.AsArray().Count);
        Assert.Equal(1, counted["results"]![0]!["annotation_count"]!.GetValue<int>());
        var stored = (await tenant.Http.GetOkAsync($"/api/v1/projects/{project}/results/?dataset_item={uids[0]}"))["results"]![0]!;
        Api.AssertJson(counted["results"]![0]!.ToJsonString(), stored);
    }
}
