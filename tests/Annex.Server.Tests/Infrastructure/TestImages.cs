using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace Annex.Tests;

/// <summary>Small image files built byte by byte from their format specifications, so tests need no
/// image library and no binary fixtures.</summary>
public static class TestImages
{
    /// <summary>A complete, decodable RGB PNG filled with one colour.</summary>
    public static byte[] Png(int width, int height)
    {
        using var output = new MemoryStream();
        output.Write([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), height);
        header[8] = 8; // bit depth
        header[9] = 2; // truecolour
        WriteChunk(output, "IHDR", header);

        using var pixels = new MemoryStream();
        using (var zlib = new ZLibStream(pixels, CompressionLevel.Fastest, leaveOpen: true))
        {
            var row = new byte[1 + (3 * width)];
            for (var x = 0; x < width; x++)
            {
                row[1 + (3 * x)] = 200;
            }

            for (var y = 0; y < height; y++)
            {
                zlib.Write(row);
            }
        }

        WriteChunk(output, "IDAT", pixels.ToArray());
        WriteChunk(output, "IEND", []);
        return output.ToArray();
    }

    /// <summary>A baseline JPEG's marker structure up to and past its frame header: JFIF and a large
    /// EXIF-sized APP1 segment before the SOF0, fill bytes before a marker, then a scan and EOI.</summary>
    public static byte[] Jpeg(int width, int height, int app1Length = 60_000)
    {
        using var output = new MemoryStream();
        output.Write([0xFF, 0xD8]);
        Segment(output, 0xE0, [.. "JFIF\0"u8, 1, 1, 0, 0, 1, 0, 1, 0, 0]);
        Segment(output, 0xE1, [.. "Exif\0\0"u8, .. new byte[app1Length]]);
        Segment(output, 0xDB, [0, .. Enumerable.Repeat((byte)1, 64)]);
        output.WriteByte(0xFF); // a fill byte
        Segment(output, 0xC0, [8, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 3, 1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]);
        Segment(output, 0xDA, [3, 1, 0, 2, 0x11, 3, 0x11, 0, 63, 0]);
        output.Write([0x12, 0x34, 0xFF, 0x00, 0x56]);
        output.Write([0xFF, 0xD9]);
        return output.ToArray();
    }

    public static byte[] Gif(int width, int height)
    {
        var bytes = new List<byte>();
        bytes.AddRange("GIF89a"u8.ToArray());
        bytes.AddRange(BitConverter.GetBytes((ushort)width));
        bytes.AddRange(BitConverter.GetBytes((ushort)height));
        bytes.AddRange([0x80, 0, 0, 0, 0, 0, 255, 255, 255]); // global colour table of two entries
        bytes.AddRange([0x2C, 0, 0, 0, 0, .. BitConverter.GetBytes((ushort)width), .. BitConverter.GetBytes((ushort)height), 0]);
        bytes.AddRange([2, 2, 0x44, 0x01, 0, 0x3B]);
        return [.. bytes];
    }

    public static byte[] Bmp(int width, int height, bool topDown = false)
    {
        var rowSize = ((3 * width) + 3) / 4 * 4;
        var data = new byte[54 + (rowSize * height)];
        data[0] = (byte)'B';
        data[1] = (byte)'M';
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(2), data.Length);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(10), 54);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(14), 40);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(18), width);
        BinaryPrimitives.WriteInt32LittleEndian(data.AsSpan(22), topDown ? -height : height);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(26), 1);
        BinaryPrimitives.WriteInt16LittleEndian(data.AsSpan(28), 24);
        return data;
    }

    /// <summary>A WebP container with a lossy (VP8), lossless (VP8L) or extended (VP8X) first chunk.</summary>
    public static byte[] WebP(int width, int height, string chunk)
    {
        byte[] payload = chunk switch
        {
            "VP8 " => [0x30, 0x01, 0x00, 0x9D, 0x01, 0x2A, (byte)width, (byte)(width >> 8), (byte)height, (byte)(height >> 8), 0, 0],
            "VP8L" => Lossless(width, height),
            "VP8X" => [0, 0, 0, 0, (byte)(width - 1), (byte)((width - 1) >> 8), (byte)((width - 1) >> 16), (byte)(height - 1), (byte)((height - 1) >> 8), (byte)((height - 1) >> 16)],
            _ => throw new ArgumentOutOfRangeException(nameof(chunk)),
        };

        using var output = new MemoryStream();
        output.Write("RIFF"u8);
        output.Write(BitConverter.GetBytes(4 + 8 + payload.Length));
        output.Write("WEBP"u8);
        output.Write(Encoding.ASCII.GetBytes(chunk));
        output.Write(BitConverter.GetBytes(payload.Length));
        output.Write(payload);
        return output.ToArray();

        static byte[] Lossless(int width, int height)
        {
            var bits = (uint)(width - 1) | ((uint)(height - 1) << 14);
            return [0x2F, (byte)bits, (byte)(bits >> 8), (byte)(bits >> 16), (byte)(bits >> 24), 0, 0];
        }
    }

    private static void Segment(Stream output, byte marker, byte[] body)
    {
        output.Write([0xFF, marker, (byte)((body.Length + 2) >> 8), (byte)(body.Length + 2)]);
        output.Write(body);
    }

    private static void WriteChunk(Stream output, string type, byte[] data)
    {
        var typeBytes = Encoding.ASCII.GetBytes(type);
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
        output.Write(length);
        output.Write(typeBytes);
        output.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(length, Crc32([.. typeBytes, .. data]));
        output.Write(length);
    }

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc ^= b;
            for (var k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? 0xEDB88320u ^ (crc >> 1) : crc >> 1;
            }
        }

        return ~crc;
    }
}
