using System.Globalization;
using System.Text;
using System.Text.Json;
using Annex.Formats.Import;
using Xunit;

namespace Annex.Formats.Tests.Import;

/// <summary>The streamed COCO reader gives what the whole-file reader gives, without holding the file.</summary>
public sealed class CocoStreamReaderTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("annex-coco-stream-");

    public void Dispose() => _folder.Delete(recursive: true);

    private const string Sample = """
        {
          "info": {"description": "sample", "nested": {"a": [1, 2, {"b": null}]}},
          "licenses": [],
          "images": [
            {"id": 1, "file_name": "frame_001.jpg", "width": 640, "height": 480},
            {"id": 2, "file_name": "sub/frame_002.png", "width": 320, "height": 240},
            {"id": 3, "file_name": "empty.jpg"}
          ],
          "annotations": [
            {"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30.5, 40], "segmentation": [], "area": 1220, "iscrowd": 0},
            {"id": 2, "image_id": 1, "category_id": 2, "bbox": [0, 0, 10, 10], "segmentation": [[0, 0, 10, 0, 10, 10]], "area": 50, "iscrowd": 0, "attributes": {"occluded": true}},
            {"id": 3, "image_id": 2, "category_id": 3, "bbox": [5, 5, 10, 10], "keypoints": [5, 5, 2, 0, 0, 0, 15, 15, 1], "num_keypoints": 2, "iscrowd": 0},
            {"id": 4, "image_id": 2, "category_id": 1, "bbox": [1, 1, 5, 5], "segmentation": {"counts": [1, 2], "size": [240, 320]}, "iscrowd": 1},
            {"id": 5, "image_id": 2, "category_id": 1, "bbox": [1, 1, 0, 5], "segmentation": [], "iscrowd": 0}
          ],
          "categories": [
            {"id": 1, "name": "car", "supercategory": "vehicle"},
            {"id": 2, "name": "road"},
            {"id": 3, "name": "person", "keypoints": ["head", "neck", "hip"], "skeleton": [[1, 2], [2, 3]]},
            {"id": 4, "name": "unused"}
          ]
        }
        """;

    [Fact]
    public void Gives_what_the_whole_file_reader_gives()
    {
        var (whole, streamed, import) = ReadBoth(Sample, "instances_val2017.json");
        AssertSame(whole, streamed);
        Assert.Equal(3, import.ItemCount);
        Assert.Equal(5, import.AnnotationCount);
        Assert.Equal(["car", "person", "road"], import.UsedLabels.Order(StringComparer.Ordinal));
        Assert.Equal(2, streamed.Skipped.Count);
    }

    [Fact]
    public void Annotations_before_the_images_and_out_of_order_read_the_same()
    {
        // Label Studio keeps an image's annotations together after its images; other tools do not.
        var json = """
            {"annotations": [
               {"id": 7, "image_id": 2, "category_id": 1, "bbox": [1, 1, 2, 2]},
               {"id": 8, "image_id": 1, "category_id": 1, "bbox": [3, 3, 2, 2]},
               {"id": 9, "image_id": 2, "category_id": 2, "bbox": [5, 5, 2, 2]}],
             "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
             "images": [{"id": 1, "file_name": "one.jpg"}, {"id": 2, "file_name": "two.jpg"}, {"id": 3, "file_name": "three.jpg"}]}
            """;
        var (whole, streamed, _) = ReadBoth(json, "coco.json");
        AssertSame(whole, streamed);
        Assert.Equal(2, streamed.Items[1].Annotations.Count);
    }

    [Fact]
    public void Ids_that_do_not_follow_each_other_read_the_same()
    {
        // Consecutive ids at first (no id is stored for them), then out of step, negative and far apart.
        var images = string.Join(",", Enumerable.Range(0, 600).Select(i =>
        {
            var id = i < 300 ? 10L + i : i % 2 == 0 ? -i : (long)i << 40;
            return $$"""{"id": {{id}}, "file_name": "dir\\f{{i}}.jpg", "width": {{i + 1}}}""";
        }));
        var annotations = string.Join(",", Enumerable.Range(0, 600).Reverse().Select(i =>
        {
            var id = i < 300 ? 10L + i : i % 2 == 0 ? -i : (long)i << 40;
            return $$"""{"id": {{i}}, "image_id": {{id}}, "category_id": 1, "bbox": [{{i}}, 1, 2, 2]}""";
        }));
        var json = $$"""{"images": [{{images}}], "annotations": [{{annotations}}], "categories": [{"id": 1, "name": "a"}]}""";
        var (whole, streamed, import) = ReadBoth(json, "instances_train.json");
        AssertSame(whole, streamed);
        Assert.Equal(600, import.ItemCount);
        Assert.Equal("dir/f599", streamed.Items[599].RefId);
    }

    [Fact]
    public void An_image_in_two_splits_of_a_folder_fails_as_the_folder_reader_fails()
    {
        Directory.CreateDirectory(Path.Combine(_folder.FullName, "annotations"));
        File.WriteAllText(Path.Combine(_folder.FullName, "annotations", "instances_train.json"),
            """{"images":[{"id":1,"file_name":"a.jpg"},{"id":2,"file_name":"b.jpg"}],"categories":[]}""");
        File.WriteAllText(Path.Combine(_folder.FullName, "annotations", "instances_val.json"),
            """{"images":[{"id":1,"file_name":"c.jpg"},{"id":2,"file_name":"b.png"}],"categories":[]}""");

        var expected = Assert.Throws<ImportException>(() => CocoImporter.ReadFolder(_folder.FullName));
        var actual = Assert.Throws<ImportException>(() => CocoImporter.OpenFolderStreamed(_folder.FullName).Dispose());
        Assert.Equal(expected.Message, actual.Message);
        Assert.Contains("\"b\" is also in another split", actual.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_large_file_with_elements_across_buffer_ends_and_one_larger_than_the_buffer_reads_the_same()
    {
        var json = new StringBuilder("""{"categories": [{"id": 1, "name": "car"}, {"id": 2, "name": "person"}], "images": [""");
        const int Images = 4_000;
        for (var i = 1; i <= Images; i++)
        {
            json.Append(CultureInfo.InvariantCulture, $$"""{"id": {{i}}, "file_name": "img/{{i:D6}}.jpg", "width": 1920, "height": 1080}""").Append(i < Images ? ", " : "], ");
        }

        json.Append("\"annotations\": [");
        var id = 0;
        for (var i = 1; i <= Images; i++)
        {
            for (var b = 0; b < 5; b++)
            {
                json.Append(id == 0 ? "" : ", ").Append(CultureInfo.InvariantCulture,
                    $$"""{"id": {{++id}}, "image_id": {{i}}, "category_id": {{1 + (b % 2)}}, "bbox": [{{b * 10.25}}, {{i % 100}}, 30, 40], "area": 1200, "iscrowd": 0, "segmentation": []}""");
            }
        }

        // One polygon of 60,000 points: about 700 KB in one element.
        json.Append(CultureInfo.InvariantCulture, $$""", {"id": {{++id}}, "image_id": 17, "category_id": 2, "segmentation": [[""");
        json.AppendJoin(", ", Enumerable.Range(0, 120_000).Select(v => (v % 997 + 0.5).ToString(CultureInfo.InvariantCulture)));
        json.Append("]], \"bbox\": [0, 0, 997, 997], \"iscrowd\": 0}]}");

        var (whole, streamed, import) = ReadBoth(json.ToString(), "instances_train.json");
        AssertSame(whole, streamed);
        Assert.Equal(Images, import.ItemCount);
        Assert.Equal(Images * 5 + 1, import.AnnotationCount);
    }

    [Fact]
    public void Items_are_handed_out_before_the_file_has_been_read_to_its_end()
    {
        var json = new StringBuilder("""{"categories": [{"id": 1, "name": "car"}], "images": [""");
        const int Images = 20_000;
        json.AppendJoin(", ", Enumerable.Range(1, Images).Select(i => $$"""{"id": {{i}}, "file_name": "{{i}}.jpg"}"""));
        json.Append("], \"annotations\": [");
        json.AppendJoin(", ", Enumerable.Range(1, Images).Select(i => $$"""{"id": {{i}}, "image_id": {{i}}, "category_id": 1, "bbox": [1, 2, 3, 4]}"""));
        json.Append("]}");
        var path = Write(json.ToString(), "instances_train.json");
        var length = new FileInfo(path).Length;

        using var import = CocoImporter.OpenStreamed(path, "instances_train.json");
        using var first = import.ReadItems().GetEnumerator();
        Assert.True(first.MoveNext());
        Assert.Equal("1", first.Current.RefId);

        // The second pass has read only the images and the first buffer of annotations: an open file's position tells.
        var position = OpenFilePositions(path).Max();
        Assert.True(position < length * 3 / 4, $"read {position} of {length} bytes before the first item");
        var count = 1;
        while (first.MoveNext())
        {
            count++;
        }

        Assert.Equal(Images, count);
    }

    public static TheoryData<string> MalformedFiles => new()
    {
        """{"images":[],"categories":[],"annotations":[{"id":1,"image_id":9,"category_id":1,"bbox":[0,0,1,1]}]}""",
        """{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[],"annotations":[{"id":1,"image_id":1,"category_id":4,"bbox":[0,0,1,1]}]}""",
        """{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"c"}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1]}]}""",
        """{"images":[{"id":1,"file_name":"a.jpg"},{"id":1,"file_name":"b.jpg"}],"categories":[]}""",
        """{"images":[{"id":1,"file_name":"a.jpg"},{"id":2,"file_name":"a.jpg"}],"categories":[]}""",
        """{"images":[{"id":1,"file_name":"a.jpg","width":"wide"}],"categories":[]}""",
        """{"images":[],"categories":[{"id":1,"name":"a"},{"id":1,"name":"b"}]}""",
        """{"categories":[]}""",
        """{"images":[]}""",
        """{"images":null,"categories":[]}""",
        """{"images":{},"categories":[]}""",
        """{"images":[],"categories":[],"annotations":7}""",
        """[1, 2]""",
        "{\n\"images\": [\n  {\"id\": 1,,}\n]}",
        "{\"images\": [{\"id\": 1, \"file_name\": \"a.jpg\"}], \"categories\": [",
    };

    [Theory]
    [MemberData(nameof(MalformedFiles))]
    public void Malformed_files_fail_with_the_same_message(string json)
    {
        var expected = Assert.Throws<ImportException>(() => CocoImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), "instances_train.json"));
        var path = Write(json, "instances_train.json");
        var actual = Assert.Throws<ImportException>(() =>
        {
            using var import = CocoImporter.OpenStreamed(path, "instances_train.json");
            _ = import.ReadItems().Count();
        });
        Assert.Equal(expected.File, actual.File);
        Assert.Equal(expected.Line, actual.Line);
        if (expected.Line is null)
        {
            Assert.Equal(expected.Reason, actual.Reason);
        }
        else
        {
            Assert.StartsWith("not valid JSON", actual.Reason, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void A_folder_streams_each_split_as_the_folder_reader_reads_it()
    {
        Directory.CreateDirectory(Path.Combine(_folder.FullName, "annotations"));
        Directory.CreateDirectory(Path.Combine(_folder.FullName, "images", "train"));
        Directory.CreateDirectory(Path.Combine(_folder.FullName, "val2017"));
        File.WriteAllBytes(Path.Combine(_folder.FullName, "images", "train", "a.jpg"), [1]);
        File.WriteAllBytes(Path.Combine(_folder.FullName, "val2017", "b.jpg"), [1]);
        File.WriteAllText(Path.Combine(_folder.FullName, "annotations", "instances_train.json"),
            """{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"car"}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[1,2,3,4]}]}""");
        File.WriteAllText(Path.Combine(_folder.FullName, "annotations", "instances_val2017.json"),
            """{"images":[{"id":1,"file_name":"b.jpg"},{"id":2,"file_name":"missing.jpg"}],"categories":[{"id":1,"name":"car"},{"id":2,"name":"bus"}],"annotations":[{"id":1,"image_id":2,"category_id":2,"bbox":[1,2,3,4]}]}""");

        var whole = CocoImporter.ReadFolder(_folder.FullName);
        using var import = CocoImporter.OpenFolderStreamed(_folder.FullName);
        var streamed = new ImportedDataset(import.Labels, [.. import.ReadItems()]) { Skipped = import.Skipped };

        AssertSame(whole, streamed);
        Assert.Equal(["images/train/a.jpg", "val2017/b.jpg", null], streamed.Items.Select(i => i.MediaPath));
    }

    private (ImportedDataset Whole, ImportedDataset Streamed, StreamedImport Import) ReadBoth(string json, string fileName)
    {
        var whole = CocoImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), fileName);
        var path = Write(json, fileName);
        var import = CocoImporter.OpenStreamed(path, fileName);
        var streamed = new ImportedDataset(import.Labels, [.. import.ReadItems()]) { Skipped = import.Skipped };
        return (whole, streamed, import);
    }

    private string Write(string json, string fileName)
    {
        var path = Path.Combine(_folder.FullName, Guid.NewGuid().ToString("N") + "-" + fileName);
        File.WriteAllText(path, json);
        return path;
    }

    /// <summary>Where this process's open handles on <paramref name="path"/> are (Linux; one zero elsewhere).</summary>
    private static List<long> OpenFilePositions(string path)
    {
        if (!Directory.Exists("/proc/self/fdinfo"))
        {
            return [0];
        }

        var positions = new List<long> { 0 };
        foreach (var fd in Directory.GetFiles("/proc/self/fd"))
        {
            try
            {
                if (new FileInfo(fd).LinkTarget == path)
                {
                    var info = File.ReadAllLines(Path.Combine("/proc/self/fdinfo", Path.GetFileName(fd)));
                    positions.Add(long.Parse(info.First(l => l.StartsWith("pos:", StringComparison.Ordinal))[4..].Trim(), CultureInfo.InvariantCulture));
                }
            }
            catch (IOException)
            {
                // The descriptor closed while we looked.
            }
        }

        return positions;
    }

    private static void AssertSame(ImportedDataset expected, ImportedDataset actual) =>
        Assert.Equal(Canonical(expected), Canonical(actual));

    private static string Canonical(ImportedDataset dataset) => JsonSerializer.Serialize(new
    {
        labels = dataset.Labels.Select(l => new { l.Name, l.Color, l.Keypoints, l.Skeleton }),
        items = dataset.Items.Select(i => new { i.RefId, i.Width, i.Height, i.MetadataJson, i.MediaPath, i.MediaUrl, i.Annotations }),
        skipped = dataset.Skipped.Select(s => s.ToString()),
    });
}
