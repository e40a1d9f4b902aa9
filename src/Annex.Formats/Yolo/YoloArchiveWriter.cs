using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Annex.Formats;

/// <summary>
/// An Ultralytics dataset as a zip: <c>images/&lt;split&gt;/&lt;stem&gt;.&lt;ext&gt;</c>, <c>labels/&lt;split&gt;/&lt;stem&gt;.txt</c>
/// beside them, <c>data.yaml</c> (no <c>path</c>: it resolves from wherever the archive is unpacked) and
/// <c>export_report.json</c>. Every item gets a label file; an empty one marks a background image.
/// </summary>
public sealed class YoloArchiveWriter : ITrainingArchiveWriter
{
    public const string DataYaml = "data.yaml";

    private static readonly JsonSerializerOptions YamlStrings = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private readonly TrainingArchive _archive;
    private readonly YoloTask _task;
    private readonly ClassList _classes;
    private readonly ExportReport _report;
    private readonly YoloLabeler _labeler;
    private readonly Utf8Buffer _labels = new();
    /// <summary>Splits with at least one image in the archive: Ultralytics fails on a split folder without images.</summary>
    private readonly HashSet<string> _splits = new(StringComparer.Ordinal);

    public YoloArchiveWriter(TrainingArchiveSettings settings, YoloTask task)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _task = task;
        _classes = settings.Classes;
        _report = settings.Report;
        _labeler = new YoloLabeler(task, settings.Classes, settings.Report);
        _archive = new TrainingArchive(settings);
    }

    public bool IncludesImages => true;

    public async Task WriteItemAsync(TrainingItem item, TrainingImage? image, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        _report.CountItem();
        if (image is not null)
        {
            _splits.Add(item.Split);
        }
        await _archive.WriteMediaAsync(item, image, _report, $"images/{item.Split}/{item.Stem}{image?.Extension}", cancellationToken);
        if (!_labeler.Write(item.ReportItem, item.Width, item.Height, item.Annotations, _labels))
        {
            // Annotated but without a size: an empty label file would wrongly call the image background.
            return;
        }

        await _archive.WriteTextAsync($"labels/{item.Split}/{item.Stem}.txt", _labels.Memory, cancellationToken);
    }

    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        await _archive.WriteTextAsync(DataYaml, DataYamlText(), cancellationToken);
        await _archive.WriteReportAsync(_report, cancellationToken);
        await _archive.CompleteAsync(cancellationToken);
    }

    /// <summary>The dataset file Ultralytics loads: split folders, <c>names</c> by class index, and for pose
    /// <c>kpt_shape</c> with a <c>flip_idx</c> that swaps left and right keypoints.</summary>
    public string DataYamlText()
    {
        var yaml = new StringBuilder();
        yaml.Append("# Ultralytics YOLO dataset (").Append(TaskName(_task)).Append("). Paths are relative to this file.\n");
        yaml.Append("task: ").Append(TaskName(_task)).Append('\n');
        yaml.Append("train: images/train\n");
        // Ultralytics requires val; without val images it validates on the train images.
        yaml.Append("val: ").Append(_splits.Contains(Splits.Val) ? "images/val" : "images/train").Append('\n');
        if (_splits.Contains(Splits.Test))
        {
            yaml.Append("test: images/test\n");
        }

        yaml.Append("nc: ").Append(_classes.Count.ToString(CultureInfo.InvariantCulture)).Append('\n');
        if (_classes.Count == 0)
        {
            yaml.Append("names: {}\n");
        }
        else
        {
            yaml.Append("names:\n");
            for (var i = 0; i < _classes.Count; i++)
            {
                yaml.Append("  ").Append(i.ToString(CultureInfo.InvariantCulture)).Append(": ").Append(Quoted(_classes.Labels[i].Name)).Append('\n');
            }
        }

        if (_task == YoloTask.Pose)
        {
            var count = _labeler.KeypointCount;
            yaml.Append("kpt_shape: [").Append(count.ToString(CultureInfo.InvariantCulture)).Append(", 3]\n");
            yaml.Append("flip_idx: [").AppendJoin(", ", FlipIndex(KeypointNames(count))).Append("]\n");
            var names = KeypointNames(count);
            if (names.Any(n => n is not null))
            {
                yaml.Append("kpt_names:\n");
                for (var i = 0; i < _classes.Count; i++)
                {
                    var own = _classes.Labels[i].Keypoints;
                    if (own is { Count: > 0 })
                    {
                        yaml.Append("  ").Append(i.ToString(CultureInfo.InvariantCulture)).Append(": [")
                            .AppendJoin(", ", own.Select(Quoted)).Append("]\n");
                    }
                }
            }
        }

        return yaml.ToString();
    }

    /// <summary>Keypoint names by slot, from the first label with the most keypoints (the one kpt_shape follows).</summary>
    private string?[] KeypointNames(int count)
    {
        var names = new string?[count];
        var widest = _classes.Labels.Where(l => l.Keypoints is { Count: > 0 }).MaxBy(l => l.Keypoints!.Count);
        for (var i = 0; widest is not null && i < widest.Keypoints!.Count && i < count; i++)
        {
            names[i] = widest.Keypoints[i];
        }

        return names;
    }

    /// <summary>For each keypoint, the one it becomes when the image is mirrored: "left_x" and "right_x" swap,
    /// every other keypoint stays itself.</summary>
    public static int[] FlipIndex(IReadOnlyList<string?> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var flip = new int[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            flip[i] = i;
            var mirrored = Mirror(names[i]);
            if (mirrored is null)
            {
                continue;
            }

            for (var j = 0; j < names.Count; j++)
            {
                if (j != i && string.Equals(names[j], mirrored, StringComparison.OrdinalIgnoreCase))
                {
                    flip[i] = j;
                    break;
                }
            }
        }

        return flip;
    }

    private static string? Mirror(string? name)
    {
        if (name is null)
        {
            return null;
        }

        foreach (var (from, to) in (ReadOnlySpan<(string, string)>)[("left", "right"), ("right", "left"), ("Left", "Right"), ("Right", "Left"), ("LEFT", "RIGHT"), ("RIGHT", "LEFT")])
        {
            var at = name.IndexOf(from, StringComparison.Ordinal);
            if (at >= 0)
            {
                return string.Concat(name.AsSpan(0, at), to, name.AsSpan(at + from.Length));
            }
        }

        return null;
    }

    /// <summary>A YAML double-quoted scalar; JSON's string escapes are valid YAML escapes.</summary>
    private static string Quoted(string text) => JsonSerializer.Serialize(text, YamlStrings);

    public static string TaskName(YoloTask task) => task switch
    {
        YoloTask.Detect => "detect",
        YoloTask.Segment => "segment",
        YoloTask.Obb => "obb",
        YoloTask.Pose => "pose",
        _ => throw new ArgumentOutOfRangeException(nameof(task), task, "A YOLO export writes one task."),
    };

    public ValueTask DisposeAsync() => _archive.DisposeAsync();
}
