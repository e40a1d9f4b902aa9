using Annex.Client;
using Annex.Tests;
using Xunit;

namespace Annex.Cli.Tests;

/// <summary>A folder import reads only files inside its folder: names in the data and symbolic links that lead
/// elsewhere are refused, naming the entry, before anything is uploaded.</summary>
public sealed class ImportStaysInsideTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    [Theory]
    [InlineData("coco-absolute", "annotations/instances_val.json: images[0].file_name: \"{secret}\" leads out of the import folder")]
    [InlineData("coco-dotdot", "annotations/instances_val.json: images[0].file_name: \"../../outside/secret.png\" leads out of the import folder")]
    [InlineData("yolo-linked-image", "images/train/a.png: a symbolic link to {secret}, outside the import folder")]
    [InlineData("yolo-linked-folder", "labels/train/a.txt: a symbolic link to {outside}/a.txt, outside the import folder")]
    [InlineData("voc-linked-image", "JPEGImages/a.png: a symbolic link to {secret}, outside the import folder")]
    public async Task A_path_out_of_the_folder_is_refused_and_nothing_is_uploaded(string kind, string message)
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        var outside = Path.Combine(folder, "outside");
        var secret = Path.Combine(outside, "secret.png");
        Directory.CreateDirectory(outside);
        await File.WriteAllBytesAsync(secret, TestImages.Png(20, 10));
        await File.WriteAllTextAsync(Path.Combine(outside, "a.txt"), "0 0.5 0.5 0.2 0.2\n");
        var source = Path.Combine(folder, "source");
        switch (kind)
        {
            case "coco-absolute" or "coco-dotdot":
                var fileName = kind == "coco-absolute" ? secret : "../../outside/secret.png";
                Write(source, "annotations/instances_val.json", $$"""
                    {"images": [{"id": 1, "file_name": "{{fileName}}", "width": 20, "height": 10}],
                     "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 5, 5]}],
                     "categories": [{"id": 1, "name": "car"}]}
                    """);
                WriteImage(source, "images/val/inside.png");
                break;
            case "yolo-linked-image":
                Write(source, "data.yaml", "names: [car]\n");
                Write(source, "labels/train/a.txt", "0 0.5 0.5 0.2 0.2\n");
                Link(source, "images/train/a.png", secret);
                break;
            case "yolo-linked-folder":
                Write(source, "data.yaml", "names: [car]\n");
                WriteImage(source, "images/train/a.png");
                Directory.CreateDirectory(Path.Combine(source, "labels"));
                Directory.CreateSymbolicLink(Path.Combine(source, "labels", "train"), outside);
                break;
            case "voc-linked-image":
                Write(source, "Annotations/a.xml", """
                    <annotation><filename>a.png</filename><size><width>20</width><height>10</height><depth>3</depth></size>
                    <object><name>car</name><bndbox><xmin>2</xmin><ymin>2</ymin><xmax>6</xmax><ymax>6</ymax></bndbox></object></annotation>
                    """);
                Link(source, "JPEGImages/a.png", secret);
                break;
        }

        var imported = await cli.RunAsync("datasets", "import", "source");

        Assert.True(imported.ExitCode == ExitCodes.Failed, imported.ToString());
        Assert.Contains(message.Replace("{secret}", secret, StringComparison.Ordinal).Replace("{outside}", outside, StringComparison.Ordinal), imported.Error, StringComparison.Ordinal);
        using var client = new AnnexClient(cli.Server.Address, cli.Key);
        Assert.Empty(await client.ListDatasetsAsync().ToListAsync());
        Assert.Empty(await client.ListProjectsAsync().ToListAsync());
    }

    [Fact]
    public async Task A_symbolic_link_that_stays_inside_the_folder_is_followed()
    {
        var folder = fixture.NewFolder();
        var cli = await CliHarness.ForNewTenantAsync(fixture.Server, folder);
        var source = Path.Combine(folder, "source");
        Write(source, "data.yaml", "names: [car]\n");
        WriteImage(source, "shared/a.png");
        Link(source, "images/train/a.png", Path.Combine(source, "shared", "a.png"));
        Write(source, "labels/train/a.txt", "0 0.5 0.5 0.2 0.2\n");

        var imported = await cli.RunAsync("datasets", "import", "source");

        Assert.True(imported.ExitCode == ExitCodes.Done, imported.ToString());
        Assert.Contains("Imported 1 items with 1 annotations (1 results, 1 images)", imported.Out, StringComparison.Ordinal);
    }

    private static void Write(string root, string relative, string text)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    private static void WriteImage(string root, string relative)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, TestImages.Png(20, 10));
    }

    private static void Link(string root, string relative, string target)
    {
        var path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.CreateSymbolicLink(path, target);
    }
}
