using System.Text.Json;

namespace Annex.Client;

/// <summary>One page of a cursor-paginated list.</summary>
/// <param name="Next">Absolute URL of the next page, or null on the last page.</param>
/// <param name="Previous">Absolute URL of the previous page, or null on the first page.</param>
/// <param name="Results">The rows of this page.</param>
public sealed record Page<T>(string? Next, string? Previous, IReadOnlyList<T> Results);

/// <summary>The organization an export belongs to.</summary>
public sealed record OrganizationRef(Guid Uid, string Name);

/// <summary>Export states as the server writes them in <see cref="Export.Status"/>.</summary>
public static class ExportStatus
{
    /// <summary>Queued; no worker has started it yet.</summary>
    public const string Requested = "requested";

    /// <summary>A worker is writing the archive; <see cref="Export.ExportedTaskCount"/> advances.</summary>
    public const string Exporting = "exporting";

    /// <summary>Done; <see cref="Export.DownloadUrl"/> is set.</summary>
    public const string Exported = "exported";

    /// <summary>Stopped on request; no archive.</summary>
    public const string Aborted = "aborted";

    /// <summary>Stopped by an error; <see cref="Export.Error"/> says why.</summary>
    public const string Failed = "failed";

    /// <summary>True for the states an export never leaves.</summary>
    public static bool IsFinal(string status) => status is Exported or Aborted or Failed;
}

/// <summary>An export job.</summary>
/// <param name="Uid">The export's id.</param>
/// <param name="Name">The name given when it was created.</param>
/// <param name="Format">The archive format, e.g. <c>avala-json-external</c>.</param>
/// <param name="Status">One of the <see cref="ExportStatus"/> values.</param>
/// <param name="TotalTaskCount">How many tasks (results) the export covers, once known.</param>
/// <param name="ExportedTaskCount">How many tasks are written so far.</param>
/// <param name="DownloadUrl">Signed archive link, set once the export is <c>exported</c>; it expires.</param>
/// <param name="Datasets">The dataset uids named at creation.</param>
/// <param name="Slices">The slice uids named at creation.</param>
/// <param name="Projects">The project uids named at creation.</param>
/// <param name="Organization">The owning organization.</param>
/// <param name="CreatedAt">Creation time (UTC).</param>
/// <param name="UpdatedAt">Last change (UTC); absent on servers that do not report it.</param>
/// <param name="FilterQueryString">The filter the export was created with, if any.</param>
/// <param name="Error">Why a failed export failed.</param>
/// <param name="ExpiresAt">When an exported archive stops being downloadable (Annex servers only).</param>
/// <param name="Versions">The dataset versions exported (Annex servers only).</param>
/// <param name="SinceVersion">The base version of a delta export (Annex servers only).</param>
/// <param name="SinceExport">The base export a delta export was asked for with (Annex servers only).</param>
public sealed record Export(
    Guid Uid,
    string Name,
    string Format,
    string Status,
    long? TotalTaskCount,
    long? ExportedTaskCount,
    string? DownloadUrl,
    IReadOnlyList<Guid> Datasets,
    IReadOnlyList<Guid> Slices,
    IReadOnlyList<Guid> Projects,
    OrganizationRef? Organization,
    DateTime CreatedAt,
    DateTime? UpdatedAt = null,
    string? FilterQueryString = null,
    string? Error = null,
    DateTime? ExpiresAt = null,
    IReadOnlyList<Guid>? Versions = null,
    Guid? SinceVersion = null,
    Guid? SinceExport = null);

/// <summary>The body of <c>POST /api/v1/exports/</c>. At least one dataset, project or slice must be named.</summary>
public sealed record CreateExportRequest(
    string Name,
    string Format,
    IReadOnlyList<Guid> Datasets,
    IReadOnlyList<Guid> Projects,
    IReadOnlyList<Guid> Slices,
    string? FilterQueryString = null)
{
    /// <summary>Dataset versions to export (Annex servers; not together with datasets or slices).</summary>
    public IReadOnlyList<Guid>? Versions { get; init; }

    /// <summary>A delta export: only what changed since this version, plus what was removed (Annex servers).</summary>
    public Guid? SinceVersion { get; init; }

    /// <summary>A delta export since an earlier export of one version (Annex servers).</summary>
    public Guid? SinceExport { get; init; }
}

/// <summary>An immutable version of a dataset (Annex servers).</summary>
/// <param name="Uid">The version's uid.</param>
/// <param name="Name">Its name.</param>
/// <param name="Dataset">The dataset it freezes.</param>
/// <param name="CreatedAt">When it was made: the moment it shows.</param>
/// <param name="Projects">The projects whose results it exports; empty for every project.</param>
public sealed record DatasetVersion(Guid Uid, string Name, Guid Dataset, IReadOnlyList<Guid> Projects, DateTime CreatedAt);

/// <summary>An item that differs between two versions: <c>added</c>, <c>changed</c> or <c>removed</c>.</summary>
public sealed record VersionDiffItem(Guid Uid, string Change);

/// <summary>What differs between two versions (or a version and <c>current</c>): counts, then the items.</summary>
public sealed record VersionDiff(Guid From, string To, long Added, long Changed, long Removed, IReadOnlyList<VersionDiffItem> Items);

