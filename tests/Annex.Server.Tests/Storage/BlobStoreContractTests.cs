using System.Security.Cryptography;
using Annex.Server.Infrastructure.Storage;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Xunit;

namespace Annex.Server.Tests.Storage;

/// <summary>What every blob store must do, run against each store: nothing is visible before publish,
/// an unpublished write leaves nothing behind, and what was published reads back byte for byte.</summary>
public abstract class BlobStoreContractTests : IAsyncLifetime
{
    private IBlobStore? _store;

    /// <summary>The store under test; skips the test when the store's server cannot run here.</summary>
    protected IBlobStore Store
    {
        get
        {
            RequirePrograms();
            return _store ?? throw new InvalidOperationException("The store could not be created.");
        }
    }

    protected virtual void RequirePrograms()
    {
    }

    /// <summary>The store, or null when what it needs is not installed (the test then skips).</summary>
    protected abstract Task<IBlobStore?> CreateStoreAsync();

    /// <summary>Everything the store holds besides published blobs: temporary files, open uploads.</summary>
    protected abstract Task<IReadOnlyList<string>> LeftoversAsync();

    /// <summary>Every published key.</summary>
    protected abstract Task<IReadOnlyList<string>> PublishedKeysAsync();

    public async Task InitializeAsync() => _store = await CreateStoreAsync();

    public virtual Task DisposeAsync()
    {
        (_store as IDisposable)?.Dispose();
        return Task.CompletedTask;
    }

    [SkippableFact]
    public async Task Published_bytes_read_back_and_delete_removes_them()
    {
        var bytes = RandomNumberGenerator.GetBytes(100_000);
        await using (var pending = await Store.BeginWriteAsync("exports/a.zip", CancellationToken.None))
        {
            await pending.Content.WriteAsync(bytes);
            Assert.Equal(bytes.Length, await pending.PublishAsync(CancellationToken.None));
        }

        Assert.Equal(bytes, await ReadAsync("exports/a.zip"));
        Assert.Equal(["exports/a.zip"], await PublishedKeysAsync());
        Assert.Empty(await LeftoversAsync());

        await Store.DeleteAsync("exports/a.zip", CancellationToken.None);
        Assert.Null(await Store.OpenReadAsync("exports/a.zip", CancellationToken.None));
        Assert.Empty(await PublishedKeysAsync());
    }

    [SkippableFact]
    public async Task Nothing_is_visible_before_publish()
    {
        await using var pending = await Store.BeginWriteAsync("exports/b.zip", CancellationToken.None);
        await pending.Content.WriteAsync(RandomNumberGenerator.GetBytes(6 * 1024 * 1024));
        Assert.Null(await Store.OpenReadAsync("exports/b.zip", CancellationToken.None));
        Assert.Empty(await PublishedKeysAsync());

        await pending.PublishAsync(CancellationToken.None);
        Assert.NotNull(await ReadAsync("exports/b.zip"));
    }

    [SkippableFact]
    public async Task A_write_disposed_without_publish_leaves_nothing()
    {
        await using (var pending = await Store.BeginWriteAsync("exports/c.zip", CancellationToken.None))
        {
            // More than one part, so a multipart store has uploaded parts to throw away.
            await pending.Content.WriteAsync(RandomNumberGenerator.GetBytes(11 * 1024 * 1024));
        }

        Assert.Null(await Store.OpenReadAsync("exports/c.zip", CancellationToken.None));
        Assert.Empty(await PublishedKeysAsync());
        Assert.Empty(await LeftoversAsync());
    }

    [SkippableFact]
    public async Task A_large_object_written_in_uneven_pieces_reads_back_whole()
    {
        // Over four 5 MiB parts, in writes of every size, synchronous and asynchronous, as a zip writer mixes them.
        var bytes = RandomNumberGenerator.GetBytes(21 * 1024 * 1024 + 12_345);
        await using (var pending = await Store.BeginWriteAsync("exports/large.zip", CancellationToken.None))
        {
            var offset = 0;
            var piece = 1;
            while (offset < bytes.Length)
            {
                var count = Math.Min(bytes.Length - offset, piece);
                if (piece % 3 == 0)
                {
                    pending.Content.Write(bytes, offset, count);
                }
                else
                {
                    await pending.Content.WriteAsync(bytes.AsMemory(offset, count));
                }

                offset += count;
                piece = piece * 7 % 3_000_001;
            }

            Assert.Equal(bytes.Length, await pending.PublishAsync(CancellationToken.None));
        }

        var read = await ReadAsync("exports/large.zip");
        Assert.Equal(SHA256.HashData(bytes), SHA256.HashData(read!));
        Assert.Empty(await LeftoversAsync());
    }

