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

/// <summary>The answer to a bulk result import: the counts (the client asks for the minimal answer, without the results echoed).</summary>
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
        var body = () => WriteBody("items", items, static (json, item) =>
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
        return PostBulkAsync<ItemsImported>(Url($"datasets/{Segment(datasetUid)}/items/", ("existing", "skip")), body, cancellationToken);
    }

    /// <summary>
    /// Stores up to <see cref="MaxResultsPerRequest"/> results, all or none, leaving an item that already has a
    /// result in the project as it is (<c>?existing=skip</c>), so a resumed import neither duplicates nor overwrites.
    /// </summary>
    public Task<ResultsImported> ImportResultsAsync(Guid projectUid, IReadOnlyList<ImportResult> results, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(results);
        var body = () => WriteBody("results", results, static (json, result) =>
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
        return PostBulkAsync<ResultsImported>(Url($"projects/{Segment(projectUid)}/results/", ("existing", "skip")), body, cancellationToken);
    }

    /// <summary>A body <c>{"name": [...]}</c> written straight to the request stream as it is sent: the annotations'
    /// JSON text goes in without being parsed into objects first, and no copy of the whole body is made.</summary>
    private static JsonRowsContent<T> WriteBody<T>(string name, IReadOnlyList<T> rows, Action<Utf8JsonWriter, T> write) => new(name, rows, write);

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

    /// <summary>Posts a bulk body asking for the minimal answer (<c>Prefer: return=minimal</c>: counts, and for items
    /// each uid and ref_id), and reads that answer as it arrives instead of buffering it first.</summary>
    private async Task<T> PostBulkAsync<T>(Uri url, Func<HttpContent> body, CancellationToken ct)
    {
        using var response = await SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = body() };
                request.Headers.TryAddWithoutValidation(PreferHeader, ReturnMinimal);
                return request;
            },
            HttpCompletionOption.ResponseHeadersRead,
            ct).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync<T>(stream, Json, ct).ConfigureAwait(false)
            ?? throw new AnnexApiException(response.StatusCode, $"The server answered {(int)response.StatusCode} with an empty body.", null, new Dictionary<string, IReadOnlyList<string>>(), null);
    }

    private const string PreferHeader = "Prefer";
    private const string ReturnMinimal = "return=minimal";

    /// <summary>Serialises the rows to the request stream when the request is sent (again for each retry), flushing as it goes.</summary>
    private sealed class JsonRowsContent<T> : HttpContent
    {
        private const int FlushAt = 64 * 1024;
        private readonly string _name;
        private readonly IReadOnlyList<T> _rows;
        private readonly Action<Utf8JsonWriter, T> _write;

        public JsonRowsContent(string name, IReadOnlyList<T> rows, Action<Utf8JsonWriter, T> write)
        {
            _name = name;
            _rows = rows;
            _write = write;
            Headers.ContentType = new MediaTypeHeaderValue("application/json");
        }

        protected override Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context) =>
            SerializeToStreamAsync(stream, context, CancellationToken.None);

        protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context, CancellationToken cancellationToken)
        {
            await using var json = new Utf8JsonWriter(stream);
            json.WriteStartObject();
            json.WriteStartArray(_name);
            foreach (var row in _rows)
            {
                _write(json, row);
                if (json.BytesPending >= FlushAt)
                {
                    await json.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }

            json.WriteEndArray();
            json.WriteEndObject();
            await json.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }
    }
}
