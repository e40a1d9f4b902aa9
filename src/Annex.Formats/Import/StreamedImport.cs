namespace Annex.Formats.Import;

/// <summary>
/// An import source read item by item: what the uploader needs before the first item (the labels, how many items
/// and annotations to expect, the labels the annotations use) and then the items, each with all its annotations,
/// in source order. A reader that streams its file holds only the items not yet handed out, so memory stays flat
/// whatever the size of the source.
/// </summary>
public abstract class StreamedImport : IDisposable
{
    /// <summary>The taxonomy, in source order.</summary>
    public abstract IReadOnlyList<ImportedLabel> Labels { get; }

    /// <summary>The label names that annotations use (a subset of <see cref="Labels"/>' names).</summary>
    public abstract IReadOnlySet<string> UsedLabels { get; }

    /// <summary>How many items <see cref="ReadItems"/> yields.</summary>
    public abstract int ItemCount { get; }

    /// <summary>How many annotations the source holds (before any are skipped), for progress.</summary>
    public abstract long AnnotationCount { get; }

    /// <summary>The items with their annotations, once.</summary>
    public abstract IEnumerable<ImportedItem> ReadItems();

    /// <summary>What was left out; complete once <see cref="ReadItems"/> has been read to its end.</summary>
    public abstract IReadOnlyList<ImportSkip> Skipped { get; }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }

    /// <summary>A source an importer read whole (formats without a streaming reader).</summary>
    public static StreamedImport FromDataset(ImportedDataset dataset) => new Materialized(dataset);

    private sealed class Materialized(ImportedDataset dataset) : StreamedImport
    {
        private readonly HashSet<string> _used = [.. dataset.Items.SelectMany(i => i.Annotations).Select(a => a.Label)];

        public override IReadOnlyList<ImportedLabel> Labels => dataset.Labels;

        public override IReadOnlySet<string> UsedLabels => _used;

        public override int ItemCount => dataset.Items.Count;

        public override long AnnotationCount => dataset.Items.Sum(i => (long)i.Annotations.Count);

        public override IEnumerable<ImportedItem> ReadItems() => dataset.Items;

        public override IReadOnlyList<ImportSkip> Skipped => dataset.Skipped;
    }
}
