using Annex.Server.Tests.Infrastructure;

namespace Annex.Server.Tests.Scale;

/// <summary>The blob store the crash test's processes share, and what a client can see in it.</summary>
public sealed class CrashTestStorage : IAsyncDisposable
{
    private CrashTestStorage(IReadOnlyDictionary<string, string?> settings)
    {
        Settings = settings;
    }

    /// <summary>Server settings that point every process at this store.</summary>
    public IReadOnlyDictionary<string, string?> Settings { get; }

    public static Task<CrashTestStorage> CreateAsync() => Task.FromResult(new CrashTestStorage(new Dictionary<string, string?>()));

    public static Task<byte[]> DownloadAsync(AnnexFactory api, string downloadUrl) => Archives.DownloadAsync(api, downloadUrl);

    /// <summary>The keys a reader can open: published blobs only, never pending ones.</summary>
    public static Task<List<string>> VisibleKeysAsync(AnnexFactory api)
    {
        var root = Path.Combine(api.DataPath, "blobs");
        return Task.FromResult(Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetRelativePath(root, f).Replace('\\', '/'))
            .Order(StringComparer.Ordinal)
            .ToList());
    }

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
