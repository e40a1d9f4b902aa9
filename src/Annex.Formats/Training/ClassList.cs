namespace Annex.Formats;

/// <summary>
/// The classes of a training export: the labels of the projects in scope in taxonomy order (project order,
/// then label order). A name that appears again in a later project keeps its first index and definition.
/// </summary>
public sealed class ClassList
{
    private readonly List<LabelRecord> _labels = [];
    private readonly Dictionary<string, int> _indexes = new(StringComparer.Ordinal);

    public ClassList(IEnumerable<IEnumerable<LabelRecord>> taxonomies)
    {
        ArgumentNullException.ThrowIfNull(taxonomies);
        foreach (var taxonomy in taxonomies)
        {
            foreach (var label in taxonomy)
            {
                if (_indexes.TryAdd(label.Name, _labels.Count))
                {
                    _labels.Add(label);
                }
            }
        }
    }

    public int Count => _labels.Count;

    /// <summary>The labels by class index (0-based).</summary>
    public IReadOnlyList<LabelRecord> Labels => _labels;

    public bool TryGetIndex(string name, out int index) => _indexes.TryGetValue(name, out index);
}
