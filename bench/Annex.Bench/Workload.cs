using System.Text.Json;
using System.Text.Json.Serialization;

namespace Annex.Bench;

/// <summary>What a bench data folder holds; written last by <c>generate</c>, so its presence means the
/// workload is complete.</summary>
public sealed record Workload(
    int Tasks,
    int AnnotationsPerTask,
    int DatasetCount,
    IReadOnlyList<Guid> Datasets,
    Guid Project,
    string ApiKey,
    DateTime GeneratedAt,
    double GenerationSeconds,
    long DatabaseBytes)
{
    public const string MarkerFileName = "bench-workload.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string DefaultFolder(int tasks, int annotationsPerTask) =>
        Path.Combine("bench", "data", $"{tasks}-{annotationsPerTask}");

    public bool Matches(int tasks, int annotationsPerTask, int datasets) =>
        Tasks == tasks && AnnotationsPerTask == annotationsPerTask && DatasetCount == datasets;

    public static Workload? TryRead(string folder)
    {
        var path = Path.Combine(folder, MarkerFileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<Workload>(File.ReadAllText(path), Json) : null;
    }

    public void Write(string folder)
    {
        var path = Path.Combine(folder, MarkerFileName);
        File.WriteAllText(path, JsonSerializer.Serialize(this, Json) + "\n");
        if (!OperatingSystem.IsWindows())
        {
            // The file holds an API key.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
