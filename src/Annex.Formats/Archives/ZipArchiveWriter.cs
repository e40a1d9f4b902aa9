using System.IO.Compression;

namespace Annex.Formats;

public static class DeterministicZip
{
    /// <summary>
    /// Creates an entry whose timestamp is fixed (the given UTC time), so archives built from the same data are byte-identical.
    /// Zip timestamps have two-second resolution and must fall between 1980 and 2107.
    /// </summary>
    public static Stream CreateEntryStream(
        ZipArchive archive, string entryName, DateTime timestampUtc, CompressionLevel level)
    {
        ArgumentNullException.ThrowIfNull(archive);
        ArgumentException.ThrowIfNullOrEmpty(entryName);
        if (timestampUtc.Kind != DateTimeKind.Utc)
        {
            throw new ArgumentException(
                $"Expected a UTC timestamp but got DateTimeKind.{timestampUtc.Kind}.", nameof(timestampUtc));
        }

        var entry = archive.CreateEntry(entryName, level);
        // Zip stores a zone-less local time; a zero offset writes the UTC wall clock, so the bytes don't depend on the host's zone.
        entry.LastWriteTime = new DateTimeOffset(timestampUtc.Ticks, TimeSpan.Zero);
        return entry.Open();
    }
}
