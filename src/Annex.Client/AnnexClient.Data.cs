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

    private async Task DeleteAsync(Uri url, CancellationToken cancellationToken)
    {
        using var response = await SendAsync(() => new HttpRequestMessage(HttpMethod.Delete, url), HttpCompletionOption.ResponseContentRead, cancellationToken).ConfigureAwait(false);
    }
}
