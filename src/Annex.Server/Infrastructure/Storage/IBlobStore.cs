namespace Annex.Server.Infrastructure.Storage;

/// <summary>Where export archives live. Writes go to a pending blob that readers cannot see until it
/// is published under its final key in one step.</summary>
public interface IBlobStore
{
    Task<IPendingBlob> BeginWriteAsync(string key, CancellationToken cancellationToken);

    /// <summary>Opens a published blob for reading, or null when there is none under that key.</summary>
    Task<BlobReadHandle?> OpenReadAsync(string key, CancellationToken cancellationToken);

    Task DeleteAsync(string key, CancellationToken cancellationToken);
}

public interface IPendingBlob : IAsyncDisposable
{
    /// <summary>The stream to write into; write-only, forward-only.</summary>
    Stream Content { get; }

    /// <summary>Makes the written bytes visible under the final key, atomically; returns their size.</summary>
    Task<long> PublishAsync(CancellationToken cancellationToken);
}

public sealed record BlobReadHandle(Stream Content, long Length, DateTime LastModifiedUtc);
