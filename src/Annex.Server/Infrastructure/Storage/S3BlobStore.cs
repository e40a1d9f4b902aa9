using System.Net;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Storage;

/// <summary>
/// Blobs as objects in an S3-compatible bucket. A pending blob is a multipart upload to the final key:
/// the writer fills one part-sized buffer at a time, each full buffer is uploaded as the next part, and
/// the object becomes visible only when <see cref="IPendingBlob.PublishAsync"/> completes the upload.
/// Disposing without publishing aborts it; uploads abandoned by a crashed process are aborted by
/// <c>AbandonedUploadSweeper</c>.
/// </summary>
public sealed class S3BlobStore : IBlobStore, IPendingWriteStore, IDisposable
{
    private readonly IAmazonS3 _client;
    private readonly S3StorageOptions _options;
    private readonly bool _http;
    private readonly ILogger<S3BlobStore> _logger;

    public S3BlobStore(IOptions<StorageOptions> options, ILogger<S3BlobStore> logger)
    {
        _options = options.Value.S3;
        _logger = logger;
        _client = CreateClient(_options);
        _http = Uri.TryCreate(_options.ServiceUrl, UriKind.Absolute, out var url) && url.Scheme == Uri.UriSchemeHttp;
    }

    public string Bucket => _options.Bucket!;

    /// <summary>The key prefix every blob of this server lives under ("" when none).</summary>
    public string Prefix => _options.Prefix ?? "";

    public static IAmazonS3 CreateClient(S3StorageOptions options)
    {
        var config = new AmazonS3Config
        {
            ForcePathStyle = options.ForcePathStyle,
            // Checksums only where the protocol requires them: several S3-compatible stores reject the
            // trailing checksums the SDK would otherwise add to every upload.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (string.IsNullOrWhiteSpace(options.ServiceUrl))
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(options.Region);
        }
        else
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region;
        }

