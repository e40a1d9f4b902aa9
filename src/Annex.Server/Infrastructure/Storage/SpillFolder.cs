using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Storage;

/// <summary>
/// This process's folder for the temporary files exports spill to (COCO's arrays, the zip's central directory,
/// the report's list of external media): <c>&lt;data&gt;/tmp/spill/&lt;id&gt;/</c>, owned through
/// <c>&lt;id&gt;.lock</c> beside it, which the process keeps open and locked for as long as it lives. The files
/// delete themselves when closed; a process killed with SIGKILL closes nothing, but the system releases its
/// lock, so <see cref="DeleteOrphans"/> (at start-up and in every retention sweep, of any process on the same
/// data folder) can tell the folders no live process owns and delete them.
/// </summary>
public sealed class SpillFolder : IDisposable
{
    private const string LockExtension = ".lock";

    private readonly FileStream _lock;
    private readonly string _lockPath;

    public SpillFolder(IOptions<StorageOptions> options)
    {
        Root = Path.Combine(Path.GetFullPath(options.Value.DataPath), "tmp", "spill");
        Directory.CreateDirectory(Root);
        // Another process sweeping at the same moment may take a lock file between its creation and its locking;
        // a new name settles it.
        for (var attempt = 1; ; attempt++)
        {
            var id = Guid.NewGuid().ToString("N");
            _lockPath = Path.Combine(Root, id + LockExtension);
            try
            {
                _lock = new FileStream(_lockPath, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None);
                Folder = Path.Combine(Root, id);
                Directory.CreateDirectory(Folder);
                return;
            }
            catch (IOException) when (attempt < 5)
            {
            }
        }
    }

    /// <summary>The folder all spill folders are in.</summary>
    public string Root { get; }

    /// <summary>This process's spill folder.</summary>
    public string Folder { get; }

    /// <summary>Deletes the spill folders (and lock files) of processes that are gone; returns how many files it deleted.</summary>
    public int DeleteOrphans()
    {
        var deleted = 0;
        var ids = new DirectoryInfo(Root).EnumerateFileSystemInfos()
            .Select(entry => entry is FileInfo && entry.Name.EndsWith(LockExtension, StringComparison.Ordinal) ? entry.Name[..^LockExtension.Length] : entry.Name)
            .Distinct(StringComparer.Ordinal)
            .ToList();
        foreach (var id in ids)
        {
            var lockPath = Path.Combine(Root, id + LockExtension);
            if (string.Equals(lockPath, _lockPath, StringComparison.Ordinal))
            {
                continue;
            }

            FileStream held;
            try
            {
                // Succeeds only when no live process holds the lock: its owner is gone.
                held = new FileStream(lockPath, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException)
            {
                continue;
            }
            catch (UnauthorizedAccessException)
            {
                continue;
            }

            using (held)
            {
                var folder = Path.Combine(Root, id);
                if (Directory.Exists(folder))
                {
                    deleted += Directory.EnumerateFiles(folder, "*", SearchOption.AllDirectories).Count();
                    TryDelete(() => Directory.Delete(folder, recursive: true));
                }

                TryDelete(() => File.Delete(lockPath));
            }
        }

        return deleted;
    }

    private static void TryDelete(Action delete)
    {
        try
        {
            delete();
        }
        catch (IOException)
        {
            // Removed by another sweeper meanwhile, or not removable now; the next sweep looks again.
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    public void Dispose()
    {
        TryDelete(() => Directory.Delete(Folder, recursive: true));
        TryDelete(() => File.Delete(_lockPath));
        _lock.Dispose();
    }
}
