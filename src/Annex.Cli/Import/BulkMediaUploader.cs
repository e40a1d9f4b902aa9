using Annex.Client;

namespace Annex.Cli.Import;

/// <summary>Uploads images in bulk requests (<c>POST /datasets/{uid}/items/media/</c>), several at once, so a
/// folder of images costs the rate limit one request per batch rather than one per image.</summary>
public sealed class BulkMediaUploader
{
    public const int DefaultFilesPerRequest = 100;
    public const long DefaultBytesPerRequest = 64L * 1024 * 1024;
    public const int DefaultRequestsInFlight = 4;

    private readonly AnnexClient _client;
    private readonly int _filesPerRequest;
    private readonly long _bytesPerRequest;
    private readonly int _requestsInFlight;

    /// <param name="client">The server to upload to.</param>
    /// <param name="filesPerRequest">Images per request at most (the server takes up to
    /// <see cref="AnnexClient.MaxFilesPerBulkUpload"/> by default).</param>
    /// <param name="bytesPerRequest">Bytes per request at most; a larger image goes in a request of its own.</param>
    /// <param name="requestsInFlight">Requests sent at once.</param>
    public BulkMediaUploader(
        AnnexClient client, int filesPerRequest = DefaultFilesPerRequest, long bytesPerRequest = DefaultBytesPerRequest, int requestsInFlight = DefaultRequestsInFlight)
    {
        ArgumentNullException.ThrowIfNull(client);
        ArgumentOutOfRangeException.ThrowIfLessThan(filesPerRequest, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(filesPerRequest, AnnexClient.MaxFilesPerBulkUpload);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytesPerRequest, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsInFlight, 1);
        _client = client;
        _filesPerRequest = filesPerRequest;
        _bytesPerRequest = bytesPerRequest;
        _requestsInFlight = requestsInFlight;
    }

    /// <summary>Uploads every file; reports the number uploaded so far after each request. Returns the total.</summary>
    public async Task<int> UploadAsync(Guid datasetUid, IEnumerable<MediaFile> files, IProgress<int>? uploaded = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        var done = 0;
        await Parallel.ForEachAsync(
            Batches(files),
            new ParallelOptions { MaxDegreeOfParallelism = _requestsInFlight, CancellationToken = cancellationToken },
            async (batch, token) =>
            {
                var stored = await _client.UploadItemMediaBulkAsync(datasetUid, batch, token);
                uploaded?.Report(Interlocked.Add(ref done, stored.Uploaded));
            });
        return done;
    }

    /// <summary>Consecutive files, up to the file and byte budgets per request; read lazily, so only the
    /// batches in flight are held.</summary>
    internal IEnumerable<List<MediaFile>> Batches(IEnumerable<MediaFile> files)
    {
        var batch = new List<MediaFile>();
        long bytes = 0;
        foreach (var file in files)
        {
            var length = new FileInfo(file.Path).Length;
            if (batch.Count > 0 && (batch.Count == _filesPerRequest || bytes + length > _bytesPerRequest))
            {
                yield return batch;
                batch = [];
                bytes = 0;
            }

            batch.Add(file);
            bytes += length;
        }

        if (batch.Count > 0)
        {
            yield return batch;
        }
    }
}