/// <summary>What an export would hold, as <see cref="AnnexClient.PreviewExportAsync"/> answers it.</summary>
/// <param name="TotalItemCount">Items in the export (sources may overlap, so not the sum of the sources').</param>
/// <param name="TotalTaskCount">Tasks (results) in the export.</param>
/// <param name="Sources">Each named dataset, project and slice with its own counts.</param>
public sealed record ExportPreview(long TotalItemCount, long TotalTaskCount, IReadOnlyList<ExportPreviewSource> Sources);

/// <summary>One named source of a previewed export.</summary>
/// <param name="Type"><c>dataset</c>, <c>project</c> or <c>slice</c>.</param>
/// <param name="Uid">The source's uid.</param>
/// <param name="Name">Its name.</param>
/// <param name="ItemCount">Its items in the export (for a project: the items its tasks are on).</param>
/// <param name="TaskCount">Its tasks in the export.</param>
public sealed record ExportPreviewSource(string Type, Guid Uid, string Name, long ItemCount, long TaskCount);

/// <summary>An export format the server supports.</summary>
/// <param name="Name">The value to send as <see cref="CreateExportRequest.Format"/>.</param>
/// <param name="Description">What the format is, when the server says.</param>
/// <param name="AnnotationTypes">The annotation types the format carries, when the server says.</param>
public sealed record ExportFormat(string Name, string? Description = null, IReadOnlyList<string>? AnnotationTypes = null);

/// <summary>A dataset: a collection of items.</summary>
public sealed record Dataset(Guid Uid, string Name, long ItemCount, DateTime CreatedAt);

/// <summary>A stored dataset item (one image or frame).</summary>
/// <param name="Uid">The item's id.</param>
/// <param name="RefId">The caller's reference, unique in the dataset (e.g. a file name).</param>
/// <param name="Metadata">Free JSON object.</param>
/// <param name="Width">Width in pixels, when known.</param>
/// <param name="Height">Height in pixels, when known.</param>
/// <param name="MediaUrl">Where the media is, when given.</param>
/// <param name="CreatedAt">Creation time (UTC).</param>
/// <param name="UpdatedAt">Last change (UTC).</param>
public sealed record DatasetItem(Guid Uid, string RefId, JsonElement Metadata, int? Width, int? Height, string? MediaUrl, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>An item to create.</summary>
/// <param name="RefId">Unique in the dataset.</param>
/// <param name="Width">Width in pixels.</param>
/// <param name="Height">Height in pixels.</param>
/// <param name="Metadata">A JSON object, or null for none.</param>
/// <param name="MediaUrl">An http(s) or s3 URL of the media.</param>
/// <param name="Uid">A uid to use instead of a server-made one.</param>
public sealed record NewDatasetItem(string RefId, int? Width = null, int? Height = null, JsonElement? Metadata = null, string? MediaUrl = null, Guid? Uid = null);

/// <summary>The answer to creating items: <c>Count</c> new ones; <c>Skipped</c> already stored (with
/// <c>existing=skip</c>), listed in <c>Items</c> as stored.</summary>
public sealed record ItemsCreated(int Count, IReadOnlyList<DatasetItem> Items, int Skipped = 0);

/// <summary>One label of a project's ordered taxonomy.</summary>
/// <param name="Name">Unique in the project.</param>
/// <param name="Color">Display color as <c>#RRGGBB</c>.</param>
/// <param name="Attributes">Attribute definitions (objects with a <c>name</c>).</param>
/// <param name="Keypoints">Keypoint names, for keypoint labels.</param>
/// <param name="Skeleton">Edges between keypoints, numbered from 1.</param>
public sealed record ProjectLabel(string Name, string Color, IReadOnlyList<JsonElement>? Attributes = null, IReadOnlyList<string>? Keypoints = null, IReadOnlyList<int[]>? Skeleton = null);

/// <summary>A project: a label taxonomy and the results made with it.</summary>
public sealed record Project(Guid Uid, string Name, IReadOnlyList<ProjectLabel> Labels, DateTime CreatedAt);

/// <summary>One annotation of a result.</summary>
/// <param name="Label">A label name of the project.</param>
/// <param name="Type">bounding_box, polygon, polyline, keypoints, classification or cuboid.</param>
/// <param name="Coordinates">The type's coordinates object (null for a classification).</param>
/// <param name="Attributes">Free JSON object.</param>
public sealed record Annotation(string Label, string Type, JsonElement? Coordinates = null, JsonElement? Attributes = null);

/// <summary>The annotations of one item in one project.</summary>
public sealed record AnnotationResult(Guid Uid, Guid DatasetItemUid, Guid ProjectUid, IReadOnlyList<Annotation> Annotations, int AnnotationCount, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A result to create or replace.</summary>
public sealed record NewAnnotationResult(Guid DatasetItemUid, IReadOnlyList<Annotation> Annotations);

/// <summary>The answer to upserting results; <c>Skipped</c> counts items that kept their stored result (with <c>existing=skip</c>).</summary>
public sealed record ResultsUpserted(int Created, int Updated, IReadOnlyList<AnnotationResult> Results, int Skipped = 0);

/// <summary>A slice: a named set of items, possibly from several datasets.</summary>
public sealed record Slice(Guid Uid, string Name, long ItemCount, DateTime CreatedAt);
