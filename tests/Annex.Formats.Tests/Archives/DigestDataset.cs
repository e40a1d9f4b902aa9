using System.Globalization;
using System.Text;
using Annex.Tests;

namespace Annex.Formats.Tests.Archives;

/// <summary>A fixed, generated dataset for <see cref="ArchiveDigestTests"/>: a few hundred items whose coordinates
/// have every kind of number a writer formats (integers, long fractions, negatives, values beyond the image), labels
/// and ref_ids that need escaping in CSV, XML, JSON and YAML, every annotation type, every split, items with and
/// without size and media. A seeded <see cref="Random"/> makes it the same on every run and machine.</summary>
public static class DigestDataset
{
    public static ClassList Classes { get; } = new([[
        new LabelRecord("car", "#FF0000", """[{"name":"occluded","type":"boolean"}]""", null, null),
        new LabelRecord("person", "#00FF00", null, ["head", "left_hand", "right_hand"], [[1, 2], [1, 3]]),
        new LabelRecord("traffic light", "#0000FF", null, null, null),
        new LabelRecord("a,b \"quoted\"", "#123456", null, null, null),
        new LabelRecord("<tag & 'x'>", "#ABCDEF", null, null, null),
        new LabelRecord("=SUM(A1)", "not a color", null, null, null),
        new LabelRecord("zebra crossing ünï", "#00FFFF", null, null, null),
        new LabelRecord("hand", "#FFFF00", null, ["left_thumb", "right_thumb", "palm", "left_index", "right_index"], null),
    ]]);

    private static readonly string[] Labels = ["car", "car", "car", "person", "traffic light", "a,b \"quoted\"", "<tag & 'x'>", "=SUM(A1)", "zebra crossing ünï", "hand", "unknown label"];

    private static readonly string[] SplitMetadata =
    [
        """{"split":"train"}""", """{"split":"train","weather":"rain"}""", """{"split":"val"}""", """{"split":"test"}""",
        "{}", """{"split":"validation"}""", """{"weather":"fog, \"dense\""}""",
    ];

    public static IReadOnlyList<(TrainingItem Item, byte[]? Image)> Items(int count = 240)
    {
        var random = new Random(20261205);
        var items = new List<(TrainingItem, byte[]?)>(count);
        for (var i = 0; i < count; i++)
        {
            var uid = new Guid($"00000000-0000-4000-8000-{i + 1:D12}");
            var refId = (i % 13) switch
            {
                0 => $"scenes/{i % 4}/frame_{i:D6}.jpg",
                1 => $"frame,{i} \"q\".png",
                2 => $"ünï/カメラ_{i}",
                3 => "duplicate.jpg",
                _ => $"frame_{i:D6}",
            };
            var (width, height) = (i % 17) switch
            {
                0 => ((int?)null, (int?)null),
                1 => (641, 479),
                2 => (1, 1),
                _ => (1920, 1080),
            };
            string? media = i % 5 == 0 ? null : $"https://media.example.com/bench/{Uri.EscapeDataString(refId)}?v={i}&x=<1>";
            var annotations = new List<StoredAnnotation>();
            var annotationCount = i % 11 == 0 ? 0 : random.Next(1, 9);
            for (var a = 0; a < annotationCount; a++)
            {
                annotations.Add(Annotation(random, width ?? 800, height ?? 600));
            }

            byte[]? image = i % 40 == 3 && width is { } w && height is { } h ? TestImages.Png(w, h) : null;
            items.Add((new TrainingItem(uid, refId, SplitMetadata[i % SplitMetadata.Length], width, height, media, annotations), image));
        }

        return items;
    }

    private static StoredAnnotation Annotation(Random random, int width, int height)
    {
        var label = Labels[random.Next(Labels.Length)];
        var kind = random.Next(20);
        var json = new StringBuilder("{\"label\":").Append(JsonText(label)).Append(",\"type\":");
        if (kind < 9)
        {
            var x = Coordinate(random, width);
            var y = Coordinate(random, height);
            var w = Math.Abs(Coordinate(random, width / 3.0));
            var h = Math.Abs(Coordinate(random, height / 3.0));
            json.Append("\"bounding_box\",\"coordinates\":{\"x\":").Append(N(x)).Append(",\"y\":").Append(N(y))
                .Append(",\"width\":").Append(N(w)).Append(",\"height\":").Append(N(h));
            if (kind == 8)
            {
                json.Append(",\"rotation\":").Append(N(Math.Round((random.NextDouble() * 2 - 1) * Math.PI, random.Next(1, 16))));
            }

            json.Append('}');
        }
        else if (kind < 14)
        {
            var vertices = random.Next(3, 12);
            json.Append("\"polygon\",\"coordinates\":{\"vertices\":[");
            for (var v = 0; v < vertices; v++)
            {
                json.Append(v == 0 ? "" : ",").Append('[').Append(N(Coordinate(random, width))).Append(',').Append(N(Coordinate(random, height))).Append(']');
            }

            json.Append("]}");
        }
        else if (kind < 17)
        {
            var names = label == "hand" ? new[] { "left_thumb", "right_thumb", "palm", "left_index", "right_index", "extra" } : ["head", "left_hand", "right_hand", "tail"];
            var points = random.Next(1, names.Length + 1);
            json.Append("\"keypoints\",\"coordinates\":{\"points\":[");
            for (var p = 0; p < points; p++)
            {
                json.Append(p == 0 ? "" : ",").Append("{\"x\":").Append(N(Coordinate(random, width))).Append(",\"y\":").Append(N(Coordinate(random, height)));
                if (random.Next(4) != 0)
                {
                    json.Append(",\"label\":").Append(JsonText(names[random.Next(names.Length)]));
                }

                if (random.Next(3) == 0)
                {
                    json.Append(",\"visible\":").Append(random.Next(2) == 0 ? "true" : "false");
                }

                json.Append('}');
            }

            json.Append("]}");
        }
        else if (kind == 17)
        {
            json.Append("\"polyline\",\"coordinates\":{\"vertices\":[[").Append(N(Coordinate(random, width))).Append(',').Append(N(Coordinate(random, height)))
                .Append("],[").Append(N(Coordinate(random, width))).Append(',').Append(N(Coordinate(random, height))).Append("]]}");
        }
        else if (kind == 18)
        {
            json.Append("\"cuboid\",\"coordinates\":{\"center\":{\"x\":1.5,\"y\":-2,\"z\":3},\"dimensions\":{\"length\":4,\"width\":2,\"height\":1.5},\"rotation\":{\"yaw\":0.1,\"pitch\":0,\"roll\":0}}");
        }
        else
        {
            json.Append("\"classification\"");
        }

        json.Append(",\"attributes\":{\"occluded\":").Append(random.Next(4) == 0 ? "true" : "false");
        if (random.Next(5) == 0)
        {
            json.Append(",\"note\":").Append(JsonText("a, \"b\"\n<c> & d"));
        }

        json.Append("}}");
        return StoredAnnotations.Read($"[{json}]")[0];
    }

    /// <summary>Integers, short and long fractions, and now and then a value off the image or negative.</summary>
    private static double Coordinate(Random random, double extent)
    {
        var value = random.NextDouble() * extent * 1.2 - extent * 0.1;
        return random.Next(4) switch
        {
            0 => Math.Round(value),
            1 => Math.Round(value, 1),
            2 => Math.Round(value, 4),
            _ => value,
        };
    }

    private static string N(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string JsonText(string text) => System.Text.Json.JsonSerializer.Serialize(text);
}
