using System.IO.Compression;
using System.Text.Json;
using Annex.Formats;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Formats;

/// <summary>avala-json-external: a zip holding one Avala Grouped JSON document, streamed batch by batch.</summary>
public sealed class AvalaJsonExportFormat(IDbContextFactory<AnnexDbContext> contexts, IOptions<ExportsOptions> options) : IExportFormat
{
    public const string FormatName = "avala-json-external";
    public const string EntryName = "export.json";

    public string Name => FormatName;

    public async Task WriteAsync(ExportJob job, Stream output, ExportProgress progress, CancellationToken cancellationToken)
    {
        var batchSize = Math.Max(1, options.Value.BatchSize);
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var scope = job.Scope;

        using var zip = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true);
        await using (var entry = DeterministicZip.CreateEntryStream(zip, EntryName, job.CreatedAt, CompressionLevel.Fastest))
        await using (var writer = new AvalaJsonWriter(entry, new ExportInfo(job.Name, job.CreatedAt, FormatName, job.FilterQueryString)))
        {
            writer.BeginDatasets();
            var items = scope.Items(db);
            foreach (var dataset in await scope.Datasets(db).Select(d => new { d.Id, d.Uid, d.Name }).ToListAsync(cancellationToken))
            {
                writer.BeginDataset(new DatasetHeader(dataset.Uid, dataset.Name));
                var after = long.MinValue;
                while (true)
                {
                    var batch = await items.Where(i => i.DatasetId == dataset.Id && i.Id > after).OrderBy(i => i.Id).Take(batchSize)
                        .Select(i => new { i.Id, i.Uid, i.RefId, i.Metadata, i.Width, i.Height, i.MediaUrl })
                        .ToListAsync(cancellationToken);
                    foreach (var item in batch)
                    {
                        writer.WriteItem(new ItemRecord(item.Uid, item.RefId, item.Metadata, item.Width, item.Height, item.MediaUrl));
                    }

                    await writer.FlushIfNeededAsync(cancellationToken);
                    if (batch.Count < batchSize)
                    {
                        break;
                    }

                    after = batch[^1].Id;
                }

                writer.EndDataset();
            }

            writer.EndDatasets();

            var projects = await scope.ProjectsAsync(db, cancellationToken);
            var projectUids = projects.ToDictionary(p => p.Id, p => p.Uid);
            writer.WriteProjects(projects.Select(p => new ProjectRecord(p.Uid, p.Name, ReadLabels(p.Labels))));

            writer.BeginResults();
            var results = scope.Results(db);
            var afterResult = long.MinValue;
            while (true)
            {
                var batch = await results.Where(r => r.Id > afterResult).OrderBy(r => r.Id).Take(batchSize)
                    .Select(r => new { r.Id, r.Uid, ItemUid = r.DatasetItem.Uid, r.ProjectId, r.Annotations })
                    .ToListAsync(cancellationToken);
                foreach (var result in batch)
                {
                    writer.WriteResult(new ResultRecord(result.Uid, result.ItemUid, projectUids[result.ProjectId], result.Annotations));
                }

                await writer.FlushIfNeededAsync(cancellationToken);
                progress.Add(batch.Count);
                if (batch.Count < batchSize)
                {
                    break;
                }

                afterResult = batch[^1].Id;
            }

            writer.EndResults();
            await writer.CompleteAsync(cancellationToken);
        }
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
