using System.IO.Compression;
using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;
using Xunit;

namespace Annex.Formats.Tests.Archives;

/// <summary>
/// Every format's archive of <see cref="DigestDataset"/> holds exactly the entries, in the order and with the contents
/// recorded in <c>Digests/&lt;format&gt;.txt</c> (the SHA-256 of each entry's uncompressed bytes, then its name). Writer
/// optimizations must not change a byte of what users unpack; how entries are compressed may change. When a change to
/// the contents is intended, run the tests once with <c>ANNEX_UPDATE_ARCHIVE_DIGESTS=1</c> and commit the new files.
/// </summary>
public sealed class ArchiveDigestTests
{
    private static readonly DateTime ExportTime = new(2026, 12, 5, 6, 0, 0, DateTimeKind.Utc);

    public static TheoryData<string> Formats => ["avala-json-external", "YOLO", "YOLO-SEG", "YOLO-OBB", "YOLO-POSE", "COCO", "VOC", "CSV"];

    [Theory]
    [MemberData(nameof(Formats))]
    public async Task Entries_and_their_contents_match_the_recorded_digests(string format)
    {
        var archive = format == "avala-json-external" ? await AvalaJsonAsync() : await TrainingAsync(format);
        var actual = Manifest(archive);
        var file = Path.Combine(DigestFolder(), format + ".txt");
        if (Environment.GetEnvironmentVariable("ANNEX_UPDATE_ARCHIVE_DIGESTS") == "1")
        {
            await File.WriteAllTextAsync(file, actual);
            return;
        }

        Assert.True(File.Exists(file), $"No recorded digests for {format}; run once with ANNEX_UPDATE_ARCHIVE_DIGESTS=1.");
        var expected = (await File.ReadAllTextAsync(file)).ReplaceLineEndings("\n");
        if (expected != actual)
        {
            var before = expected.Split('\n');
            var after = actual.Split('\n');
            var changed = after.Except(before).Take(10).Select(l => "now:  " + l)
                .Concat(before.Except(after).Take(10).Select(l => "was:  " + l));
            Assert.Fail($"{format}: {before.Length - 1} entries recorded, {after.Length - 1} written; differing lines:\n{string.Join('\n', changed)}");
        }
    }

    [Fact]
    public void The_dataset_covers_what_the_writers_format()
    {
        var items = DigestDataset.Items();
        var annotations = items.SelectMany(i => i.Item.Annotations).ToList();
        Assert.Equal(240, items.Count);
        Assert.True(annotations.Count > 800);
        foreach (var type in AnnotationTypes.All)
        {
            Assert.Contains(annotations, a => a.Type == type);
        }

        Assert.Contains(items, i => !i.Item.HasImageSize);
        Assert.Contains(items, i => i.Image is not null);
        Assert.Contains(annotations, a => a.Shape is BoxShape { IsRotated: true });
    }

    /// <summary>One line per entry in archive order: the SHA-256 of its uncompressed bytes and its name.</summary>
    private static string Manifest(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        var manifest = new StringBuilder();
        foreach (var entry in zip.Entries)
        {
            using var content = entry.Open();
            manifest.Append(Convert.ToHexStringLower(SHA256.HashData(content))).Append("  ").Append(entry.FullName).Append('\n');
        }

        return manifest.ToString();
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
        _ => throw new ArgumentOutOfRangeException(nameof(format)),
    };

    private static async Task<byte[]> TrainingAsync(string format)
    {
        var output = new MemoryStream();
        var report = new ExportReport(format);
        await using (var writer = Create(format, new TrainingArchiveSettings(output, DigestDataset.Classes, report, ExportTime, CompressionLevel.Fastest)))
        {
            foreach (var (item, image) in DigestDataset.Items())
            {
                await writer.WriteItemAsync(item, writer.IncludesImages && image is not null ? new TrainingImage(new MemoryStream(image), ".png") : null, CancellationToken.None);
            }

            await writer.CompleteAsync(CancellationToken.None);
        }

        return output.ToArray();
    }

    /// <summary>The JSON document in a zip, as the server writes avala-json-external.</summary>
    private static async Task<byte[]> AvalaJsonAsync()
    {
        var output = new MemoryStream();
        using (var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            await using var entry = DeterministicZip.CreateEntryStream(zip, "export.json", ExportTime, CompressionLevel.Fastest);
            await using var writer = new AvalaJsonWriter(entry, new ExportInfo("digest \"export\"", ExportTime, "avala-json-external", "label = \"car\""));
            var items = DigestDataset.Items();
            var project = new Guid("00000000-0000-4000-9000-000000000001");
            writer.BeginDatasets();
            for (var d = 0; d < 2; d++)
            {
                writer.BeginDataset(new DatasetHeader(new Guid($"00000000-0000-4000-a000-{d + 1:D12}"), $"dataset {d} ü"));
                foreach (var (item, _) in items.Where((_, i) => i % 2 == d))
                {
                    writer.WriteItem(new ItemRecord(item.Uid, item.RefId, item.MetadataJson, item.Width, item.Height, item.MediaUrl));
                }

                await writer.FlushIfNeededAsync(CancellationToken.None);
                writer.EndDataset();
            }

            writer.EndDatasets();
            writer.WriteProjects([new ProjectRecord(project, "project", DigestDataset.Classes.Labels)]);
            writer.BeginResults();
            var n = 0;
            foreach (var (item, _) in items)
            {
                var annotations = "[" + string.Join(',', item.Annotations.Select(a =>
                    $"{{\"label\":{System.Text.Json.JsonSerializer.Serialize(a.Label)},\"type\":\"{a.Type}\",\"coordinates\":{a.CoordinatesJson ?? "null"},\"attributes\":{a.AttributesJson}}}")) + "]";
                writer.WriteResult(new ResultRecord(new Guid($"00000000-0000-4000-b000-{++n:D12}"), item.Uid, project, annotations));
            }

            writer.EndResults();
            await writer.CompleteAsync(CancellationToken.None);
        }

        return output.ToArray();
    }

    private static string DigestFolder([CallerFilePath] string source = "") => Path.Combine(Path.GetDirectoryName(source)!, "Digests");
}
