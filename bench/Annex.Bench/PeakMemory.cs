using System.Globalization;

namespace Annex.Bench;

/// <summary>The process's peak resident set (VmHWM) on Linux; null where /proc does not exist.</summary>
public static class PeakMemory
{
    /// <summary>Resets VmHWM to the current RSS (Linux 4.0+), so each run reports its own peak rather
    /// than the highest of all runs so far. False when the kernel does not allow it.</summary>
    public static bool TryReset()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    public static long? Read() => Status("VmHWM:");

    /// <summary>The process's resident set now (VmRSS).</summary>
    public static long? Current() => Status("VmRSS:");

    private static long? Status(string field)
    {
        const string path = "/proc/self/status";
        if (!File.Exists(path))
        {
            return null;
        }

        foreach (var line in File.ReadLines(path))
        {
            if (line.StartsWith(field, StringComparison.Ordinal))
            {
                // "VmHWM:    123456 kB"
                var kilobytes = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
            }
        }

        return null;
    }
}