    [SkippableFact]
    public async Task An_empty_blob_can_be_published()
    {
        await using (var pending = await Store.BeginWriteAsync("exports/empty.zip", CancellationToken.None))
        {
            Assert.Equal(0, await pending.PublishAsync(CancellationToken.None));
        }

        var read = await ReadAsync("exports/empty.zip");
        Assert.NotNull(read);
        Assert.Empty(read);
    }

    [SkippableFact]
    public async Task Reading_or_deleting_a_missing_key_is_not_an_error()
    {
        Assert.Null(await Store.OpenReadAsync("exports/missing.zip", CancellationToken.None));
        await Store.DeleteAsync("exports/missing.zip", CancellationToken.None);
    }

    [SkippableFact]
    public async Task Keys_that_could_leave_the_store_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.BeginWriteAsync("../escape.zip", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync("/rooted.zip", CancellationToken.None));
    }

    private async Task<byte[]?> ReadAsync(string key)
    {
        var blob = await Store.OpenReadAsync(key, CancellationToken.None);
        if (blob is null)
        {
            return null;
        }

        await using var content = blob.Content;
        using var copy = new MemoryStream();
        await content.CopyToAsync(copy);
        Assert.Equal(blob.Length, copy.Length);
        return copy.ToArray();
    }
}

public sealed class LocalBlobStoreContractTests : BlobStoreContractTests
{
    private readonly string _dataPath = AnnexFactory.NewDataPath();

    protected override Task<IBlobStore?> CreateStoreAsync() =>
        Task.FromResult<IBlobStore?>(new LocalBlobStore(Options.Create(new StorageOptions { DataPath = _dataPath })));

    protected override Task<IReadOnlyList<string>> LeftoversAsync() =>
        Task.FromResult<IReadOnlyList<string>>(Directory.GetFiles(Path.Combine(_dataPath, "tmp")));

    protected override Task<IReadOnlyList<string>> PublishedKeysAsync()
    {
        var root = Path.Combine(_dataPath, "blobs");
        return Task.FromResult<IReadOnlyList<string>>([.. Directory.GetFiles(root, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))]);
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        AnnexFactory.TryDelete(_dataPath);
    }
}

public sealed class S3BlobStoreContractTests : BlobStoreContractTests
{
    private TestBucket? _bucket;

    protected override async Task<IBlobStore?> CreateStoreAsync()
    {
        if (MotoServer.FindProgram() is null)
        {
            // Reported by each test as a skip (or a failure in CI) when it touches the store.
            return null;
        }

        _bucket = await MotoServer.CreateBucketAsync(prefix: "tenant-a/");
        return new S3BlobStore(Options.Create(new StorageOptions { Provider = StorageProviders.S3, S3 = _bucket.Options }), NullLogger<S3BlobStore>.Instance);
    }

    protected override void RequirePrograms() => MotoServer.Require();

    private TestBucket Bucket
    {
        get
        {
            RequirePrograms();
            return _bucket!;
        }
    }

    protected override async Task<IReadOnlyList<string>> LeftoversAsync()
    {
        var uploads = await Bucket.OpenUploadsAsync();
        var strays = (await Bucket.KeysAsync()).Where(k => !k.StartsWith("tenant-a/", StringComparison.Ordinal));
        return [.. uploads.Select(u => "upload of " + u.Key), .. strays];
    }

    protected override async Task<IReadOnlyList<string>> PublishedKeysAsync() =>
        [.. (await Bucket.KeysAsync()).Select(k => k["tenant-a/".Length..])];

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _bucket?.Dispose();
    }
}
