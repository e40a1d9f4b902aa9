using System.Runtime.CompilerServices;
using System.Text.Json;

namespace Annex.Formats;

/// <summary>
/// Streams an "Avala Grouped JSON" (avala-json-external) document. Memory stays flat as long as the caller
/// awaits <see cref="FlushIfNeededAsync"/> regularly; calls must follow the document order:
/// BeginDatasets, (BeginDataset, WriteItem*, EndDataset)*, EndDatasets, WriteProjects,
/// BeginResults, WriteResult*, EndResults, CompleteAsync.
/// </summary>
public sealed class AvalaJsonWriter : IAsyncDisposable
{
    public const string SchemeVersion = "1.0";

    private const int FlushThresholdBytes = 64 * 1024;

    private readonly Utf8JsonWriter _json;
    private readonly ExportInfo _info;
    private State _state = State.NotStarted;
    private bool _disposed;

    public AvalaJsonWriter(Stream output, ExportInfo info)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(info);
        // Validate now so a bad timestamp fails at construction rather than halfway through an export.
        _ = Iso8601.Format(info.CreatedAtUtc);
        _info = info;
        _json = new Utf8JsonWriter(output, new JsonWriterOptions { Indented = false });
    }

    private enum State
    {
        NotStarted,
        InDatasets,
        InDataset,
        AfterDatasets,
        AfterProjects,
        InResults,
        Complete,
    }

    public void BeginDatasets()
    {
        Expect(State.NotStarted);
        _json.WriteStartObject();
        _json.WriteString("scheme_version", SchemeVersion);
        _json.WriteStartObject("export_info");
        _json.WriteString("name", _info.Name);
        _json.WriteString("created_at", Iso8601.Format(_info.CreatedAtUtc));
        _json.WriteString("format", _info.Format);
        _json.WriteString("filter_query_string", _info.FilterQueryString);
        _json.WriteEndObject();
        _json.WriteStartArray("datasets");
        _state = State.InDatasets;
    }

    public void BeginDataset(DatasetHeader dataset)
    {
        ArgumentNullException.ThrowIfNull(dataset);
        Expect(State.InDatasets);
        _json.WriteStartObject();
        _json.WriteString("uid", dataset.Uid);
        _json.WriteString("name", dataset.Name);
        _json.WriteStartArray("items");
        _state = State.InDataset;
    }

    public void WriteItem(ItemRecord item)
    {
        ArgumentNullException.ThrowIfNull(item);
        ArgumentException.ThrowIfNullOrWhiteSpace(item.MetadataJson, nameof(item));
        Expect(State.InDataset);
        _json.WriteStartObject();
        _json.WriteString("uid", item.Uid);
        _json.WriteString("ref_id", item.RefId);
        _json.WritePropertyName("metadata");
        // The server stores metadata already canonical; re-validating every item would dominate export time.
        _json.WriteRawValue(item.MetadataJson, skipInputValidation: true);
        WriteNullableNumber("width", item.Width);
        WriteNullableNumber("height", item.Height);
        _json.WriteString("media_url", item.MediaUrl);
        _json.WriteEndObject();
    }

    public void EndDataset()
    {
        Expect(State.InDataset);
        _json.WriteEndArray();
        _json.WriteEndObject();
        _state = State.InDatasets;
    }

    public void EndDatasets()
    {
        Expect(State.InDatasets);
        _json.WriteEndArray();
        _state = State.AfterDatasets;
    }

    /// <summary>Writes the whole "projects" array; projects are few, so they are not streamed.</summary>
    public void WriteProjects(IEnumerable<ProjectRecord> projects)
    {
        ArgumentNullException.ThrowIfNull(projects);
        Expect(State.AfterDatasets);
        // Check everything first so a bad record throws before any of the array is written.
        var list = projects.ToList();
        foreach (var project in list)
        {
            Validate(project);
        }

        _json.WriteStartArray("projects");
        foreach (var project in list)
        {
            WriteProject(project);
        }

        _json.WriteEndArray();
        _state = State.AfterProjects;
    }

    public void BeginResults()
    {
        Expect(State.AfterProjects);
        _json.WriteStartArray("results");
        _state = State.InResults;
    }

    public void WriteResult(ResultRecord result)
    {
        ArgumentNullException.ThrowIfNull(result);
        ArgumentException.ThrowIfNullOrWhiteSpace(result.AnnotationsJson, nameof(result));
        Expect(State.InResults);
        _json.WriteStartObject();
        _json.WriteString("uid", result.Uid);
        _json.WriteString("dataset_item_uid", result.DatasetItemUid);
        _json.WriteString("project_uid", result.ProjectUid);
        _json.WritePropertyName("annotations");
        // Annotations were canonicalised by AnnotationValidator when stored.
        _json.WriteRawValue(result.AnnotationsJson, skipInputValidation: true);
        _json.WriteEndObject();
    }

    /// <summary>Closes the "results" array and the root object.</summary>
    public void EndResults() => EndResults(null);

    /// <summary>Closes the "results" array, writes <c>"removed": {"items": [...], "results": [...]}</c> when
    /// <paramref name="removed"/> is given (a delta export: what its base had and it no longer has), and closes
    /// the root object.</summary>
    public void EndResults(RemovedRecord? removed)
    {
        Expect(State.InResults);
        _json.WriteEndArray();
        if (removed is not null)
        {
            _json.WritePropertyName("removed");
            removed.Write(_json);
        }

        _json.WriteEndObject();
        _state = State.Complete;
    }

    /// <summary>Flushes buffered output to the stream once more than about 64 KiB is pending.</summary>
    public ValueTask FlushIfNeededAsync(CancellationToken ct)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _json.BytesPending > FlushThresholdBytes ? new ValueTask(_json.FlushAsync(ct)) : ValueTask.CompletedTask;
    }

    /// <summary>Flushes everything; throws <see cref="InvalidOperationException"/> unless <see cref="EndResults(RemovedRecord?)"/> was called.</summary>
    public ValueTask CompleteAsync(CancellationToken ct)
    {
        Expect(State.Complete);
        return new ValueTask(_json.FlushAsync(ct));
    }

    /// <summary>Releases the JSON writer; the output stream stays open and belongs to the caller.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        await _json.DisposeAsync().ConfigureAwait(false);
    }

    private static void Validate(ProjectRecord project)
    {
        ArgumentNullException.ThrowIfNull(project);
        ArgumentNullException.ThrowIfNull(project.Labels, nameof(project));
        foreach (var label in project.Labels)
        {
            ArgumentNullException.ThrowIfNull(label, nameof(project));
            if (label.Skeleton?.Any(edge => edge is not { Length: 2 }) == true)
            {
                throw new ArgumentException(
                    $"Label \"{label.Name}\" has a skeleton edge that is not a pair of keypoint indexes.",
                    nameof(project));
            }
        }
    }

    private void WriteProject(ProjectRecord project)
    {
        _json.WriteStartObject();
        _json.WriteString("uid", project.Uid);
        _json.WriteString("name", project.Name);
        _json.WriteStartArray("labels");
        foreach (var label in project.Labels)
        {
            WriteLabel(label);
        }

        _json.WriteEndArray();
        _json.WriteEndObject();
    }

    private void WriteLabel(LabelRecord label)
    {
        _json.WriteStartObject();
        _json.WriteString("name", label.Name);
        _json.WriteString("color", label.Color);
        if (label.AttributesJson is not null)
        {
            _json.WritePropertyName("attributes");
            // Labels are few, so validating their raw JSON costs nothing and keeps a bad row from corrupting the export.
            _json.WriteRawValue(label.AttributesJson);
        }

        if (label.Keypoints is not null)
        {
            _json.WriteStartArray("keypoints");
            foreach (var keypoint in label.Keypoints)
            {
                _json.WriteStringValue(keypoint);
            }

            _json.WriteEndArray();
        }

        if (label.Skeleton is not null)
        {
            _json.WriteStartArray("skeleton");
            foreach (var edge in label.Skeleton)
            {
                _json.WriteStartArray();
                _json.WriteNumberValue(edge[0]);
                _json.WriteNumberValue(edge[1]);
                _json.WriteEndArray();
            }

            _json.WriteEndArray();
        }

        _json.WriteEndObject();
    }

    private void WriteNullableNumber(string name, int? value)
    {
        if (value is { } number)
        {
            _json.WriteNumber(name, number);
        }
        else
        {
            _json.WriteNull(name);
        }
    }

    private void Expect(State expected, [CallerMemberName] string caller = "")
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (_state != expected)
        {
            throw new InvalidOperationException(
                $"{caller} cannot be called in state {_state}; it requires state {expected}.");
        }
    }
}
