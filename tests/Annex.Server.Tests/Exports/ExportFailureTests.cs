using Annex.Server.Infrastructure.Storage;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>An export that cannot finish says why in words a user can act on, and leaves nothing behind.</summary>
public sealed class ExportFailureTests
{
    private const string DevFull = "/dev/full";

    [SkippableFact]
    public async Task A_full_disk_fails_the_export_with_storage_is_full_and_frees_what_was_written()
    {
        // /dev/full answers every write with ENOSPC, the error a full disk gives.
        Requirements.Require(File.Exists(DevFull), "The Linux device " + DevFull);
        using var factory = new AnnexFactory(services: s => s.AddSingleton<IBlobStore>(sp => new FullDiskBlobStore(sp.GetRequiredService<LocalBlobStore>())));
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 50);

        foreach (var format in new[] { "avala-json-external", "YOLO", "COCO" })
        {
            var export = await tenant.Http.PostOkAsync("/api/v1/exports/", new { name = format, format, datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>() });
            var done = await Seed.WaitForAsync(tenant.Http, export["uid"]!.GetValue<string>(), ["exported", "failed"]);

            Assert.Equal("failed", done["status"]!.GetValue<string>());
            Assert.Equal("Storage is full: the archive could not be written. Free space on the server and create the export again.", done["error"]!.GetValue<string>());
            Assert.Null(done["download_url"]);
        }

        Assert.Empty(Directory.EnumerateFiles(Path.Combine(factory.DataPath, "tmp")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(factory.DataPath, "blobs"), "*", SearchOption.AllDirectories));
    }

    /// <summary>The real local store, except that archive bytes go to a device that is always full.</summary>
    private sealed class FullDiskBlobStore(LocalBlobStore inner) : IBlobStore
    {
        public async Task<IPendingBlob> BeginWriteAsync(string key, CancellationToken cancellationToken) =>
            new FullPendingBlob(await inner.BeginWriteAsync(key, cancellationToken));

        public Task<BlobReadHandle?> OpenReadAsync(string key, CancellationToken cancellationToken) => inner.OpenReadAsync(key, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);

        public string? CreateReadUrl(string key, string downloadName, DateTimeOffset expires) => inner.CreateReadUrl(key, downloadName, expires);

        public Task CheckAsync(CancellationToken cancellationToken) => inner.CheckAsync(cancellationToken);

        private sealed class FullPendingBlob(IPendingBlob inner) : IPendingBlob
        {
            public Stream Content { get; } = new FileStream(DevFull, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, bufferSize: 4096);

            public Task<long> PublishAsync(CancellationToken cancellationToken) => inner.PublishAsync(cancellationToken);

            public async ValueTask DisposeAsync()
            {
                try
                {
                    await Content.DisposeAsync();
                }
                catch (IOException)
                {
                    // Closing flushes what is left, which fails again on a full device.
                }

                await inner.DisposeAsync();
            }
        }
    }
}
