namespace Annex.Formats.Import;

/// <summary>
/// Keeps a folder import inside its folder: every file an importer reads or hands on for upload is checked here
/// first, so a name in the data (an absolute path, a "..") or a symbolic link cannot make it read a file elsewhere
/// on the machine.
/// </summary>
public static class ImportPaths
{
    private const int MaxLinks = 40;

    /// <summary>Whether <paramref name="name"/> (as a dataset file names an image) is an absolute path or has a
    /// <c>..</c> segment; either could reach outside the folder, so an import refuses it.</summary>
    public static bool LeavesFolder(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var normalized = name.Replace('\\', '/');
        return normalized.StartsWith('/') || Path.IsPathRooted(name) || (normalized.Length >= 2 && normalized[1] == ':')
            || normalized.Split('/').Contains("..");
    }

    /// <summary>Throws <see cref="ImportException"/> naming <paramref name="relative"/> unless that path ('/'
    /// between folders, relative to <paramref name="folder"/>) stays inside the folder with every symbolic link
    /// on the way followed.</summary>
    public static void RequireInside(string folder, string relative)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        ArgumentException.ThrowIfNullOrEmpty(relative);
        if (LeavesFolder(relative))
        {
            throw new ImportException(relative, null, "the path leads out of the import folder (an absolute path or \"..\"); an import reads only files inside its folder");
        }

        var root = RealPath(folder);
        var target = RealPath(Path.Combine(folder, relative.Replace('/', Path.DirectorySeparatorChar)));
        var prefix = root.EndsWith(Path.DirectorySeparatorChar) ? root : root + Path.DirectorySeparatorChar;
        if (!target.StartsWith(prefix, StringComparison.Ordinal))
        {
            throw new ImportException(relative, null, $"a symbolic link to {target}, outside the import folder; an import reads only files inside its folder");
        }
    }

    /// <summary>The path with every symbolic link resolved, component by component, as the system would follow it.</summary>
    internal static string RealPath(string path)
    {
        var absolute = Path.IsPathRooted(path) ? path : Path.Combine(Directory.GetCurrentDirectory(), path);
        var current = Path.GetPathRoot(absolute)!;
        var pending = new Stack<string>();
        Push(pending, absolute[current.Length..]);
        var links = 0;
        while (pending.Count > 0)
        {
            var part = pending.Pop();
            if (part is "" or ".")
            {
                continue;
            }

            if (part == "..")
            {
                current = Path.GetDirectoryName(current) ?? current;
                continue;
            }

            var next = Path.Combine(current, part);
            var target = new FileInfo(next).LinkTarget;
            if (target is null)
            {
                current = next;
                continue;
            }

            if (++links > MaxLinks)
            {
                throw new ImportException(path, null, "too many levels of symbolic links");
            }

            if (Path.IsPathRooted(target))
            {
                current = Path.GetPathRoot(target)!;
                target = target[current.Length..];
            }

            Push(pending, target);
        }

        return current;
    }

    private static void Push(Stack<string> pending, string relative)
    {
        var parts = relative.Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar]);
        for (var i = parts.Length - 1; i >= 0; i--)
        {
            pending.Push(parts[i]);
        }
    }
}
