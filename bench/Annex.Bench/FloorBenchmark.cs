using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Annex.Bench;

/// <summary>
/// <c>floor</c>: what the machine needs at the least to turn the workload into a compressed file, the yardstick the
/// export times are compared with: the <c>sqlite3</c> shell reading every item and result row the export reads (to a
/// file in the data folder), then <c>gzip -1</c> of that file. Needs <c>sqlite3</c>, <c>gzip</c> and <c>sh</c> on the path.
/// </summary>
public static class FloorBenchmark
{
    private const string Query =
        "SELECT Uid, RefId, Metadata, Width, Height, MediaUrl FROM dataset_items ORDER BY DatasetId, Id; " +
        "SELECT Uid, DatasetItemId, Annotations FROM results ORDER BY Id;";

    public sealed record Row(int Run, double ReadSeconds, double GzipSeconds, long RawBytes, long GzipBytes)
    {
        public double TotalSeconds => ReadSeconds + GzipSeconds;
    }

    public static async Task<List<Row>> RunAsync(string folder, int runs, TextWriter log, CancellationToken ct)
    {
        var database = Path.Combine(folder, "annex.db");
        if (!File.Exists(database))
        {
            throw new BenchException($"{database} does not exist; run `generate` first.");
        }

        var raw = Path.Combine(folder, "floor-rows.txt");
        var rows = new List<Row>();
        try
        {
            for (var run = 1; run <= runs; run++)
            {
                var read = await TimeAsync($"sqlite3 -readonly {Quote(database)} {Quote(Query)} > {Quote(raw)}", ct);
                var gzip = await TimeAsync($"gzip -1 -c {Quote(raw)} > {Quote(raw + ".gz")}", ct);
                var row = new Row(run, read, gzip, new FileInfo(raw).Length, new FileInfo(raw + ".gz").Length);
                log.WriteLine(string.Create(CultureInfo.InvariantCulture, $"  run {run}: read {read:F2} s, gzip -1 {gzip:F2} s"));
                rows.Add(row);
            }
        }
        finally
        {
            File.Delete(raw);
            File.Delete(raw + ".gz");
        }

        return rows;
    }

    public static string Table(IReadOnlyList<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| run | sqlite3 read s | gzip -1 s | floor s | rows text bytes | gzip bytes |");
        text.AppendLine("|:--|--:|--:|--:|--:|--:|");
        foreach (var r in rows)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture, $"| {r.Run} | {r.ReadSeconds:F2} | {r.GzipSeconds:F2} | {r.TotalSeconds:F2} | {r.RawBytes:N0} | {r.GzipBytes:N0} |"));
        }

        static double Median(IEnumerable<double> values)
        {
            var sorted = values.Order().ToList();
            return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
        }

        text.AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"| median | {Median(rows.Select(r => r.ReadSeconds)):F2} | {Median(rows.Select(r => r.GzipSeconds)):F2} | {Median(rows.Select(r => r.TotalSeconds)):F2} | {rows[0].RawBytes:N0} | {rows[0].GzipBytes:N0} |"));
        return text.ToString();
    }

    private static async Task<double> TimeAsync(string command, CancellationToken ct)
    {
        var start = new ProcessStartInfo("sh") { UseShellExecute = false, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(command);
        var watch = Stopwatch.StartNew();
        using var process = Process.Start(start) ?? throw new BenchException("Could not start sh.");
        var errors = await process.StandardError.ReadToEndAsync(ct);
        await process.WaitForExitAsync(ct);
        watch.Stop();
        if (process.ExitCode != 0)
        {
            throw new BenchException($"`{command}` failed ({process.ExitCode}): {errors.Trim()}");
        }

        return watch.Elapsed.TotalSeconds;
    }

    private static string Quote(string text) => "'" + text.Replace("'", "'\\''", StringComparison.Ordinal) + "'";
}
