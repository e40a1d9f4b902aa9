namespace Annex.Formats.Import;

/// <summary>What an importer read: the labels (in the order the source lists them) and the items with their annotations.</summary>
public sealed record ImportedDataset(IReadOnlyList<ImportedLabel> Labels, IReadOnlyList<ImportedItem> Items)
{
    /// <summary>Annotations the source holds but Annex cannot store (e.g. COCO RLE masks), each with where and why.</summary>
    public IReadOnlyList<ImportSkip> Skipped { get; init; } = [];
}

/// <summary>A taxonomy label; <c>Skeleton</c> edges number keypoints from 1, as COCO does.</summary>
public sealed record ImportedLabel(
    string Name, string? Color = null, IReadOnlyList<string>? Keypoints = null, IReadOnlyList<int[]>? Skeleton = null);

/// <summary>
/// One item. <c>MediaPath</c> is the image file's path relative to the import root (with '/' separators) when the
/// source has it; <c>MetadataJson</c> is a JSON object's text, e.g. <c>{"split":"val"}</c>.
/// </summary>
public sealed record ImportedItem(
    string RefId, int? Width, int? Height, string MetadataJson, string? MediaPath, IReadOnlyList<ImportedAnnotation> Annotations)
{
    /// <summary>Where the image lives when the source names an external URL instead of a file.</summary>
    public string? MediaUrl { get; init; }
}

/// <summary>
/// One annotation in Annex's schema: <c>Type</c> is one of <see cref="AnnotationTypes"/>, <c>CoordinatesJson</c>
/// the coordinates object in absolute pixels (null for a classification), <c>AttributesJson</c> an object or null.
/// </summary>
public sealed record ImportedAnnotation(string Label, string Type, string? CoordinatesJson, string? AttributesJson = null);

/// <summary>Something the importer left out on purpose: <c>File</c> and, when known, the 1-based <c>Line</c> say where.</summary>
public sealed record ImportSkip(string File, int? Line, string Reason)
{
    public override string ToString() => ImportException.Describe(File, Line, Reason);
}
