using System.Text;
using System.Text.Json;
using Annex.Formats.Import;
using Xunit;

namespace Annex.Formats.Tests.Import;

public class CocoImporterTests
{
    private const string Sample = """
        {
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
            {"id": 3, "name": "person", "keypoints": ["head", "neck", "hip"], "skeleton": [[1, 2], [2, 3]]}
          ]
        }
        """;

    [Fact]
    public void ReadsImagesCategoriesAndEveryShape()
    {
        var dataset = Read(Sample, "annotations/instances_val2017.json");

        Assert.Equal(["car", "road", "person"], dataset.Labels.Select(l => l.Name));
        Assert.Equal(["head", "neck", "hip"], dataset.Labels[2].Keypoints!);
        Assert.Equal([[1, 2], [2, 3]], dataset.Labels[2].Skeleton!);
        Assert.Null(dataset.Labels[0].Keypoints);

        Assert.Equal(["frame_001", "sub/frame_002", "empty"], dataset.Items.Select(i => i.RefId));
        var first = dataset.Items[0];
        Assert.Equal((640, 480), (first.Width, first.Height));
        Assert.Equal("""{"split":"val"}""", first.MetadataJson);
        Assert.Null(first.MediaPath);
        Assert.Equal(2, first.Annotations.Count);
        Assert.Equal(new ImportedAnnotation("car", "bounding_box", """{"x":10,"y":20,"width":30.5,"height":40}"""), first.Annotations[0]);
        Assert.Equal(
            new ImportedAnnotation("road", "polygon", """{"vertices":[[0,0],[10,0],[10,10]]}""", """{"occluded": true}"""),
            first.Annotations[1]);

        // A keypoint annotation's bbox comes along as a box, so the object keeps its frame.
        Assert.Equal(["bounding_box", "keypoints"], dataset.Items[1].Annotations.Select(a => a.Type));
        Assert.Equal("""{"x":5,"y":5,"width":10,"height":10}""", dataset.Items[1].Annotations[0].CoordinatesJson);
        var second = dataset.Items[1].Annotations[1];
        Assert.Equal(
            """{"points":[{"x":5,"y":5,"label":"head","visible":true},{"x":15,"y":15,"label":"hip","visible":false}]}""",
            second.CoordinatesJson);

        Assert.Empty(dataset.Items[2].Annotations);
        Assert.Null(dataset.Items[2].Width);

        Assert.Equal(2, dataset.Skipped.Count);
        Assert.Contains("annotations[3] (id 4): RLE mask segmentation is not supported", dataset.Skipped[0].Reason, StringComparison.Ordinal);
        Assert.Contains("annotations[4] (id 5): the bbox has no area", dataset.Skipped[1].Reason, StringComparison.Ordinal);
        Assert.Equal("annotations/instances_val2017.json", dataset.Skipped[0].File);
    }

    [Fact]
    public void EveryImportedAnnotationPassesTheServersValidator()
    {
        var dataset = Read(Sample, "instances_train.json");
        var names = dataset.Labels.Select(l => l.Name).ToHashSet();
        foreach (var annotation in dataset.Items.SelectMany(i => i.Annotations))
        {
            AssertValid(annotation, names);
        }
    }

    [Theory]
    [InlineData("instances_train.json", "train")]
    [InlineData("instances_val2017.json", "val")]
    [InlineData("instances_test.json", "test")]
    [InlineData("instances_extra.json", "extra")]
    [InlineData("coco.json", null)]
    public void TakesTheSplitFromTheFileName(string fileName, string? split)
    {
        var dataset = Read("""{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[]}""", fileName);
        var metadata = JsonDocument.Parse(dataset.Items[0].MetadataJson).RootElement;
        Assert.Equal(split, metadata.TryGetProperty("split", out var value) ? value.GetString() : null);
    }

