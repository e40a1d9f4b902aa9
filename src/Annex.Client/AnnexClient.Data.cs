namespace Annex.Client;

public sealed partial class AnnexClient
{
    /// <summary>Most items one create request may carry (the server's limit).</summary>
    public const int MaxItemsPerRequest = 10_000;

    /// <summary>Most results one upsert request may carry (the server's limit).</summary>
    public const int MaxResultsPerRequest = 5_000;

    /// <summary>The organization's datasets, oldest first.</summary>
    public IAsyncEnumerable<Dataset> ListDatasetsAsync(CancellationToken cancellationToken = default) =>
        ListAsync<Dataset>(Url("datasets/", ("limit", Limit())), cancellationToken);

    /// <summary>One dataset.</summary>
    public Task<Dataset> GetDatasetAsync(Guid uid, CancellationToken cancellationToken = default) =>
        GetAsync<Dataset>(Url($"datasets/{Segment(uid)}/"), cancellationToken);

    /// <summary>Creates an empty dataset.</summary>
    public Task<Dataset> CreateDatasetAsync(string name, CancellationToken cancellationToken = default) =>
        PostAsync<Dataset>(Url("datasets/"), new { name }, cancellationToken);

    /// <summary>Deletes a dataset with its items, their results, slice entries and images. Exports that name it
    /// and are still waiting or running fail; finished archives stay.</summary>
    public Task DeleteDatasetAsync(Guid uid, CancellationToken cancellationToken = default) =>
        DeleteAsync(Url($"datasets/{Segment(uid)}/"), cancellationToken);

    /// <summary>The items of a dataset, in the order they were created.</summary>
    public IAsyncEnumerable<DatasetItem> ListItemsAsync(Guid datasetUid, CancellationToken cancellationToken = default) =>
        ListAsync<DatasetItem>(Url($"datasets/{Segment(datasetUid)}/items/", ("limit", Limit())), cancellationToken);

    /// <summary>Creates items in a dataset, all or none (at most <see cref="MaxItemsPerRequest"/>; a ref_id
    /// already in the dataset is an <see cref="AnnexValidationException"/>).</summary>
    public Task<ItemsCreated> CreateItemsAsync(Guid datasetUid, IReadOnlyList<NewDatasetItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        return PostAsync<ItemsCreated>(Url($"datasets/{Segment(datasetUid)}/items/"), new { items }, cancellationToken);
    }

    /// <summary>The organization's projects, oldest first.</summary>
    public IAsyncEnumerable<Project> ListProjectsAsync(CancellationToken cancellationToken = default) =>
        ListAsync<Project>(Url("projects/", ("limit", Limit())), cancellationToken);

    /// <summary>One project.</summary>
    public Task<Project> GetProjectAsync(Guid uid, CancellationToken cancellationToken = default) =>
        GetAsync<Project>(Url($"projects/{Segment(uid)}/"), cancellationToken);

    /// <summary>Creates a project with its ordered label taxonomy (the order is the class order of every format).</summary>
    public Task<Project> CreateProjectAsync(string name, IReadOnlyList<ProjectLabel> labels, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(labels);
        return PostAsync<Project>(Url("projects/"), new { name, labels }, cancellationToken);
    }

    /// <summary>Deletes a project with its results; the items stay. Exports that name it and are still waiting or
    /// running fail; finished archives stay.</summary>
    public Task DeleteProjectAsync(Guid uid, CancellationToken cancellationToken = default) =>
        DeleteAsync(Url($"projects/{Segment(uid)}/"), cancellationToken);

    /// <summary>The results of a project, optionally only the one on <paramref name="datasetItemUid"/>.</summary>
    public IAsyncEnumerable<AnnotationResult> ListResultsAsync(Guid projectUid, Guid? datasetItemUid = null, CancellationToken cancellationToken = default) =>
        ListAsync<AnnotationResult>(Url($"projects/{Segment(projectUid)}/results/", ("dataset_item", datasetItemUid?.ToString("D")), ("limit", Limit())), cancellationToken);

