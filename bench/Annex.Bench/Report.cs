using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Annex.Bench;

/// <summary>One export as measured. <see cref="PeakRssMb"/> is per run when <see cref="PeakPerRun"/>,
/// otherwise the process peak so far.</summary>
public sealed record Measurement(
    string Run,
    string Format,
    string? Filter,
    long Tasks,
    long Annotations,
    long ArchiveBytes,
    long UncompressedBytes,
    double WallSeconds,
    double TasksPerSecond,
    double UncompressedMbPerSecond,
    double? PeakRssMb,
    bool PeakPerRun,
    double QueueLatencyMs,
    double AllocatedMb,
    int Gen2Collections);

public static class Report
{
    /// <summary>Each column's median on its own (with an even count, the mean of the middle two).</summary>
    public static Measurement Median(IReadOnlyList<Measurement> runs)
    {
        static double M(IEnumerable<double> values)
        {
            var sorted = values.Order().ToArray();
            var middle = sorted.Length / 2;
            return sorted.Length % 2 == 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
        }

        var first = runs[0];
        var peaks = runs.Where(r => r.PeakRssMb is not null).Select(r => r.PeakRssMb!.Value).ToList();
        return new Measurement(
            "median",
            first.Format,
            first.Filter,
            (long)M(runs.Select(r => (double)r.Tasks)),
            (long)M(runs.Select(r => (double)r.Annotations)),
            (long)M(runs.Select(r => (double)r.ArchiveBytes)),
            (long)M(runs.Select(r => (double)r.UncompressedBytes)),
            M(runs.Select(r => r.WallSeconds)),
            M(runs.Select(r => r.TasksPerSecond)),
            M(runs.Select(r => r.UncompressedMbPerSecond)),
            peaks.Count > 0 ? M(peaks) : null,
            first.PeakPerRun,
            M(runs.Select(r => r.QueueLatencyMs)),
            M(runs.Select(r => r.AllocatedMb)),
            (int)M(runs.Select(r => (double)r.Gen2Collections)));
    }

    public static string Table(IReadOnlyList<Measurement> rows)
    {
        string[] header = ["run", "format", "filter", "tasks", "annotations", "archive bytes", "wall s", "tasks/s", "uncompressed MB/s", "peak RSS MB", "queue latency ms"];
        var cells = rows.Select(r => new[]
        {
            r.Run,
            r.Format,
            string.IsNullOrEmpty(r.Filter) ? "-" : r.Filter.Replace("|", "\\|", StringComparison.Ordinal),
            N(r.Tasks),
            N(r.Annotations),
            N(r.ArchiveBytes),
            r.WallSeconds.ToString("F2", CultureInfo.InvariantCulture),
            N((long)Math.Round(r.TasksPerSecond)),
            r.UncompressedMbPerSecond.ToString("F1", CultureInfo.InvariantCulture),
            r.PeakRssMb is { } peak ? peak.ToString("F0", CultureInfo.InvariantCulture) : "n/a",
            r.QueueLatencyMs.ToString("F0", CultureInfo.InvariantCulture),
        }).ToList();

        var widths = header.Select((h, i) => Math.Max(h.Length, cells.Count == 0 ? 0 : cells.Max(c => c[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(IReadOnlyList<string> values)
        {
            text.Append('|');
            for (var i = 0; i < values.Count; i++)
            {
                // Text columns left, numbers right, so the plain text reads like the rendered table.
                var value = i < 3 ? values[i].PadRight(widths[i]) : values[i].PadLeft(widths[i]);
                text.Append(' ').Append(value).Append(" |");
            }

            text.AppendLine();
        }

        Line(header);
        text.Append('|');
        for (var i = 0; i < widths.Length; i++)
        {
            text.Append(i < 3 ? ":" + new string('-', widths[i] + 1) : new string('-', widths[i] + 1) + ":").Append('|');
        }

        text.AppendLine();
        foreach (var row in cells)
        {
            Line(row);
        }

        return text.ToString();
    }

    public static string JsonLines(IReadOnlyList<Measurement> rows) =>
        string.Concat(rows.Select(r => JsonSerializer.Serialize(new
        {
            run = r.Run,
            format = r.Format,
            filter = r.Filter,
            tasks = r.Tasks,
            annotations = r.Annotations,
            archive_bytes = r.ArchiveBytes,
            uncompressed_bytes = r.UncompressedBytes,
            wall_s = Math.Round(r.WallSeconds, 3),
            tasks_per_s = Math.Round(r.TasksPerSecond),
            uncompressed_mb_per_s = Math.Round(r.UncompressedMbPerSecond, 2),
            peak_rss_mb = r.PeakRssMb is { } peak ? Math.Round(peak, 1) : (double?)null,
            peak_rss_per_run = r.PeakPerRun,
            queue_latency_ms = Math.Round(r.QueueLatencyMs, 1),
            allocated_mb = Math.Round(r.AllocatedMb, 1),
            gen2_collections = r.Gen2Collections,
        }) + "\n"));

    /// <summary>Reads back one line of <see cref="JsonLines"/>.</summary>
    public static Measurement ParseJsonLine(string line)
    {
        using var document = JsonDocument.Parse(line);
        var r = document.RootElement;
        return new Measurement(
            r.GetProperty("run").GetString()!,
            r.GetProperty("format").GetString()!,
            r.GetProperty("filter").ValueKind == JsonValueKind.Null ? null : r.GetProperty("filter").GetString(),
            r.GetProperty("tasks").GetInt64(),
            r.GetProperty("annotations").GetInt64(),
            r.GetProperty("archive_bytes").GetInt64(),
            r.GetProperty("uncompressed_bytes").GetInt64(),
            r.GetProperty("wall_s").GetDouble(),
            r.GetProperty("tasks_per_s").GetDouble(),
            r.GetProperty("uncompressed_mb_per_s").GetDouble(),
            r.GetProperty("peak_rss_mb").ValueKind == JsonValueKind.Null ? null : r.GetProperty("peak_rss_mb").GetDouble(),
            r.GetProperty("peak_rss_per_run").GetBoolean(),
            r.GetProperty("queue_latency_ms").GetDouble(),
            r.GetProperty("allocated_mb").GetDouble(),
            r.GetProperty("gen2_collections").GetInt32());
    }

    /// <summary>The medians of each database side by side, and each one's throughput against the first.</summary>
    public static string Comparison(IReadOnlyList<(string Database, List<Measurement> Rows)> results)
    {
        var text = new StringBuilder();
        text.AppendLine("| database | format | tasks | runs | median wall s | median tasks/s | relative | median peak RSS MB | median queue latency ms |");
        text.AppendLine("|:--|:--|--:|--:|--:|--:|--:|--:|--:|");
        var baseline = results[0].Rows.Single(r => r.Run == "median").TasksPerSecond;
        foreach (var (database, rows) in results)
        {
            var median = rows.Single(r => r.Run == "median");
            var peak = median.PeakRssMb is { } p ? p.ToString("F0", CultureInfo.InvariantCulture) : "n/a";
            text.AppendLine(CultureInfo.InvariantCulture,
                $"| {database} | {median.Format} | {N(median.Tasks)} | {rows.Count - 1} | {median.WallSeconds:F2} | {N((long)Math.Round(median.TasksPerSecond))} | {median.TasksPerSecond / baseline:F2} | {peak} | {median.QueueLatencyMs:F0} |");
        }

        return text.ToString();
    }

    private static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);
}