    [Theory]
    [InlineData("""{"images":[],"categories":[],"annotations":[{"id":1,"image_id":9,"category_id":1,"bbox":[0,0,1,1]}]}""", "annotations[0].image_id: no image has id 9")]
    [InlineData("""{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[],"annotations":[{"id":1,"image_id":1,"category_id":4,"bbox":[0,0,1,1]}]}""", "annotations[0].category_id: no category has id 4")]
    [InlineData("""{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"c"}],"annotations":[{"id":1,"image_id":1,"category_id":1,"bbox":[0,0,1]}]}""", "annotations[0].bbox: expected 4 values [x, y, width, height], found 3")]
    [InlineData("""{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"c"}],"annotations":[{"id":1,"image_id":1,"category_id":1,"segmentation":[[0,0,1,1,2]]}]}""", "annotations[0].segmentation[0]: expected x, y pairs, found 5 values")]
    [InlineData("""{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"c","keypoints":["a","b"]}],"annotations":[{"id":1,"image_id":1,"category_id":1,"keypoints":[0,0,2]}]}""", "annotations[0].keypoints: expected 6 values (x, y, v for each of the 2 keypoints of \"c\"), found 3")]
    [InlineData("""{"images":[{"id":1,"file_name":"a.jpg"},{"id":1,"file_name":"b.jpg"}],"categories":[]}""", "images[1].id: the image id 1 is used twice")]
    [InlineData("""{"images":[{"id":1,"file_name":"a.jpg"},{"id":2,"file_name":"a.jpg"}],"categories":[]}""", "images[1].file_name: two images are named \"a.jpg\"")]
    [InlineData("""{"images":[{"id":1,"file_name":"a.jpg","width":"wide"}],"categories":[]}""", "images[0].width: expected a positive integer, found \"wide\"")]
    [InlineData("""{"images":[],"categories":[{"id":1,"name":"a"},{"id":1,"name":"b"}]}""", "categories[1].id: the category id 1 is used twice")]
    [InlineData("""{"images":[],"categories":[{"id":1,"name":"a","keypoints":["x"],"skeleton":[[0,1]]}]}""", "categories[0].skeleton[0]: expected a pair of keypoint numbers from 1 to 1")]
    [InlineData("""{"categories":[]}""", "$.images: missing")]
    [InlineData("""[1, 2]""", "$: expected a COCO object with \"images\", \"annotations\" and \"categories\"")]
    public void MalformedInputSaysWhereAndWhy(string json, string reason)
    {
        var error = Assert.Throws<ImportException>(() => Read(json, "instances_train.json"));
        Assert.Equal("instances_train.json", error.File);
        Assert.Null(error.Line);
        Assert.Equal(reason, error.Reason);
        Assert.Equal($"instances_train.json: {reason}", error.Message);
    }

