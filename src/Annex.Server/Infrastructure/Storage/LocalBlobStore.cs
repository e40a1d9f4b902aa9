using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Storage;

/// <summary>Blobs as files under the data folder; a pending blob is a temporary file in the same
/// file system, so publishing is a rename.</summary>
public sealed class LocalBlobStore : IBlobStore
{
    private readonly string _root;
    private readonly string _temp;

    public LocalBlobStore(IOptions<StorageOptions> options)
    {
        _root = Path.Combine(options.Value.DataPath, "blobs");
        _temp = Path.Combine(options.Value.DataPath, "tmp");
        Directory.CreateDirectory(_root);
        Directory.CreateDirectory(_temp);
    }

    public Task<IPendingBlob> BeginWriteAsync(string key, CancellationToken cancellationToken)
    {
        var finalPath = PathOf(key);
        var tempPath = Path.Combine(_temp, $"{Guid.NewGuid():N}.partial");
        var stream = new FileStream(tempPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16, FileOptions.Asynchronous);
        return Task.FromResult<IPendingBlob>(new PendingFile(stream, tempPath, finalPath));
    }

    public Task<BlobReadHandle?> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        var path = PathOf(key);
        if (!File.Exists(path))
        {
            return Task.FromResult<BlobReadHandle?>(null);
        }

        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 1 << 16, FileOptions.Asynchronous);
            return Task.FromResult<BlobReadHandle?>(new BlobReadHandle(stream, stream.Length, File.GetLastWriteTimeUtc(path)));
        }
        catch (FileNotFoundException)
        {
            return Task.FromResult<BlobReadHandle?>(null);
        }
    }

    public Task DeleteAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            File.Delete(PathOf(key));
        }
        catch (DirectoryNotFoundException)
        {
            // Nothing was ever published under that folder: already deleted.
        }

        return Task.CompletedTask;
    }

    public string? CreateReadUrl(string key, string downloadName, DateTimeOffset expires) => null;

    public bool HasReadUrls => false;

    public async Task CheckAsync(CancellationToken cancellationToken)
    {
        // A full or read-only disk shows up here, not only at the next export.
        var probe = Path.Combine(_temp, $"{Guid.NewGuid():N}.probe");
        await File.WriteAllBytesAsync(probe, [1], cancellationToken);
        File.Delete(probe);
        if (!Directory.Exists(_root))
        {
            throw new DirectoryNotFoundException("The blob folder is missing.");
        }
    }

    /// <summary>Deletes temporary archive files not written to since <paramref name="olderThanUtc"/>: those
    /// of processes that died while writing. Returns how many it deleted.</summary>
    public int DeleteStalePendingFiles(DateTime olderThanUtc)
    {
        var deleted = 0;
        foreach (var file in new DirectoryInfo(_temp).EnumerateFiles("*.partial"))
        {
            if (file.LastWriteTimeUtc >= olderThanUtc)
            {
                continue;
            }

            try
            {
                file.Delete();
                deleted++;
            }
            catch (IOException)
            {
                // Taken or removed by someone else meanwhile; the next sweep looks again.
            }
        }

        return deleted;
    }

    private string PathOf(string key)
    {
        // Keys are built by the server, but refuse anything that could leave the blob folder.
        if (key.Length == 0 || key.Contains("..", StringComparison.Ordinal) || Path.IsPathRooted(key) || key.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"Invalid blob key '{key}'.", nameof(key));
        }

        return Path.Combine(_root, key);
    }

    private sealed class PendingFile(FileStream stream, string tempPath, string finalPath) : IPendingBlob
    {
        private bool _published;

        public Stream Content => stream;

        public async Task<long> PublishAsync(CancellationToken cancellationToken)
        {
            await stream.FlushAsync(cancellationToken);
            stream.Flush(flushToDisk: true);
            var length = stream.Length;
            await stream.DisposeAsync();
            Directory.CreateDirectory(Path.GetDirectoryName(finalPath)!);
            File.Move(tempPath, finalPath, overwrite: true);
            _published = true;
            return length;
        }

        public async ValueTask DisposeAsync()
        {
            await stream.DisposeAsync();
            if (!_published)
            {
                File.Delete(tempPath);
            }
        }
    }
}
