using System.Globalization;
using System.IO.Compression;
using YamlDotNet.RepresentationModel;

namespace Annex.Tests;

/// <summary>
/// The checks Ultralytics applies when it loads a YOLO dataset (its label verification), written from their
/// description and independent of Annex's writer: data.yaml has train, val and names by index; every label row
/// has the column count of the task; every value is at least 0 and every coordinate at most 1; the class index
/// is below the number of names; no row is repeated. A failure of any of them makes Ultralytics drop the image
/// or its labels, so the list of problems must be empty.
/// </summary>
public static class UltralyticsChecks
{
    public sealed record Result(IReadOnlyList<string> Problems, int LabelFiles, int Rows, int Images);

    public static Result Check(ZipArchive zip, string task)
    {
        ArgumentNullException.ThrowIfNull(zip);
        var problems = new List<string>();
        var yamlEntry = zip.GetEntry("data.yaml");
        if (yamlEntry is null)
        {
            return new Result(["data.yaml is missing"], 0, 0, 0);
        }

        var yaml = new YamlStream();
        using (var reader = new StreamReader(yamlEntry.Open()))
        {
            yaml.Load(reader);
        }

        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        string? Scalar(string key) => root.Children.TryGetValue(new YamlScalarNode(key), out var node) ? (node as YamlScalarNode)?.Value : null;
        if (root.Children.ContainsKey(new YamlScalarNode("path")))
        {
            problems.Add("data.yaml has a path key: the dataset would only load from that folder");
        }

        foreach (var key in (string[])["train", "val"])
        {
            var folder = Scalar(key);
            if (folder is null)
            {
                problems.Add($"data.yaml: '{key}' missing");
            }
            else if (!zip.Entries.Any(e => e.FullName.StartsWith(folder + "/", StringComparison.Ordinal)) && zip.Entries.Any(e => e.FullName.StartsWith("images/", StringComparison.Ordinal)))
            {
                problems.Add($"data.yaml: '{key}: {folder}' names a folder with no images");
            }
        }

        var names = root.Children.TryGetValue(new YamlScalarNode("names"), out var namesNode) ? namesNode as YamlMappingNode : null;
        var classCount = names?.Children.Count ?? 0;
        if (names is null)
        {
            problems.Add("data.yaml: names is not a mapping from class index to name");
        }
        else
        {
            var indexes = names.Children.Keys.Select(k => int.Parse(((YamlScalarNode)k).Value!, CultureInfo.InvariantCulture)).ToList();
            if (!indexes.SequenceEqual(Enumerable.Range(0, classCount)))
            {
                problems.Add("data.yaml: names are not indexed 0..n-1 in order");
            }
        }

        var keypoints = 0;
        var dimensions = 0;
        if (task == "pose")
        {
            if (root.Children.TryGetValue(new YamlScalarNode("kpt_shape"), out var shapeNode) && shapeNode is YamlSequenceNode shape && shape.Children.Count == 2)
            {
                keypoints = int.Parse(((YamlScalarNode)shape.Children[0]).Value!, CultureInfo.InvariantCulture);
                dimensions = int.Parse(((YamlScalarNode)shape.Children[1]).Value!, CultureInfo.InvariantCulture);
                if (dimensions is not (2 or 3))
                {
                    problems.Add("data.yaml: kpt_shape's second value must be 2 or 3");
                }
            }
            else
            {
                problems.Add("data.yaml: pose needs kpt_shape: [keypoints, 2 or 3]");
            }

            if (!root.Children.TryGetValue(new YamlScalarNode("flip_idx"), out var flipNode) || flipNode is not YamlSequenceNode flip || flip.Children.Count != keypoints)
            {
                problems.Add("data.yaml: flip_idx missing or not one entry per keypoint (Ultralytics turns off flipping with a warning)");
            }
        }

        var rowsSeen = 0;
        var labelFiles = zip.Entries.Where(e => e.FullName.StartsWith("labels/", StringComparison.Ordinal) && e.FullName.EndsWith(".txt", StringComparison.Ordinal)).ToList();
        foreach (var entry in labelFiles)
        {
            using var reader = new StreamReader(entry.Open());
            var lines = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries);
            var unique = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (line, number) in lines.Select((l, i) => (l.Trim(), i + 1)))
            {
                rowsSeen++;
                var where = $"{entry.FullName}:{number}";
                var values = line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture)).ToArray();
                var expected = task switch
                {
                    "detect" => values.Length == 5,
                    "segment" => values.Length >= 7 && values.Length % 2 == 1,
                    "obb" => values.Length == 9,
                    "pose" => values.Length == 5 + keypoints * dimensions,
                    _ => throw new ArgumentOutOfRangeException(nameof(task), task, null),
                };
                if (!expected)
                {
                    problems.Add($"{where}: {values.Length} columns are wrong for {task}");
                    continue;
                }

                if (values.Min() < 0)
                {
                    problems.Add($"{where}: negative value");
                }

                if (values[0] != Math.Floor(values[0]) || values[0] >= classCount)
                {
                    problems.Add($"{where}: class {values[0]} is not an index below {classCount}");
                }

                var coordinates = task == "pose"
                    ? values.Skip(1).Take(4).Concat(values.Skip(5).Select((v, i) => (v, i)).Where(p => p.i % dimensions < 2).Select(p => p.v))
                    : values.Skip(1);
                if (coordinates.Any(v => v > 1))
                {
                    problems.Add($"{where}: a coordinate is above 1");
                }

                if (task == "pose" && dimensions == 3 && values.Skip(5).Where((_, i) => i % 3 == 2).Any(v => v is not (0 or 1 or 2)))
                {
                    problems.Add($"{where}: keypoint visibility must be 0, 1 or 2");
                }

                if (task is "detect" or "pose" && (values[3] <= 0 || values[4] <= 0))
                {
                    problems.Add($"{where}: box without area");
                }

                if (!unique.Add(string.Join(' ', values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))))
                {
                    problems.Add($"{where}: duplicate row (Ultralytics removes it with a warning)");
                }
            }
        }

        var images = zip.Entries.Count(e => e.FullName.StartsWith("images/", StringComparison.Ordinal) && !e.FullName.EndsWith('/'));
        foreach (var image in zip.Entries.Where(e => e.FullName.StartsWith("images/", StringComparison.Ordinal)))
        {
            var label = "labels/" + Path.ChangeExtension(image.FullName["images/".Length..], ".txt");
            if (zip.GetEntry(label) is null)
            {
                // Allowed (a background image), but Annex always writes the file, even empty.
                problems.Add($"{image.FullName}: no label file {label}");
            }
        }

        return new Result(problems, labelFiles.Count, rowsSeen, images);
    }
}
