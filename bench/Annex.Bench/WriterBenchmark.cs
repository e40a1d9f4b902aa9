using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Annex.Formats;

namespace Annex.Bench;

/// <summary>
/// <c>writers</c>: each training format's writer alone, fed the same generated items in memory through
/// <see cref="ITrainingArchiveWriter"/> (the seam the server's export formats use), with no database. Items are made in
/// chunks outside the timed and counted sections, so the figures are the writer's own: wall time, CPU time of the process (every thread; steadier than wall time on a busy machine), bytes allocated
/// (<see cref="GC.GetTotalAllocatedBytes"/>, every thread) and the archive's size.
/// </summary>
public static class WriterBenchmark
{
    public static IReadOnlyList<string> AllFormats { get; } = ["YOLO", "YOLO-SEG", "YOLO-OBB", "YOLO-POSE", "COCO", "VOC", "CSV"];

    private const int Chunk = 10_000;

    public sealed record Row(string Format, int Tasks, long Annotations, double WallSeconds, double CpuSeconds, long AllocatedBytes, long ArchiveBytes);

    public static async Task<List<Row>> RunAsync(int tasks, int annotationsPerTask, IReadOnlyList<string> formats, string? keepFolder, TextWriter log, CancellationToken ct)
    {
        var classes = new ClassList([Labels()]);
        var rows = new List<Row>();
        foreach (var format in formats)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            await using var output = new CountingStream(keepFolder is null ? null : new FileStream(Path.Combine(keepFolder, format + ".zip"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20));
            var report = new ExportReport(format);
            var random = new Random(20250121);
            long annotationIndex = 0;
            var elapsed = new Stopwatch();
            long allocated = 0;
            var cpu = TimeSpan.Zero;
            using var process = Process.GetCurrentProcess();
            var settings = new TrainingArchiveSettings(output, classes, report, new DateTime(2026, 12, 5, 0, 0, 0, DateTimeKind.Utc), CompressionLevel.Fastest);
            await using (var writer = Create(format, settings))
            {
                for (var start = 0; start < tasks; start += Chunk)
                {
                    var items = Items(start, Math.Min(Chunk, tasks - start), annotationsPerTask, random, ref annotationIndex);
                    var before = GC.GetTotalAllocatedBytes(precise: true);
                    process.Refresh();
                    var cpuBefore = process.TotalProcessorTime;
                    elapsed.Start();
                    foreach (var item in items)
                    {
                        await writer.WriteItemAsync(item, null, ct);
                    }

                    elapsed.Stop();
                    process.Refresh();
                    cpu += process.TotalProcessorTime - cpuBefore;
                    allocated += GC.GetTotalAllocatedBytes(precise: true) - before;
                }

                var last = GC.GetTotalAllocatedBytes(precise: true);
                process.Refresh();
                var cpuLast = process.TotalProcessorTime;
                elapsed.Start();
                await writer.CompleteAsync(ct);
                elapsed.Stop();
                process.Refresh();
                cpu += process.TotalProcessorTime - cpuLast;
                allocated += GC.GetTotalAllocatedBytes(precise: true) - last;
            }

            var row = new Row(format, tasks, annotationIndex, elapsed.Elapsed.TotalSeconds, cpu.TotalSeconds, allocated, output.Length);
            log.WriteLine($"  {format}: {row.WallSeconds:F2} s, {row.AllocatedBytes / 1e6:F0} MB allocated");
            rows.Add(row);
        }

        return rows;
    }

    public static string Table(IReadOnlyList<Row> rows)
    {
        var text = new StringBuilder();
        text.AppendLine("| format | tasks | annotations | wall s | CPU s | allocated MB | allocated bytes / annotation | archive bytes |");
        text.AppendLine("|:--|--:|--:|--:|--:|--:|--:|--:|");
        foreach (var r in rows)
        {
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {r.Format} | {r.Tasks:N0} | {r.Annotations:N0} | {r.WallSeconds:F2} | {r.CpuSeconds:F2} | {r.AllocatedBytes / 1e6:N0} | {(double)r.AllocatedBytes / Math.Max(1, r.Annotations):N0} | {r.ArchiveBytes:N0} |"));
        }

        return text.ToString();
    }

    private static ITrainingArchiveWriter Create(string format, TrainingArchiveSettings settings) => format switch
    {
        "YOLO" => new YoloArchiveWriter(settings, YoloTask.Detect),
        "YOLO-SEG" => new YoloArchiveWriter(settings, YoloTask.Segment),
        "YOLO-OBB" => new YoloArchiveWriter(settings, YoloTask.Obb),
        "YOLO-POSE" => new YoloArchiveWriter(settings, YoloTask.Pose),
        "COCO" => new CocoArchiveWriter(settings),
        "VOC" => new VocArchiveWriter(settings),
        "CSV" => new CsvArchiveWriter(settings),
        _ => throw new BenchException($"Unknown format {format}; one of {string.Join(", ", AllFormats)}."),
    };

    /// <summary>The generator's project taxonomy, as the export reads it.</summary>
    private static List<LabelRecord> Labels()
    {
        const string attributes = """[{"name":"occluded","type":"boolean"},{"name":"truncated","type":"boolean"}]""";
        return [.. Generator.LabelNames.Select((name, i) => new LabelRecord(
            name, Generator.Color(i * 360.0 / Generator.LabelNames.Length), attributes,
            i == Generator.KeypointLabel ? ["head", "left_hand", "right_hand"] : null,
            i == Generator.KeypointLabel ? [[1, 2], [1, 3]] : null))];
    }

    /// <summary>Items as the generator stores them and the export reads them: the same metadata, size, media URL and annotations.</summary>
    private static List<TrainingItem> Items(int start, int count, int annotationsPerTask, Random random, ref long annotationIndex)
    {
        var items = new List<TrainingItem>(count);
        var json = new StringBuilder(annotationsPerTask * 200);
        for (var i = start; i < start + count; i++)
        {
            long id = i + 1;
            var refId = string.Create(CultureInfo.InvariantCulture, $"frame_{id:D6}");
            var metadata = string.Create(CultureInfo.InvariantCulture,
                $"{{\"weather\":\"{Generator.Weathers[i % Generator.Weathers.Length]}\",\"time\":\"{Generator.Times[i / 7 % Generator.Times.Length]}\",\"camera\":\"{Generator.Cameras[i / 3 % Generator.Cameras.Length]}\",\"split\":\"{Generator.Splits[i % Generator.Splits.Length]}\"}}");
            json.Clear().Append('[');
            for (var a = 0; a < annotationsPerTask; a++, annotationIndex++)
            {
                json.Append(a == 0 ? "" : ",");
                Generator.AppendAnnotation(json, random, annotationIndex);
            }

            json.Append(']');
            var uid = new Guid(string.Create(CultureInfo.InvariantCulture, $"00000000-0000-7000-8000-{id:D12}"));
            items.Add(new TrainingItem(uid, refId, metadata, 1920, 1080, $"https://media.example.com/bench/{refId}.jpg", StoredAnnotations.Read(json.ToString())));
        }

        return items;
    }

    /// <summary>Counts the archive's bytes and keeps them in a file when given one.</summary>
    private sealed class CountingStream(FileStream? file) : Stream
    {
        private long _length;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position { get => _length; set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _length += buffer.Length;
            file?.Write(buffer);
        }

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _length += buffer.Length;
            return file?.WriteAsync(buffer, cancellationToken) ?? ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => file?.Flush();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                file?.Dispose();
            }

            base.Dispose(disposing);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
