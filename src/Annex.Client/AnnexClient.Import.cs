using System.Net.Http.Headers;
using System.Text.Json;

namespace Annex.Client;

/// <summary>An item for a bulk import; <paramref name="MetadataJson"/> is a JSON object's text (or null), sent as it is.</summary>
public sealed record ImportItem(string RefId, int? Width = null, int? Height = null, string? MetadataJson = null, string? MediaUrl = null);

/// <summary>An annotation for a bulk import, its coordinates and attributes already JSON text (null when absent).</summary>
public sealed record ImportAnnotation(string Label, string Type, string? CoordinatesJson = null, string? AttributesJson = null);

/// <summary>The annotations of one item for a bulk import.</summary>
public sealed record ImportResult(Guid DatasetItemUid, IReadOnlyList<ImportAnnotation> Annotations);

/// <summary>Where an imported item is: its uid for its ref_id.</summary>
public sealed record ImportedItemUid(Guid Uid, string RefId);

/// <summary>The answer to a bulk item import: new items, items already there, and every element's uid in request order.</summary>
public sealed record ItemsImported(int Count, int Skipped, IReadOnlyList<ImportedItemUid> Items);

/// <summary>The answer to a bulk result import (the echoed results are not read).</summary>
public sealed record ResultsImported(int Created, int Updated, int Skipped);

public sealed partial class AnnexClient
{
    /// <summary>
    /// Creates up to <see cref="MaxItemsPerRequest"/> items, all or none, skipping those whose ref_id the dataset
    /// already has (<c>?existing=skip</c>): sending a batch again, as a resumed import does, never duplicates.
    /// Answers every element's uid, new or stored.
    /// </summary>
    public Task<ItemsImported> ImportItemsAsync(Guid datasetUid, IReadOnlyList<ImportItem> items, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(items);
        var body = WriteBody("items", items, static (json, item) =>
        {
            json.WriteStartObject();
            json.WriteString("ref_id", item.RefId);
            WriteNumberOrNull(json, "width", item.Width);
            WriteNumberOrNull(json, "height", item.Height);
            json.WritePropertyName("metadata");
            WriteRawOrNull(json, item.MetadataJson);
            if (item.MediaUrl is not null)
            {
                json.WriteString("media_url", item.MediaUrl);
            }

            json.WriteEndObject();
        });
        return PostBytesAsync<ItemsImported>(Url($"datasets/{Segment(datasetUid)}/items/", ("existing", "skip")), body, cancellationToken);
    }

    /// <summary>
    /// Stores up to <see cref="MaxResultsPerRequest"/> results, all or none, leaving an item that already has a
    /// result in the project as it is (<c>?existing=skip</c>), so a resumed import neither duplicates nor overwrites.
    /// </summary>
    public Task<ResultsImported> ImportResultsAsync(Guid projectUid, IReadOnlyList<ImportResult> results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(results);
        var body = WriteBody("results", results, static (json, result) =>
        {
            json.WriteStartObject();
            json.WriteString("dataset_item_uid", result.DatasetItemUid);
            json.WriteStartArray("annotations");
            foreach (var annotation in result.Annotations)
            {
                json.WriteStartObject();
                json.WriteString("label", annotation.Label);
                json.WriteString("type", annotation.Type);
                if (annotation.CoordinatesJson is not null)
                {
                    json.WritePropertyName("coordinates");
                    json.WriteRawValue(annotation.CoordinatesJson, skipInputValidation: false);
                }

                if (annotation.AttributesJson is not null)
                {
                    json.WritePropertyName("attributes");
                    json.WriteRawValue(annotation.AttributesJson, skipInputValidation: false);
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteEndObject();
        });
        return PostBytesAsync<ResultsImported>(Url($"projects/{Segment(projectUid)}/results/", ("existing", "skip")), body, cancellationToken);
    }

    /// <summary>Writes <c>{"name": [...]}</c> straight to UTF-8: the annotations' JSON text goes in without being parsed into objects first.</summary>
    private static byte[] WriteBody<T>(string name, IReadOnlyList<T> rows, Action<Utf8JsonWriter, T> write)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteStartArray(name);
            foreach (var row in rows)
            {
                write(json, row);
            }

            json.WriteEndArray();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    private static void WriteNumberOrNull(Utf8JsonWriter json, string name, int? value)
    {
        if (value is { } number)
        {
            json.WriteNumber(name, number);
        }
        else
        {
            json.WriteNull(name);
        }
    }

    private static void WriteRawOrNull(Utf8JsonWriter json, string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            json.WriteNullValue();
        }
        else
        {
            json.WriteRawValue(text, skipInputValidation: false);
        }
    }

    private async Task<T> PostBytesAsync<T>(Uri url, byte[] body, CancellationToken ct) =>
        await SendJsonAsync<T>(
            () => new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = new ByteArrayContent(body) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            },
            ct).ConfigureAwait(false);
}
