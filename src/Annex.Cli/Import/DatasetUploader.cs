using Annex.Client;
using Annex.Formats.Import;

namespace Annex.Cli.Import;

/// <summary>Where an import goes: a new dataset (by name) or an existing one, and a new project or an existing one.</summary>
public sealed record ImportTarget(string DatasetName, Guid? DatasetUid, string ProjectName, Guid? ProjectUid);

/// <summary>How far an import is: items whose results are stored, their annotations, and images uploaded.</summary>
public sealed record ImportProgress(long Items, long ItemsTotal, long Annotations, long AnnotationsTotal, int Images, int ImagesTotal);

/// <summary>What an import created. <c>ItemsSkipped</c> and <c>ResultsSkipped</c> count what an earlier run of the
/// same import had stored already (a resumed import).</summary>
public sealed record ImportSummary(
    Guid DatasetUid,
    string DatasetName,
    Guid ProjectUid,
    string ProjectName,
    int Items,
    int Results,
    int Annotations,
    int Media,
    IReadOnlyList<string> Skipped)
{
    public int ItemsSkipped { get; init; }

    public int ResultsSkipped { get; init; }
}

/// <summary>
/// Uploads what an import source reads: the project's labels, then the items with their results in large batches,
/// several batches in flight at once, then the images. Items and results are sent with <c>existing=skip</c> and
/// the dataset and project are found again by name, so running the same import again after a failure continues
/// where it stopped: nothing is duplicated, and what was stored stays as it is.
/// </summary>
public sealed class DatasetUploader
{
    private readonly AnnexClient _client;
    private readonly int _batchSize;
    private readonly int _parallel;
    private readonly int _mediaConcurrency;

    /// <param name="client">The server to upload to.</param>
    /// <param name="batchSize">Items per request (at most <see cref="AnnexClient.MaxItemsPerRequest"/>); their results go
    /// in requests of at most <see cref="AnnexClient.MaxResultsPerRequest"/>.</param>
    /// <param name="parallel">Batches in flight at once.</param>
    /// <param name="mediaConcurrency">Bulk image uploads (of up to 100 images or 64 MiB each) sent at once.</param>
    public DatasetUploader(AnnexClient client, int batchSize = AnnexClient.MaxItemsPerRequest, int parallel = 4, int mediaConcurrency = 4)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(batchSize, AnnexClient.MaxItemsPerRequest);
        ArgumentOutOfRangeException.ThrowIfLessThan(parallel, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(mediaConcurrency, 1);
        _client = client;
        _batchSize = batchSize;
        _parallel = parallel;
        _mediaConcurrency = mediaConcurrency;
    }

    public async Task<ImportSummary> UploadAsync(ImportSource source, ImportTarget target, IProgress<ImportProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        var import = source.Import;
        var project = await ProjectAsync(import, target, cancellationToken);
        var dataset = await DatasetAsync(target, cancellationToken);
        var run = new Run(import, progress);
        run.Report();

        using var failed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        using var slots = new SemaphoreSlim(_parallel);
        var batches = new List<Task>();
        using var reading = Batches(import.ReadItems()).GetEnumerator();
        try
        {
            // A batch is read only once a slot is free, so at most `parallel` batches are held at once: reading
            // ahead would only keep one more batch waiting while the server is busy with the others.
            while (true)
            {
                await slots.WaitAsync(failed.Token);
                if (!reading.MoveNext())
                {
                    slots.Release();
                    break;
                }

                var batch = reading.Current;
                batches.Add(Task.Run(
                    async () =>
                    {
                        try
                        {
                            await UploadBatchAsync(batch, dataset.Uid, project.Uid, source.MediaRoot is not null, run, failed.Token);
                        }
                        catch
                        {
                            // Stop reading and sending: the first failure is what the caller sees.
                            await failed.CancelAsync();
                            throw;
                        }
                        finally
                        {
                            slots.Release();
                        }
                    },
                    CancellationToken.None));
                batches.RemoveAll(t => t.IsCompletedSuccessfully);
            }
        }
        catch (OperationCanceledException) when (failed.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            // A batch failed while the next one was waiting for a slot: its error is thrown below.
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The source is wrong further on: what was read before it is stored first (so running the import
            // again after a fix continues from there), then the reader's error is what the caller sees.
            await WhenAllFirstErrorAsync(batches);
            throw;
        }

        await WhenAllFirstErrorAsync(batches);
        var media = await UploadMediaAsync(source, dataset.Uid, run, cancellationToken);
        return new ImportSummary(
            dataset.Uid, dataset.Name, project.Uid, project.Name, run.ItemsRead, run.ResultsCreated + run.ResultsSkipped, (int)run.AnnotationsDone, media,
            [.. import.Skipped.Select(s => s.ToString())])
        {
            ItemsSkipped = run.ItemsSkipped,
            ResultsSkipped = run.ResultsSkipped,
        };
    }

    /// <summary>Awaits every batch; the error thrown is the first real failure, not the cancellations it caused.</summary>
    private static async Task WhenAllFirstErrorAsync(List<Task> batches)
    {
        try
        {
            await Task.WhenAll(batches);
        }
        catch
        {
            var first = batches.Where(t => t.IsFaulted).Select(t => t.Exception!.InnerException!).FirstOrDefault(e => e is not OperationCanceledException);
            if (first is not null)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(first).Throw();
            }

            throw;
        }
    }

