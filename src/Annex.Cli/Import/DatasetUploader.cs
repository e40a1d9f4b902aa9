using System.Text.Json;
using Annex.Client;
using Annex.Formats.Import;

namespace Annex.Cli.Import;

/// <summary>Where an import goes: a new dataset (by name) or an existing one, and a new project or an existing one.</summary>
public sealed record ImportTarget(string DatasetName, Guid? DatasetUid, string ProjectName, Guid? ProjectUid);

public enum ImportStage
{
    Items,
    Results,
    Media,
}

/// <summary>How far one stage of an import is.</summary>
public sealed record ImportProgress(ImportStage Stage, int Done, int Total);

/// <summary>What an import created.</summary>
public sealed record ImportSummary(
    Guid DatasetUid,
    string DatasetName,
    Guid ProjectUid,
    string ProjectName,
    int Items,
    int Results,
    int Annotations,
    int Media,
    IReadOnlyList<string> Skipped);

/// <summary>Uploads what an importer read: the project's labels, then the items, their results and their images, in batches.</summary>
public sealed class DatasetUploader
{
    private readonly AnnexClient _client;
    private readonly int _batchSize;
    private readonly int _mediaConcurrency;

    /// <param name="client">The server to upload to.</param>
    /// <param name="batchSize">Items (and results) per request; the server takes at most
    /// <see cref="AnnexClient.MaxResultsPerRequest"/> results per request.</param>
    /// <param name="mediaConcurrency">Bulk image uploads (of up to 100 images or 64 MiB each) sent at once.</param>
    public DatasetUploader(AnnexClient client, int batchSize = 1000, int mediaConcurrency = 4)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, AnnexClient.MaxResultsPerRequest);
        ArgumentOutOfRangeException.ThrowIfLessThan(mediaConcurrency, 1);
        _client = client;
        _batchSize = batchSize;
        _mediaConcurrency = mediaConcurrency;
    }

    public async Task<ImportSummary> UploadAsync(ImportSource source, ImportTarget target, IProgress<ImportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var data = source.Dataset;
        var project = await ProjectAsync(data, target, cancellationToken);
        var dataset = target.DatasetUid is { } datasetUid
            ? await _client.GetDatasetAsync(datasetUid, cancellationToken)
            : await _client.CreateDatasetAsync(target.DatasetName, cancellationToken);

        var uids = new Dictionary<string, Guid>(data.Items.Count, StringComparer.Ordinal);
        progress?.Report(new ImportProgress(ImportStage.Items, 0, data.Items.Count));
        foreach (var batch in data.Items.Chunk(_batchSize))
        {
            var created = await _client.CreateItemsAsync(dataset.Uid, [.. batch.Select(NewItem)], cancellationToken);
            foreach (var item in created.Items)
            {
                uids[item.RefId] = item.Uid;
            }

            progress?.Report(new ImportProgress(ImportStage.Items, uids.Count, data.Items.Count));
        }

        // Every imported item gets a result, an empty one too: in a labelled source an image without
        // annotations was looked at and has nothing on it (YOLO's empty label file).
        var results = 0;
        var annotations = 0;
        progress?.Report(new ImportProgress(ImportStage.Results, 0, data.Items.Count));
        foreach (var batch in data.Items.Chunk(_batchSize))
        {
            var upserted = await _client.UpsertResultsAsync(
                project.Uid,
                [.. batch.Select(item => new NewAnnotationResult(uids[item.RefId], [.. item.Annotations.Select(ToAnnotation)]))],
                cancellationToken);
            results += upserted.Created + upserted.Updated;
            annotations += batch.Sum(i => i.Annotations.Count);
            progress?.Report(new ImportProgress(ImportStage.Results, results, data.Items.Count));
        }

        var media = await UploadMediaAsync(source, dataset.Uid, uids, progress, cancellationToken);
        return new ImportSummary(dataset.Uid, dataset.Name, project.Uid, project.Name, uids.Count, results, annotations, media, [.. data.Skipped.Select(s => s.ToString())]);
    }

    private async Task<Project> ProjectAsync(ImportedDataset data, ImportTarget target, CancellationToken ct)
    {
        if (target.ProjectUid is { } uid)
        {
            var existing = await _client.GetProjectAsync(uid, ct);
            var known = existing.Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
            var missing = data.Items.SelectMany(i => i.Annotations).Select(a => a.Label).Where(l => !known.Contains(l)).Distinct().Order(StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                throw new CliException(ExitCodes.Usage, $"Project {existing.Name} has no label {string.Join(", ", missing.Select(m => $"'{m}'"))}; import into a new project instead.");
            }

            return existing;
        }

        var labels = data.Labels.Select((label, index) => new ProjectLabel(
            label.Name,
            label.Color is { } color && color.Length == 7 && color[0] == '#' ? color.ToUpperInvariant() : LabelColors.For(index),
            Keypoints: label.Keypoints,
            Skeleton: label.Skeleton)).ToList();
        return await _client.CreateProjectAsync(target.ProjectName, labels, ct);
    }

    private async Task<int> UploadMediaAsync(ImportSource source, Guid datasetUid, Dictionary<string, Guid> uids, IProgress<ImportProgress>? progress, CancellationToken ct)
    {
        if (source.MediaRoot is not { } root)
        {
            return 0;
        }

        var files = source.Dataset.Items.Where(i => i.MediaPath is not null).ToList();
        if (files.Count == 0)
        {
            return 0;
        }

        progress?.Report(new ImportProgress(ImportStage.Media, 0, files.Count));

        // Named by item uid, so the server finds each image's item whatever its ref_id looks like.
        var media = files.Select(item => new MediaFile(
            uids[item.RefId].ToString("D") + Path.GetExtension(item.MediaPath),
            Path.Combine(root, item.MediaPath!.Replace('/', Path.DirectorySeparatorChar))));
        var uploaded = new SynchronousProgress(done => progress?.Report(new ImportProgress(ImportStage.Media, done, files.Count)));
        return await new BulkMediaUploader(_client, requestsInFlight: _mediaConcurrency).UploadAsync(datasetUid, media, uploaded, ct);
    }

    /// <summary>Reports on the uploading thread, in order (<see cref="Progress{T}"/> would post to the thread pool).</summary>
    private sealed class SynchronousProgress(Action<int> report) : IProgress<int>
    {
        public void Report(int value) => report(value);
    }

    private static NewDatasetItem NewItem(ImportedItem item) =>
        new(item.RefId, item.Width, item.Height, Json(item.MetadataJson), item.MediaUrl);

    private static Annotation ToAnnotation(ImportedAnnotation annotation) =>
        new(annotation.Label, annotation.Type, Json(annotation.CoordinatesJson), Json(annotation.AttributesJson));

    private static JsonElement? Json(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        using var document = JsonDocument.Parse(text);
        return document.RootElement.Clone();
    }
}