    /// <summary>Creates or replaces the annotations of each named item in a project, all or none
    /// (at most <see cref="MaxResultsPerRequest"/>).</summary>
    public Task<ResultsUpserted> UpsertResultsAsync(Guid projectUid, IReadOnlyList<NewAnnotationResult> results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(results);
        return PostAsync<ResultsUpserted>(Url($"projects/{Segment(projectUid)}/results/"), new { results }, cancellationToken);
    }

    /// <summary>The organization's slices, oldest first.</summary>
    public IAsyncEnumerable<Slice> ListSlicesAsync(CancellationToken cancellationToken = default) =>
        ListAsync<Slice>(Url("slices/", ("limit", Limit())), cancellationToken);

    /// <summary>One slice.</summary>
    public Task<Slice> GetSliceAsync(Guid uid, CancellationToken cancellationToken = default) =>
        GetAsync<Slice>(Url($"slices/{Segment(uid)}/"), cancellationToken);

    /// <summary>Creates a slice of the given items (from any datasets of the organization).</summary>
    public Task<Slice> CreateSliceAsync(string name, IReadOnlyList<Guid> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        return PostAsync<Slice>(Url("slices/"), new { name, items }, cancellationToken);
    }

    /// <summary>Deletes a slice; its items stay in their datasets. Exports that name it and are still waiting or
    /// running fail; finished archives stay.</summary>
    public Task DeleteSliceAsync(Guid uid, CancellationToken cancellationToken = default) =>
        DeleteAsync(Url($"slices/{Segment(uid)}/"), cancellationToken);

    /// <summary>The versions of a dataset, oldest first (Annex servers).</summary>
    public IAsyncEnumerable<DatasetVersion> ListVersionsAsync(Guid datasetUid, CancellationToken cancellationToken = default) =>
        ListAsync<DatasetVersion>(Url($"datasets/{Segment(datasetUid)}/versions/", ("limit", Limit())), cancellationToken);

    /// <summary>One version of a dataset.</summary>
    public Task<DatasetVersion> GetVersionAsync(Guid datasetUid, Guid versionUid, CancellationToken cancellationToken = default) =>
        GetAsync<DatasetVersion>(Url($"datasets/{Segment(datasetUid)}/versions/{Segment(versionUid)}/"), cancellationToken);

    /// <summary>Freezes the dataset as it is now; <paramref name="projects"/> names the projects whose results the
    /// version exports (none: every project).</summary>
    public Task<DatasetVersion> CreateVersionAsync(Guid datasetUid, string name, IReadOnlyList<Guid>? projects = null, CancellationToken cancellationToken = default) =>
        PostAsync<DatasetVersion>(Url($"datasets/{Segment(datasetUid)}/versions/"), new { name, projects = projects ?? [] }, cancellationToken);

    /// <summary>Deletes a version; exports of it that wait or run fail, finished archives stay.</summary>
    public Task DeleteVersionAsync(Guid datasetUid, Guid versionUid, CancellationToken cancellationToken = default) =>
        DeleteAsync(Url($"datasets/{Segment(datasetUid)}/versions/{Segment(versionUid)}/"), cancellationToken);

    /// <summary>What differs from version <paramref name="from"/> to version <paramref name="to"/> (null: the dataset now),
    /// every page read.</summary>
    public async Task<VersionDiff> DiffVersionsAsync(Guid datasetUid, Guid from, Guid? to = null, CancellationToken cancellationToken = default)
    {
        var url = Url($"datasets/{Segment(datasetUid)}/versions/{Segment(from)}/diff/{(to is { } other ? Segment(other) : "current")}/", ("limit", Limit()));
        var first = await GetAsync<VersionDiffPage>(url, cancellationToken).ConfigureAwait(false);
        var items = new List<VersionDiffItem>(first.Results);
        var next = first.Next;
        while (next is not null)
        {
            var page = await GetAsync<VersionDiffPage>(new Uri(ApiBase, next), cancellationToken).ConfigureAwait(false);
            items.AddRange(page.Results);
            next = page.Next;
        }

        return new VersionDiff(first.From, first.To, first.Added, first.Changed, first.Removed, items);
    }

    private sealed record VersionDiffPage(Guid From, string To, long Added, long Changed, long Removed, string? Next, IReadOnlyList<VersionDiffItem> Results);

    private async Task DeleteAsync(Uri url, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, url), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }
}