    private IEnumerable<ImportedItem[]> Batches(IEnumerable<ImportedItem> items)
    {
        var batch = new List<ImportedItem>(_batchSize);
        foreach (var item in items)
        {
            batch.Add(item);
            if (batch.Count == _batchSize)
            {
                yield return [.. batch];
                batch.Clear();
            }
        }

        if (batch.Count > 0)
        {
            yield return [.. batch];
        }
    }

    private async Task UploadBatchAsync(ImportedItem[] batch, Guid datasetUid, Guid projectUid, bool hasMedia, Run run, CancellationToken ct)
    {
        var created = await _client.ImportItemsAsync(datasetUid, [.. batch.Select(NewItem)], ct);
        if (created.Items.Count != batch.Length)
        {
            throw new CliException(ExitCodes.Failed, $"The server answered {created.Items.Count} items for a batch of {batch.Length}.");
        }

        run.ItemsStored(created.Count, created.Skipped);
        if (hasMedia)
        {
            run.AddMedia(batch.Select((item, i) => (item, created.Items[i].Uid)).Where(x => x.item.MediaPath is not null).Select(x => (x.Uid, x.item.MediaPath!)));
        }

        // Every imported item gets a result, an empty one too: in a labelled source an image without
        // annotations was looked at and has nothing on it (YOLO's empty label file).
        var resultsPerRequest = Math.Min(batch.Length, AnnexClient.MaxResultsPerRequest);
        for (var start = 0; start < batch.Length; start += resultsPerRequest)
        {
            var count = Math.Min(resultsPerRequest, batch.Length - start);
            var results = new ImportResult[count];
            var annotations = 0;
            for (var i = 0; i < count; i++)
            {
                var item = batch[start + i];
                results[i] = new ImportResult(created.Items[start + i].Uid, [.. item.Annotations.Select(ToAnnotation)]);
                annotations += item.Annotations.Count;

                // The result holds what is sent; let the item go before the request, not after the whole batch.
                batch[start + i] = null!;
            }

            var written = await _client.ImportResultsAsync(projectUid, results, ct);
            run.ResultsStored(count, annotations, written.Created + written.Updated, written.Skipped);
        }
    }

    private async Task<Dataset> DatasetAsync(ImportTarget target, CancellationToken ct)
    {
        if (target.DatasetUid is { } uid)
        {
            return await _client.GetDatasetAsync(uid, ct);
        }

        // The same import run again continues in the dataset it made.
        var named = new List<Dataset>();
        await foreach (var dataset in _client.ListDatasetsAsync(ct))
        {
            if (dataset.Name == target.DatasetName)
            {
                named.Add(dataset);
            }
        }

        return named.Count switch
        {
            0 => await _client.CreateDatasetAsync(target.DatasetName, ct),
            1 => named[0],
            _ => throw new CliException(ExitCodes.Usage, $"{named.Count} datasets are named {target.DatasetName}; choose one with --dataset <uid> or give another --name."),
        };
    }

