using System.Text.Json;
using System.Text.Json.Nodes;
using Xunit;

namespace Annex.Formats.Tests;

public class AvalaJsonSchemaTests
{
    private static async Task<JsonObject> SampleAsync() =>
        JsonNode.Parse(await SampleExport.WriteAsync())!.AsObject();

    private static IReadOnlyList<string> Validate(JsonNode node)
    {
        using var document = JsonDocument.Parse(node.ToJsonString());
        return AvalaJsonSchema.Validate(document);
    }

    [Fact]
    public async Task SampleIsValid() => Assert.Empty(Validate(await SampleAsync()));

    [Fact]
    public async Task CatchesDanglingDatasetItemUid()
    {
        var root = await SampleAsync();
        root["results"]![0]!["dataset_item_uid"] = "00000000-0000-0000-0000-000000000001";
        Assert.Equal(
            ["$.results[0].dataset_item_uid: no dataset item has uid \"00000000-0000-0000-0000-000000000001\""],
            Validate(root));
    }

    [Fact]
    public async Task CatchesUnknownProject()
    {
        var root = await SampleAsync();
        root["results"]![0]!["project_uid"] = "00000000-0000-0000-0000-000000000002";
        Assert.Equal(
            ["$.results[0].project_uid: no project has uid \"00000000-0000-0000-0000-000000000002\""],
            Validate(root));
    }

    [Fact]
    public async Task CatchesUnknownLabel()
    {
        var root = await SampleAsync();
        root["results"]![0]!["annotations"]![0]!["label"] = "truck";
        Assert.Equal(
            ["$.results[0].annotations[0].label: \"truck\" is not a label of the result's project"],
            Validate(root));
    }

    [Fact]
    public async Task CatchesMissingKeysAndWrongTypes()
    {
        var root = await SampleAsync();
        root.Remove("scheme_version");
        root["export_info"]!["filter_query_string"] = 3;
        root["datasets"]![0]!["items"]![0]!["metadata"] = new JsonArray();
        root["projects"]![0]!["labels"]![0]!["color"] = "red";
        var annotation = root["results"]![0]!["annotations"]![0]!.AsObject();
        annotation.Remove("coordinates");
        annotation["attributes"] = null;

        Assert.Equal(
            [
                "$.scheme_version: missing",
                "$.export_info.filter_query_string: expected a string or null but got a number",
                "$.datasets[0].items[0].metadata: expected an object but got an array",
                "$.projects[0].labels[0].color: expected a color like \"#RRGGBB\" but got \"red\"",
                "$.results[0].annotations[0].coordinates: missing",
                "$.results[0].annotations[0].attributes: expected an object but got null",
            ],
            Validate(root));
    }

    [Fact]
    public async Task CatchesNonArrayCollectionsAndNonObjectElements()
    {
        var root = await SampleAsync();
        root["datasets"] = new JsonObject();
        root["results"] = new JsonArray(1);
        Assert.Equal(
            ["$.datasets: expected an array but got an object", "$.results[0]: expected an object but got a number"],
            Validate(root));
    }

    [Fact]
    public void RejectsNonObjectRoot()
    {
        using var document = JsonDocument.Parse("[]");
        Assert.Equal(["$: expected an object"], AvalaJsonSchema.Validate(document));
    }
}