        return string.IsNullOrWhiteSpace(options.AccessKey)
            ? new AmazonS3Client(config)
            : new AmazonS3Client(new BasicAWSCredentials(options.AccessKey, options.SecretKey), config);
    }

    public async Task<IPendingBlob> BeginWriteAsync(string key, CancellationToken cancellationToken)
    {
        var objectKey = ObjectKey(key);
        var started = await _client.InitiateMultipartUploadAsync(
            new InitiateMultipartUploadRequest { BucketName = Bucket, Key = objectKey, ContentType = ContentTypeOf(key) },
            cancellationToken);
        return new PendingUpload(this, objectKey, started.UploadId, checked((int)_options.PartSize));
    }

    public async Task<BlobReadHandle?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            var response = await _client.GetObjectAsync(Bucket, ObjectKey(key), cancellationToken);
            return new BlobReadHandle(response.ResponseStream, response.ContentLength, (response.LastModified ?? DateTime.UnixEpoch).ToUniversalTime());
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _client.DeleteObjectAsync(Bucket, ObjectKey(key), cancellationToken);

    public Task CheckAsync(CancellationToken cancellationToken) =>
        _client.ListObjectsV2Async(new ListObjectsV2Request { BucketName = Bucket, Prefix = Prefix, MaxKeys = 1 }, cancellationToken);

    public string? CreateReadUrl(string key, string downloadName, DateTimeOffset expires)
    {
        var request = new GetPreSignedUrlRequest
        {
            BucketName = Bucket,
            Key = ObjectKey(key),
            Verb = HttpVerb.GET,
            Expires = expires.UtcDateTime,
            Protocol = _http ? Protocol.HTTP : Protocol.HTTPS,
        };
        request.ResponseHeaderOverrides.ContentDisposition = $"attachment; filename=\"{downloadName}\"";
        return _client.GetPreSignedURL(request);
    }

    public UploadTarget? CreateUploadTarget(string key, long maxLength, DateTimeOffset expires)
    {
        // A presigned POST policy: the store itself refuses a file of another key or over the length.
        var request = new CreatePresignedPostRequest
        {
            BucketName = Bucket,
            Key = ObjectKey(key),
            Expires = expires.UtcDateTime,
        };
        request.Conditions.Add(S3PostCondition.ContentLengthRange(1, maxLength));
        var response = _client.CreatePresignedPost(request);
        var url = response.Url;
        if (_http && url.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            url = "http://" + url["https://".Length..];
        }

        return new UploadTarget(url, new Dictionary<string, string>(response.Fields, StringComparer.Ordinal));
    }

    public async IAsyncEnumerable<PendingWrite> ListPendingWritesAsync([System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var request = new ListMultipartUploadsRequest { BucketName = Bucket, Prefix = Prefix };
        while (true)
        {
            var page = await _client.ListMultipartUploadsAsync(request, cancellationToken);
            foreach (var upload in page.MultipartUploads ?? [])
            {
                yield return new PendingWrite(upload.Key[Prefix.Length..], upload.UploadId, (upload.Initiated ?? DateTime.UnixEpoch).ToUniversalTime());
            }

            if (page.IsTruncated != true)
            {
                yield break;
            }

            request.KeyMarker = page.NextKeyMarker;
            request.UploadIdMarker = page.NextUploadIdMarker;
        }
    }

    public async Task AbortPendingWriteAsync(PendingWrite write, CancellationToken cancellationToken)
    {
        try
        {
            await _client.AbortMultipartUploadAsync(Bucket, ObjectKey(write.Key), write.Id, cancellationToken);
        }
        catch (AmazonS3Exception ex) when (ex.StatusCode == HttpStatusCode.NotFound)
        {
            // Completed or aborted since it was listed.
        }
    }

    public void Dispose() => _client.Dispose();

    private string ObjectKey(string key)
    {
        // Keys are built by the server, but refuse anything a store might read as a path step.
        if (key.Length == 0 || key.StartsWith('/') || key.Contains("..", StringComparison.Ordinal) || key.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid blob key '{key}'.", nameof(key));
        }

        return Prefix + key;
    }

    private static string ContentTypeOf(string key) =>
        key.EndsWith(".zip", StringComparison.OrdinalIgnoreCase) ? "application/zip" : "application/octet-stream";

    private sealed class PendingUpload(S3BlobStore store, string objectKey, string uploadId, int partSize) : IPendingBlob
    {
        private readonly PartWriter _content = new(store, objectKey, uploadId, partSize);
        private bool _published;

        public Stream Content => _content;

        public async Task<long> PublishAsync(CancellationToken cancellationToken)
        {
            var parts = await _content.FinishAsync(cancellationToken);
            await store._client.CompleteMultipartUploadAsync(
                new CompleteMultipartUploadRequest { BucketName = store.Bucket, Key = objectKey, UploadId = uploadId, PartETags = parts },
                cancellationToken);
            _published = true;
            return _content.Length;
        }

        public async ValueTask DisposeAsync()
        {
            await _content.DisposeAsync();
            if (_published)
            {
                return;
            }

            try
            {
                await store._client.AbortMultipartUploadAsync(store.Bucket, objectKey, uploadId, CancellationToken.None);
            }
            catch (Exception ex) when (ex is AmazonServiceException or HttpRequestException or IOException)
            {
                // The sweeper aborts it later; nothing of it is visible meanwhile.
                store._logger.LogWarning(ex, "Could not abort the upload of {Key}; the sweeper will", objectKey);
            }
        }
    }

    /// <summary>A write-only stream that holds at most one part in memory: when the buffer is full it is
    /// uploaded as the next part before more is accepted.</summary>
    private sealed class PartWriter(S3BlobStore store, string objectKey, string uploadId, int partSize) : Stream
    {
        private readonly MemoryStream _buffer = new(partSize);
        private readonly List<PartETag> _parts = [];
        private long _length;
        private bool _finished;

        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => !_finished;
        public override long Length => _length;

        public override long Position
        {
            get => _length;
            set => throw new NotSupportedException();
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            while (buffer.Length > 0)
            {
                var room = partSize - (int)_buffer.Length;
                if (room <= 0)
                {
                    await UploadPartAsync(cancellationToken);
                    continue;
                }

                var take = Math.Min(room, buffer.Length);
                _buffer.Write(buffer.Span[..take]);
                _length += take;
                buffer = buffer[take..];
            }
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        /// <summary>Zip archives write their headers and trailer synchronously; those small writes are
        /// buffered past the part size, and the part goes out at the next asynchronous write. Only a
        /// writer that never writes asynchronously makes a synchronous upload happen.</summary>
        public override void Write(ReadOnlySpan<byte> buffer)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            _buffer.Write(buffer);
            _length += buffer.Length;
            if (_buffer.Length >= 2L * partSize)
            {
                UploadPartAsync(CancellationToken.None).GetAwaiter().GetResult();
            }
        }

        public override Task FlushAsync(CancellationToken cancellationToken) =>
            _buffer.Length >= partSize ? UploadPartAsync(cancellationToken) : Task.CompletedTask;

        public override void Flush()
        {
        }

        /// <summary>Uploads what is left as the last part (S3 allows the last part to be small) and
        /// returns every part for the completion request.</summary>
        public async Task<List<PartETag>> FinishAsync(CancellationToken cancellationToken)
        {
            ObjectDisposedException.ThrowIf(_finished, this);
            if (_buffer.Length > 0 || _parts.Count == 0)
            {
                await UploadPartAsync(cancellationToken);
            }

            _finished = true;
            return _parts;
        }

        private async Task UploadPartAsync(CancellationToken cancellationToken)
        {
            var partNumber = _parts.Count + 1;
            using var part = new MemoryStream(_buffer.GetBuffer(), 0, (int)_buffer.Length, writable: false);
            var response = await store._client.UploadPartAsync(
                new UploadPartRequest
                {
                    BucketName = store.Bucket,
                    Key = objectKey,
                    UploadId = uploadId,
                    PartNumber = partNumber,
                    PartSize = part.Length,
                    InputStream = part,
                },
                cancellationToken);
            _parts.Add(new PartETag(partNumber, response.ETag));
            _buffer.SetLength(0);
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _finished = true;
                _buffer.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
