using System.IO.Compression;
using System.Text.Json;
using Xunit;

namespace Annex.Cli.Tests;

/// <summary><c>annex versions create|list|diff</c> and <c>annex export --version ... --since ...</c>.</summary>
public sealed class VersionCommandTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    [Fact]
    public async Task Versions_are_created_listed_diffed_and_exported_as_deltas()
    {
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, fixture.NewFolder());
        var dataset = (await cli.RunAsync("datasets", "create", "Highway", "--json")).Json().GetProperty("uid").GetString()!;
        using var client = new Client.AnnexClient(cli.Server.Address, cli.Key);
        await client.CreateItemsAsync(Guid.Parse(dataset), [.. Enumerable.Range(1, 3).Select(n => new Client.NewDatasetItem($"frame_{n}", 640, 480))]);

        var first = await cli.RunAsync("versions", "create", dataset, "v1", "--json");
        Assert.True(first.ExitCode == 0, first.ToString());
        var v1 = first.Json().GetProperty("uid").GetString()!;
        var added = await client.CreateItemsAsync(Guid.Parse(dataset), [new Client.NewDatasetItem("frame_9", 640, 480)]);
        var v2 = (await cli.RunAsync("versions", "create", dataset, "v2", "--json")).Json().GetProperty("uid").GetString()!;

        var list = await cli.RunAsync("versions", "list", dataset);
        Assert.Equal(0, list.ExitCode);
        Assert.Contains(v1, list.Out, StringComparison.Ordinal);
        Assert.Contains(v2, list.Out, StringComparison.Ordinal);

        var diff = await cli.RunAsync("versions", "diff", dataset, v1, v2, "--json");
        Assert.True(diff.ExitCode == 0, diff.ToString());
        Assert.Equal(1, diff.Json().GetProperty("added").GetInt64());
        var item = Assert.Single(diff.Json().GetProperty("items").EnumerateArray());
        Assert.Equal(added.Items[0].Uid, item.GetProperty("uid").GetGuid());
        var table = await cli.RunAsync("versions", "diff", dataset, v1);
        Assert.Contains("1 added, 0 changed, 0 removed", table.Out, StringComparison.Ordinal);

        var exported = await cli.RunAsync("export", "--version", v2, "--since", v1, "--format", "avala-json-external", "--out", "delta.zip", "--interval", "0.05", "--json");
        Assert.True(exported.ExitCode == 0, exported.ToString());
        Assert.Equal(v1, exported.Json().GetProperty("export").GetProperty("since_version").GetString());
        using var zip = ZipFile.OpenRead(Path.Combine(cli.WorkingDirectory, "delta.zip"));
        using var document = JsonDocument.Parse(zip.Entries[0].Open());
        var items = document.RootElement.GetProperty("datasets")[0].GetProperty("items").EnumerateArray().Select(i => i.GetProperty("ref_id").GetString()).ToList();
        Assert.Equal(["frame_9"], items);
        Assert.Equal(0, document.RootElement.GetProperty("removed").GetProperty("items").GetArrayLength());

        Assert.Equal(2, (await cli.RunAsync("export", "--version", v2, "--since", v1, "--since-export", v1, "--format", "CSV")).ExitCode);
        Assert.Equal(4, (await cli.RunAsync("versions", "list", Guid.NewGuid().ToString())).ExitCode);
    }
}
