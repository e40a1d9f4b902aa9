using System.IO.Compression;
using System.Text;

namespace Annex.Formats;

/// <summary>
/// One item of a training export: its annotations from every result in scope, in result order. The stem names
/// its files inside the archive; the split comes from its metadata.
/// </summary>
public sealed record TrainingItem(
    Guid Uid, string RefId, string MetadataJson, int? Width, int? Height, string? MediaUrl, IReadOnlyList<StoredAnnotation> Annotations)
{
    public string Split { get; } = Splits.Of(MetadataJson);

    public string Stem { get; } = FileStems.For(RefId, Uid);

    public ReportItem ReportItem => new(Uid, RefId);

    public bool HasImageSize => Width > 0 && Height > 0;
}

/// <summary>The item's image as stored: its bytes (read once, copied as they are) and its file extension with the dot.</summary>
public sealed record TrainingImage(Stream Content, string Extension);

/// <summary>What every training archive writer is given: where the zip goes, what it reports into, and the folder
/// its spill files go to (the system's temporary folder when null; a server passes one it cleans after a crash).</summary>
public sealed record TrainingArchiveSettings(
    Stream Output, ClassList Classes, ExportReport Report, DateTime TimestampUtc, CompressionLevel CompressionLevel, string? TempFolder = null)
{
    /// <summary>What a delta export's base had and it no longer has, written as <see cref="RemovedRecord.EntryName"/>
    /// beside the labels; null for a full export.</summary>
    public RemovedRecord? Removed { get; init; }

    /// <summary>A new spill file in <see cref="TempFolder"/>, deleted when closed.</summary>
    public FileStream CreateSpillFile(string prefix, string extension) => SpillFiles.Create(TempFolder, prefix, extension);
}

/// <summary>The temporary files writers spill to so memory stays flat.</summary>
public static class SpillFiles
{
    /// <summary>Creates <c>&lt;prefix&gt;-&lt;guid&gt;&lt;extension&gt;</c> in <paramref name="folder"/> (the system's temporary
    /// folder when null), deleted when closed.</summary>
    public static FileStream Create(string? folder, string prefix, string extension, int bufferSize = 64 * 1024) => new(
        Path.Combine(folder ?? Path.GetTempPath(), $"{prefix}-{Guid.NewGuid():N}{extension}"),
        FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, bufferSize, FileOptions.DeleteOnClose);
}

/// <summary>Writes one training format's archive item by item, then its index files and the report.</summary>
public interface ITrainingArchiveWriter : IAsyncDisposable
{
    /// <summary>Whether <see cref="WriteItemAsync"/> wants the item's image bytes.</summary>
    bool IncludesImages { get; }

    Task WriteItemAsync(TrainingItem item, TrainingImage? image, CancellationToken cancellationToken);

    /// <summary>Writes what can only be written once every item is known (class lists, indexes, the report).</summary>
    Task CompleteAsync(CancellationToken cancellationToken);
}

/// <summary>The zip every training format writes into: fixed timestamps, images stored uncompressed (they are
/// compressed already), text compressed unless it is a small file (see <see cref="StoredTextBytes"/>), written front
/// to back with nothing kept in memory per entry.</summary>
public sealed class TrainingArchive : IAsyncDisposable
{
    private readonly StreamingZipWriter _zip;
    private readonly CompressionLevel _level;
    private readonly RemovedRecord? _removed;

    public TrainingArchive(TrainingArchiveSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        _zip = new StreamingZipWriter(settings.Output, settings.TimestampUtc, settings.TempFolder);
        _level = settings.CompressionLevel;
        _removed = settings.Removed;
    }

    public Task<Stream> OpenTextAsync(string entryName, CancellationToken cancellationToken) =>
        _zip.OpenEntryAsync(entryName, _level, cancellationToken);

    /// <summary>Text this short is stored: deflating a few hundred bytes (a YOLO label file) saves little and
    /// costs a compressor's set-up and tear-down each time, which for a million label files was most of the
    /// time spent writing and a good part of the memory.</summary>
    public const int StoredTextBytes = 1024;

    public Task WriteTextAsync(string entryName, string text, CancellationToken cancellationToken) =>
        WriteTextAsync(entryName, Encoding.UTF8.GetBytes(text), cancellationToken);

    /// <summary>Adds a whole text file from its UTF-8 bytes, which the caller may reuse once this returns: it is
    /// compressed and written while the caller produces the next.</summary>
    public Task WriteTextAsync(string entryName, ReadOnlyMemory<byte> utf8, CancellationToken cancellationToken) =>
        _zip.WriteEntryAsync(entryName, utf8, utf8.Length <= StoredTextBytes ? CompressionLevel.NoCompression : _level, cancellationToken);

    public async Task WriteImageAsync(string entryName, Stream content, CancellationToken cancellationToken)
    {
        await using var entry = await _zip.OpenEntryAsync(entryName, CompressionLevel.NoCompression, cancellationToken);
        await content.CopyToAsync(entry, cancellationToken);
    }

    /// <summary>Writes <see cref="ExportReport.EntryName"/>.</summary>
    public async Task WriteReportAsync(ExportReport report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(report);
        await using var entry = await OpenTextAsync(ExportReport.EntryName, cancellationToken);
        await report.WriteAsync(entry, cancellationToken);
    }

    /// <summary>Counts the item's media in the report and writes its image at <paramref name="entryName"/> when there is one.</summary>
    public async Task WriteMediaAsync(TrainingItem item, TrainingImage? image, ExportReport report, string entryName, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentNullException.ThrowIfNull(report);
        if (image is not null)
        {
            await WriteImageAsync(entryName, image.Content, cancellationToken);
            report.CountImageIncluded();
        }
        else if (!string.IsNullOrEmpty(item.MediaUrl))
        {
            report.ExternalMedia(item.ReportItem, item.MediaUrl);
        }
        else
        {
            report.CountItemWithoutMedia();
        }
    }

    /// <summary>Ends the archive (its central directory); the output stays open.</summary>
    public async Task CompleteAsync(CancellationToken cancellationToken)
    {
        if (_removed is not null)
        {
            await WriteTextAsync(RemovedRecord.EntryName, _removed.ToJson(), cancellationToken);
        }

        await _zip.CompleteAsync(cancellationToken);
    }

    public ValueTask DisposeAsync() => _zip.DisposeAsync();
}
