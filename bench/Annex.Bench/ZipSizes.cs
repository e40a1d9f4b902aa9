using System.Buffers.Binary;

namespace Annex.Bench;

/// <summary>
/// The total uncompressed size of a zip's entries, read from its central directory one record at a time.
/// ZipArchive builds an object per entry, which for a million label files is about a gigabyte in the bench
/// process: it showed in the next run's peak memory as if the export had used it.
/// </summary>
public static class ZipSizes
{
    public static long TotalUncompressed(string path)
    {
        using var file = File.OpenRead(path);
        var (entries, directoryOffset) = FindCentralDirectory(file);
        file.Position = directoryOffset;
        using var reader = new BinaryReader(new BufferedStream(file, 1 << 16));
        long total = 0;
        for (long i = 0; i < entries; i++)
        {
            var record = reader.ReadBytes(46);
            if (record.Length < 46 || BinaryPrimitives.ReadUInt32LittleEndian(record) != 0x02014b50)
            {
                throw new BenchException($"{path}: central directory record {i} is damaged.");
            }

            long uncompressed = BinaryPrimitives.ReadUInt32LittleEndian(record.AsSpan(24));
            var nameLength = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(28));
            var extraLength = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(30));
            var commentLength = BinaryPrimitives.ReadUInt16LittleEndian(record.AsSpan(32));
            reader.ReadBytes(nameLength);
            var extra = reader.ReadBytes(extraLength);
            reader.ReadBytes(commentLength);
            if (uncompressed == uint.MaxValue)
            {
                // The real size is the first value of the ZIP64 extra field (id 1).
                for (var at = 0; at + 4 <= extra.Length;)
                {
                    var id = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(at));
                    var size = BinaryPrimitives.ReadUInt16LittleEndian(extra.AsSpan(at + 2));
                    if (id == 1)
                    {
                        uncompressed = BinaryPrimitives.ReadInt64LittleEndian(extra.AsSpan(at + 4));
                        break;
                    }

                    at += 4 + size;
                }
            }

            total += uncompressed;
        }

        return total;
    }

    private static (long Entries, long Offset) FindCentralDirectory(FileStream file)
    {
        var tailLength = (int)Math.Min(file.Length, 22 + ushort.MaxValue);
        var tail = new byte[tailLength];
        file.Position = file.Length - tailLength;
        file.ReadExactly(tail);
        for (var at = tailLength - 22; at >= 0; at--)
        {
            if (BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(at)) != 0x06054b50)
            {
                continue;
            }

            long entries = BinaryPrimitives.ReadUInt16LittleEndian(tail.AsSpan(at + 10));
            long offset = BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(at + 16));
            if ((entries == ushort.MaxValue || offset == uint.MaxValue) && at >= 20
                && BinaryPrimitives.ReadUInt32LittleEndian(tail.AsSpan(at - 20)) == 0x07064b50)
            {
                // ZIP64: the locator before the end record points at the ZIP64 end record.
                var end64 = new byte[56];
                file.Position = BinaryPrimitives.ReadInt64LittleEndian(tail.AsSpan(at - 20 + 8));
                file.ReadExactly(end64);
                entries = BinaryPrimitives.ReadInt64LittleEndian(end64.AsSpan(32));
                offset = BinaryPrimitives.ReadInt64LittleEndian(end64.AsSpan(48));
            }

            return (entries, offset);
        }

        throw new BenchException($"{file.Name} has no zip end record.");
    }
}
