namespace Annex.Server.Infrastructure.Storage;

/// <summary>Where export archives live. Writes go to a pending blob that readers cannot see until it
/// is published under its final key in one step.</summary>
public interface IBlobStore
{
    Task<IPendingBlob> BeginWriteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Opens a published blob for reading, or null when there is none under that key.</summary>
    Task<BlobReadHandle?> OpenReadAsync(string key, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>A URL that downloads a published blob straight from the store, without the server, until
    /// <paramref name="expires"/>; null when the store has no such URLs and the server serves the bytes.</summary>
    string? CreateReadUrl(string key, string downloadName, DateTimeOffset expires);

    /// <summary>False when <see cref="CreateReadUrl"/> always answers null, so callers need not prepare its arguments.</summary>
    bool HasReadUrls => true;

    /// <summary>A form a client POSTs a file of at most <paramref name="maxLength"/> bytes to, straight into the
    /// store under <paramref name="key"/>, until <paramref name="expires"/>; null when the store has no such
    /// forms and the server receives the bytes itself.</summary>
    UploadTarget? CreateUploadTarget(string key, long maxLength, DateTimeOffset expires) => null;

    /// <summary>Throws when the store cannot be reached or written to (for the readiness check).</summary>
    Task CheckAsync(CancellationToken cancellationToken);
}

public interface IPendingBlob : IAsyncDisposable
{
    /// <summary>The stream to write into; write-only, forward-only.</summary>
    Stream Content { get; }

    /// <summary>Makes the written bytes visible under the final key, atomically; returns their size.</summary>
    Task<long> PublishAsync(CancellationToken cancellationToken);
}

/// <summary>Where a browser-style form upload goes: the URL and the form fields to send before the file.</summary>
public sealed record UploadTarget(string Url, IReadOnlyDictionary<string, string> Fields);

public sealed record BlobReadHandle(Stream Content, long Length, DateTime LastModifiedUtc);

/// <summary>A store whose unpublished writes outlive a crashed writer (S3 multipart uploads) and must
/// be aborted by someone else.</summary>
public interface IPendingWriteStore
{
    /// <summary>Writes begun and neither published nor aborted, by any process.</summary>
    IAsyncEnumerable<PendingWrite> ListPendingWritesAsync(CancellationToken cancellationToken);

    /// <summary>Throws its parts away; a write that was published or aborted meanwhile is left as it is.</summary>
    Task AbortPendingWriteAsync(PendingWrite write, CancellationToken cancellationToken);
}

/// <summary>An unpublished write: its blob key, the store's id for it, and when the store says it began.</summary>
public sealed record PendingWrite(string Key, string Id, DateTime StartedUtc);