    private async Task<Project> ProjectAsync(StreamedImport import, ImportTarget target, CancellationToken ct)
    {
        Project? existing = null;
        if (target.ProjectUid is { } uid)
        {
            existing = await _client.GetProjectAsync(uid, ct);
        }
        else if (target.DatasetUid is null)
        {
            // A resumed import finds its project by name, as it finds its dataset.
            var named = new List<Project>();
            await foreach (var project in _client.ListProjectsAsync(ct))
            {
                if (project.Name == target.ProjectName)
                {
                    named.Add(project);
                }
            }

            if (named.Count > 1)
            {
                throw new CliException(ExitCodes.Usage, $"{named.Count} projects are named {target.ProjectName}; choose one with --project <uid> or give another --project-name.");
            }

            existing = named.SingleOrDefault();
        }

        if (existing is not null)
        {
            var known = existing.Labels.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
            var missing = import.UsedLabels.Where(l => !known.Contains(l)).Order(StringComparer.Ordinal).ToList();
            if (missing.Count > 0)
            {
                throw new CliException(ExitCodes.Usage, $"Project {existing.Name} has no label {string.Join(", ", missing.Select(m => $"'{m}'"))}; import into a new project instead.");
            }

            return existing;
        }

        var labels = import.Labels.Select((label, index) => new ProjectLabel(
            label.Name,
            label.Color is { } color && color.Length == 7 && color[0] == '#' ? color.ToUpperInvariant() : LabelColors.For(index),
            Keypoints: label.Keypoints,
            Skeleton: label.Skeleton)).ToList();
        return await _client.CreateProjectAsync(target.ProjectName, labels, ct);
    }

    private async Task<int> UploadMediaAsync(ImportSource source, Guid datasetUid, Run run, CancellationToken ct)
    {
        if (source.MediaRoot is not { } root || run.Media.Count == 0)
        {
            return 0;
        }

        // Named by item uid, so the server finds each image's item whatever its ref_id looks like; the images go
        // up many per request, so the uploads limit counts batches, not images.
        var media = run.Media.Select(file => new MediaFile(
            file.Uid.ToString("D") + Path.GetExtension(file.Path),
            Path.Combine(root, file.Path.Replace('/', Path.DirectorySeparatorChar))));
        await new BulkMediaUploader(_client, requestsInFlight: _mediaConcurrency).UploadAsync(datasetUid, media, new UploadedImages(run), ct);
        return run.Media.Count;
    }

    /// <summary>Turns the uploader's running total into the run's image count.</summary>
    private sealed class UploadedImages(Run run) : IProgress<int>
    {
        public void Report(int value) => run.ImagesUploaded(value);
    }

    private static ImportItem NewItem(ImportedItem item) =>
        new(item.RefId, item.Width, item.Height, string.IsNullOrWhiteSpace(item.MetadataJson) ? null : item.MetadataJson, item.MediaUrl);

    private static ImportAnnotation ToAnnotation(ImportedAnnotation annotation) =>
        new(annotation.Label, annotation.Type, Blank(annotation.CoordinatesJson), Blank(annotation.AttributesJson));

    private static string? Blank(string? json) => string.IsNullOrWhiteSpace(json) ? null : json;

    /// <summary>The counts of one import, updated from the batches in flight.</summary>
    private sealed class Run(StreamedImport import, IProgress<ImportProgress>? progress)
    {
        private readonly object _lock = new();
        private long _itemsDone;
        private long _annotationsDone;
        private int _imagesDone;

        public List<(Guid Uid, string Path)> Media { get; } = [];

        public int ItemsRead { get; private set; }

        public int ItemsSkipped { get; private set; }

        public int ResultsCreated { get; private set; }

        public int ResultsSkipped { get; private set; }

        public long AnnotationsDone => _annotationsDone;

        public void ItemsStored(int created, int skipped)
        {
            lock (_lock)
            {
                ItemsRead += created + skipped;
                ItemsSkipped += skipped;
            }
        }

        public void AddMedia(IEnumerable<(Guid Uid, string Path)> files)
        {
            lock (_lock)
            {
                Media.AddRange(files);
            }
        }

        public void ResultsStored(int items, int annotations, int created, int skipped)
        {
            lock (_lock)
            {
                _itemsDone += items;
                _annotationsDone += annotations;
                ResultsCreated += created;
                ResultsSkipped += skipped;
            }

            Report();
        }

        /// <summary>Images uploaded so far, in all (bulk requests finish out of order, so the highest wins).</summary>
        public void ImagesUploaded(int total)
        {
            lock (_lock)
            {
                _imagesDone = Math.Max(_imagesDone, total);
            }

            Report();
        }

        public void Report()
        {
            if (progress is null)
            {
                return;
            }

            ImportProgress value;
            lock (_lock)
            {
                // The images to upload are known once their items exist; until then a source with files counts its items.
                value = new ImportProgress(_itemsDone, import.ItemCount, _annotationsDone, Math.Max(import.AnnotationCount, _annotationsDone), _imagesDone, Media.Count);
            }

            progress.Report(value);
        }
    }
}
