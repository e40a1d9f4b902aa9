namespace Annex.Formats;

public sealed record ExportInfo(string Name, DateTime CreatedAtUtc, string Format, string? FilterQueryString);

public sealed record DatasetHeader(Guid Uid, string Name);

/// <summary>One dataset item. <c>MetadataJson</c> is a JSON object's text, written verbatim without validation.</summary>
public sealed record ItemRecord(Guid Uid, string RefId, string MetadataJson, int? Width, int? Height, string? MediaUrl);

/// <summary>
/// One taxonomy label. <c>AttributesJson</c> is a JSON array's text written verbatim; it, <c>Keypoints</c> and
/// <c>Skeleton</c> (pairs of keypoint indexes) are omitted from the output when null.
/// </summary>
public sealed record LabelRecord(
    string Name, string Color, string? AttributesJson, IReadOnlyList<string>? Keypoints, IReadOnlyList<int[]>? Skeleton);

public sealed record ProjectRecord(Guid Uid, string Name, IReadOnlyList<LabelRecord> Labels);

/// <summary>Annotations of one item in one project. <c>AnnotationsJson</c> is a JSON array of canonical annotations, written verbatim.</summary>
public sealed record ResultRecord(Guid Uid, Guid DatasetItemUid, Guid ProjectUid, string AnnotationsJson);
