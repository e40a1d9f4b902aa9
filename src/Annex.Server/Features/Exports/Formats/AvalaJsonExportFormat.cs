using System.IO.Compression;
using System.Text.Json;
using Annex.Formats;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Formats;

/// <summary>avala-json-external: a zip holding one Avala Grouped JSON document, streamed batch by batch.</summary>
public sealed class AvalaJsonExportFormat(IOptions<ExportsOptions> options) : IExportFormat
{
    public const string FormatName = "avala-json-external";
    public const string EntryName = "export.json";

    public string Name => FormatName;

    public string Description => "Avala's native JSON format with full metadata and annotation details";

    public IReadOnlyList<string> AnnotationTypes => Annex.Formats.AnnotationTypes.All;

    public async Task WriteAsync(ExportJob job, ExportSource source, Stream output, ExportProgress progress, CancellationToken cancellationToken)
    {
        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        await using var entry = DeterministicZip.CreateEntryStream(zip, EntryName, job.CreatedAt, options.Value.CompressionLevel);
        await using var writer = new AvalaJsonWriter(entry, new ExportInfo(job.Name, job.CreatedAt, FormatName, job.FilterQueryString));

        writer.BeginDatasets();
        foreach (var dataset in await source.DatasetsAsync(cancellationToken))
        {
            writer.BeginDataset(new DatasetHeader(dataset.Uid, dataset.Name));
            await foreach (var batch in source.ItemBatchesAsync(dataset.Id, cancellationToken))
            {
                foreach (var item in batch)
                {
                    writer.WriteItem(new ItemRecord(item.Uid, item.RefId, item.Metadata, item.Width, item.Height, item.MediaUrl));
                }

                await writer.FlushIfNeededAsync(cancellationToken);
            }

            writer.EndDataset();
        }

        writer.EndDatasets();

        var projects = await source.ProjectsAsync(cancellationToken);
        var projectUids = projects.ToDictionary(p => p.Id, p => p.Uid);
        writer.WriteProjects(projects.Select(p => new ProjectRecord(p.Uid, p.Name, ReadLabels(p.Labels))));

        writer.BeginResults();
        await foreach (var batch in source.ResultBatchesAsync(cancellationToken))
        {
            foreach (var result in batch)
            {
                writer.WriteResult(new ResultRecord(result.Uid, result.ItemUid, projectUids[result.ProjectId], result.Annotations));
            }

            await writer.FlushIfNeededAsync(cancellationToken);
            progress.Add(batch.Count);
        }

        writer.EndResults(source.Removed);
        await writer.CompleteAsync(cancellationToken);
    }

    /// <summary>The stored taxonomy as the writer's label records.</summary>
    public static List<LabelRecord> ReadLabels(string labelsJson)
    {
        using var document = JsonDocument.Parse(labelsJson);
        return [.. document.RootElement.EnumerateArray().Select(label => new LabelRecord(
            label.GetProperty("name").GetString()!,
            label.GetProperty("color").GetString()!,
            label.TryGetProperty("attributes", out var attributes) ? attributes.GetRawText() : null,
            label.TryGetProperty("keypoints", out var keypoints) ? [.. keypoints.EnumerateArray().Select(k => k.GetString()!)] : null,
            label.TryGetProperty("skeleton", out var skeleton) ? [.. skeleton.EnumerateArray().Select(e => e.EnumerateArray().Select(v => v.GetInt32()).ToArray())] : null))];
    }
}
