using System.IO.Compression;
using System.Text;
using Xunit;

namespace Annex.Formats.Tests;

public class DeterministicZipTests
{
    private static readonly DateTime Timestamp = new(2025, 1, 21, 10, 0, 0, DateTimeKind.Utc);

    private static byte[] Build(CompressionLevel level)
    {
        using var output = new MemoryStream();
        using (var archive = new ZipArchive(output, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var (name, text) in new[] { ("export.json", "{\"a\":1}"), ("images/readme.txt", new string('x', 10_000)) })
            {
                using var entry = DeterministicZip.CreateEntryStream(archive, name, Timestamp, level);
                entry.Write(Encoding.UTF8.GetBytes(text));
            }
        }

        return output.ToArray();
    }

    [Theory]
    [InlineData(CompressionLevel.Optimal)]
    [InlineData(CompressionLevel.NoCompression)]
    public void SameContentGivesIdenticalBytes(CompressionLevel level) => Assert.Equal(Build(level), Build(level));

    [Fact]
    public void EntriesCarryTheGivenTimestampAndContent()
    {
        using var archive = new ZipArchive(new MemoryStream(Build(CompressionLevel.Optimal)), ZipArchiveMode.Read);
        Assert.Equal(["export.json", "images/readme.txt"], archive.Entries.Select(e => e.FullName));
        foreach (var entry in archive.Entries)
        {
            // Zip times carry no zone, so the stored wall clock is the UTC one.
            Assert.Equal(new DateTime(2025, 1, 21, 10, 0, 0), entry.LastWriteTime.DateTime);
        }

        using var reader = new StreamReader(archive.GetEntry("export.json")!.Open());
        Assert.Equal("{\"a\":1}", reader.ReadToEnd());
    }

    [Fact]
    public void RejectsNonUtcTimestamp()
    {
        using var archive = new ZipArchive(new MemoryStream(), ZipArchiveMode.Create);
        Assert.Throws<ArgumentException>(() => DeterministicZip.CreateEntryStream(
            archive, "a.txt", new DateTime(2025, 1, 1, 0, 0, 0, DateTimeKind.Local), CompressionLevel.Optimal));
    }
}