    [Fact]
    public void InvalidJsonGivesTheLine()
    {
        var error = Assert.Throws<ImportException>(() => Read("{\n\"images\": [\n  {\"id\": 1,,}\n]}", "instances_train.json"));
        Assert.Equal(3, error.Line);
        Assert.StartsWith("instances_train.json:3: not valid JSON", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ReadFolderFindsTheImagesOfEachSplit()
    {
        var root = Directory.CreateTempSubdirectory("annex-coco-");
        try
        {
            Directory.CreateDirectory(Path.Combine(root.FullName, "annotations"));
            Directory.CreateDirectory(Path.Combine(root.FullName, "images", "train"));
            Directory.CreateDirectory(Path.Combine(root.FullName, "val2017"));
            File.WriteAllBytes(Path.Combine(root.FullName, "images", "train", "a.jpg"), [1]);
            File.WriteAllBytes(Path.Combine(root.FullName, "val2017", "b.jpg"), [1]);
            File.WriteAllText(Path.Combine(root.FullName, "annotations", "instances_train.json"),
                """{"images":[{"id":1,"file_name":"a.jpg"}],"categories":[{"id":1,"name":"car"}]}""");
            File.WriteAllText(Path.Combine(root.FullName, "annotations", "instances_val2017.json"),
                """{"images":[{"id":1,"file_name":"b.jpg"},{"id":2,"file_name":"missing.jpg"}],"categories":[{"id":1,"name":"car"},{"id":2,"name":"bus"}]}""");

            var dataset = CocoImporter.ReadFolder(root.FullName);

            Assert.Equal(["car", "bus"], dataset.Labels.Select(l => l.Name));
            Assert.Equal(["a", "b", "missing"], dataset.Items.Select(i => i.RefId));
            Assert.Equal(["images/train/a.jpg", "val2017/b.jpg", null], dataset.Items.Select(i => i.MediaPath));
            Assert.Equal(["""{"split":"train"}""", """{"split":"val"}""", """{"split":"val"}"""], dataset.Items.Select(i => i.MetadataJson));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public void A_segmentation_on_the_corners_of_its_bbox_is_a_box()
    {
        var dataset = Read("""
            {"images":[{"id":1,"file_name":"a.jpg","width":100,"height":100}],
             "categories":[{"id":1,"name":"car"}],
             "annotations":[
               {"id":1,"image_id":1,"category_id":1,"bbox":[10,20,30.5,40],"segmentation":[[10,20,40.5,20,40.5,60,10,60]],"area":1220,"iscrowd":0},
               {"id":2,"image_id":1,"category_id":1,"bbox":[0,0,10,10],"segmentation":[[0,0,10,10,0,10,10,0]],"area":100,"iscrowd":0},
               {"id":3,"image_id":1,"category_id":1,"bbox":[0,0,10,10],"segmentation":[[0,0,10,0,10,10,0,9]],"area":95,"iscrowd":0}]}
            """, "annotations/instances_train.json");

        // The corners in another order are still the box; a fourth point off the corner is a polygon.
        Assert.Equal(["bounding_box", "bounding_box", "polygon"], dataset.Items[0].Annotations.Select(a => a.Type));
        Assert.Equal("""{"x":10,"y":20,"width":30.5,"height":40}""", dataset.Items[0].Annotations[0].CoordinatesJson);
    }

    [Fact]
    public void ReadFolder_takes_the_keypoints_of_a_split_from_its_person_keypoints_file()
    {
        var root = Directory.CreateTempSubdirectory("annex-coco-");
        try
        {
            Directory.CreateDirectory(Path.Combine(root.FullName, "annotations"));
            const string Images = """[{"id":1,"file_name":"a.jpg","width":100,"height":100},{"id":2,"file_name":"b.jpg","width":100,"height":100}]""";
            File.WriteAllText(Path.Combine(root.FullName, "annotations", "instances_val.json"), $$"""
                {"images":{{Images}},
                 "categories":[{"id":1,"name":"car","supercategory":""},{"id":2,"name":"person","supercategory":""}],
                 "annotations":[
                   {"id":1,"image_id":1,"category_id":1,"bbox":[1,1,5,5],"segmentation":[[1,1,6,1,6,6,1,6]],"area":25,"iscrowd":0},
                   {"id":2,"image_id":1,"category_id":2,"bbox":[20,20,30,60],"segmentation":[[20,20,50,20,50,80,20,80]],"area":1800,"iscrowd":0},
                   {"id":3,"image_id":2,"category_id":2,"bbox":[0,0,10,10],"segmentation":[[0,0,10,0,10,10,0,10]],"area":100,"iscrowd":0}]}
                """);
            File.WriteAllText(Path.Combine(root.FullName, "annotations", "person_keypoints_val.json"), $$"""
                {"images":{{Images}},
                 "categories":[{"id":2,"name":"person","supercategory":"","keypoints":["nose","tail"],"skeleton":[[1,2]]}],
                 "annotations":[
                   {"id":2,"image_id":1,"category_id":2,"bbox":[20,20,30,60],"segmentation":[[20,20,50,20,50,80,20,80]],"area":1800,"iscrowd":0,"keypoints":[30,30,2,0,0,0],"num_keypoints":1}]}
                """);

            var dataset = CocoImporter.ReadFolder(root.FullName);

            Assert.Equal(["car", "person"], dataset.Labels.Select(l => l.Name));
            Assert.Equal(["nose", "tail"], dataset.Labels[1].Keypoints!);
            Assert.Equal([[1, 2]], dataset.Labels[1].Skeleton!);
            Assert.Equal(["a", "b"], dataset.Items.Select(i => i.RefId));

            // The person object of the instances file is the one with keypoints: its box and keypoints, once.
            Assert.Equal(["car:bounding_box", "person:bounding_box", "person:keypoints"], dataset.Items[0].Annotations.Select(a => $"{a.Label}:{a.Type}"));
            Assert.Equal("""{"points":[{"x":30,"y":30,"label":"nose","visible":true}]}""", dataset.Items[0].Annotations[2].CoordinatesJson);
            Assert.Equal(["person:bounding_box"], dataset.Items[1].Annotations.Select(a => $"{a.Label}:{a.Type}"));
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    internal static void AssertValid(ImportedAnnotation annotation, IReadOnlySet<string> labels)
    {
        var text = $$"""{"label":{{JsonSerializer.Serialize(annotation.Label)}},"type":"{{annotation.Type}}"{{(annotation.CoordinatesJson is null ? "" : ",\"coordinates\":" + annotation.CoordinatesJson)}}}""";
        using var document = JsonDocument.Parse(text);
        var errors = new List<FieldError>();
        using var buffer = new MemoryStream();
        using var writer = new Utf8JsonWriter(buffer);
        Assert.True(AnnotationValidator.TryWriteCanonical(document.RootElement, labels.Contains, writer, errors), string.Join("; ", errors));
    }

    private static ImportedDataset Read(string json, string fileName) =>
        CocoImporter.Read(new MemoryStream(Encoding.UTF8.GetBytes(json)), fileName);
}
