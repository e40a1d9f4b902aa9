namespace Annex.Server.Features.Exports.Formats;

/// <summary>One export format: streams the export's rows into an archive.</summary>
public interface IExportFormat
{
    /// <summary>The value clients send as <c>format</c>.</summary>
    string Name { get; }

    /// <summary>One line saying what the format is for.</summary>
    string Description { get; }

    /// <summary>The annotation types (see <see cref="Annex.Formats.AnnotationTypes"/>) the format carries;
    /// others are left out and counted in the archive's report.</summary>
    IReadOnlyList<string> AnnotationTypes { get; }

    /// <summary>Writes the whole archive to <paramref name="output"/>, advancing <paramref name="progress"/>
    /// by one per task (result) written. Reads rows from <paramref name="source"/> batch by batch.</summary>
    Task WriteAsync(ExportJob job, ExportSource source, Stream output, ExportProgress progress, CancellationToken cancellationToken);
}

/// <summary>Counts tasks written; read by the heartbeat that publishes <c>exported_task_count</c>.</summary>
public sealed class ExportProgress
{
    private long _tasks;

    public long Tasks => Interlocked.Read(ref _tasks);

    public void Add(long tasks) => Interlocked.Add(ref _tasks, tasks);
}

public sealed class ExportFormatRegistry(IEnumerable<IExportFormat> formats)
{
    private readonly List<IExportFormat> _all = [.. formats];
    private readonly Dictionary<string, IExportFormat> _formats = formats.ToDictionary(f => f.Name, StringComparer.Ordinal);

    public IReadOnlyCollection<string> Names => _formats.Keys;

    /// <summary>Every format, in the order they were registered.</summary>
    public IReadOnlyList<IExportFormat> All => _all;

    public IExportFormat Get(string name) => _formats.TryGetValue(name, out var format)
        ? format
        : throw new ExportFailedException($"The format \"{name}\" is not supported by this server.");
}

/// <summary>An export failure with a message fit to show the user as the export's <c>error</c>.</summary>
public sealed class ExportFailedException(string message) : Exception(message);
