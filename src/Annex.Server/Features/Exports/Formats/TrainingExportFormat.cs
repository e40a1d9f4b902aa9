using System.Runtime.CompilerServices;
using Annex.Formats;
using Annex.Server.Infrastructure.Storage;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Formats;

/// <summary>
/// A training format (YOLO, COCO, VOC, CSV): items stream in batches with their results, each item's
/// annotations and stored image go to the format's writer, which owns the archive layout. Classes are the
/// labels of the projects in scope, in taxonomy order.
/// </summary>
public sealed class TrainingExportFormat(
    string name,
    string description,
    IReadOnlyList<string> annotationTypes,
    Func<TrainingArchiveSettings, ITrainingArchiveWriter> createWriter,
    IBlobStore blobs,
    SpillFolder spill,
    IOptions<ExportsOptions> options) : IExportFormat
{
    public string Name => name;

    public string Description => description;

    public IReadOnlyList<string> AnnotationTypes => annotationTypes;

    public async Task WriteAsync(ExportJob job, ExportSource source, Stream output, ExportProgress progress, CancellationToken cancellationToken)
    {
        var projects = await source.ProjectsAsync(cancellationToken);
        var classes = new ClassList(projects.Select(p => AvalaJsonExportFormat.ReadLabels(p.Labels)));
        using var report = new ExportReport(name, tempFolder: spill.Folder);
        await using var writer = createWriter(new TrainingArchiveSettings(output, classes, report, job.CreatedAt, options.Value.CompressionLevel, spill.Folder) { Removed = source.Removed });
        // Three stages on their own threads: the database read, reading the annotations into shapes, and the
        // writer. Parsing on the writer's thread made it the one stage everything waited for. One batch waits between
        // stages, as in the source: deeper queues kept more batches alive without making the export faster.
        var parsed = Prefetch.AheadAsync(token => ParseAsync(source, token), depth: 1, cancellationToken);
        await foreach (var batch in parsed)
        {
            foreach (var (stored, item) in batch.Items)
            {
                var image = writer.IncludesImages ? await OpenImageAsync(stored, cancellationToken) : null;
                try
                {
                    await writer.WriteItemAsync(item, image, cancellationToken);
                }
                finally
                {
                    if (image is not null)
                    {
                        await image.Content.DisposeAsync();
                    }
                }
            }

            progress.Add(batch.TaskCount);
        }

        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>A batch as the writer needs it: the stored item (for its image) and its parsed annotations. The results'
    /// JSON text is not kept: batches wait here while earlier ones are written, and held with them it was about half of
    /// what the export kept alive.</summary>
    private sealed record ParsedBatch(IReadOnlyList<(SourceItem Source, TrainingItem Item)> Items, int TaskCount);

    private static async IAsyncEnumerable<ParsedBatch> ParseAsync(ExportSource source, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await foreach (var batch in source.ItemsWithResultsAsync(cancellationToken))
        {
            yield return new ParsedBatch([.. batch.Items.Select(entry => (entry.Item, ToTrainingItem(entry)))], batch.TaskCount);
        }
    }

    private static TrainingItem ToTrainingItem(SourceItemWithResults entry)
    {
        var item = entry.Item;
        var annotations = new List<StoredAnnotation>();
        foreach (var result in entry.Results)
        {
            try
            {
                annotations.AddRange(StoredAnnotations.Read(result.Annotations));
            }
            catch (Exception e) when (e is InvalidDataException or System.Text.Json.JsonException or KeyNotFoundException or InvalidOperationException)
            {
                throw new ExportFailedException($"The annotations of result {result.Uid} (item \"{item.RefId}\") could not be read: {e.Message}");
            }
        }

        return new TrainingItem(item.Uid, item.RefId, item.Metadata, item.Width, item.Height, item.MediaUrl, annotations);
    }

    private async Task<TrainingImage?> OpenImageAsync(SourceItem item, CancellationToken cancellationToken)
    {
        if (item.MediaKey is null)
        {
            return null;
        }

        var blob = await blobs.OpenReadAsync(item.MediaKey, cancellationToken)
            ?? throw new ExportFailedException($"The image of item \"{item.RefId}\" is missing from storage; upload it again.");
        return new TrainingImage(blob.Content, FileStems.ImageExtension(item.MediaContentType) ?? ".bin");
    }
}
