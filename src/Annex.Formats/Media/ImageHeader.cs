using System.Buffers.Binary;

namespace Annex.Formats.Media;

/// <summary>What an image file's header says about it.</summary>
/// <param name="Width">Width in pixels, as the image is shown: for a JPEG whose EXIF orientation turns it a quarter
/// (orientations 5 to 8), the height of its stored pixel grid.</param>
/// <param name="Height">Height in pixels, as the image is shown.</param>
/// <param name="ContentType">The media type, e.g. <c>image/jpeg</c>.</param>
/// <param name="Extension">The usual file extension for the type, without the dot (<c>jpg</c>, <c>png</c>, ...).</param>
public sealed record ImageInfo(int Width, int Height, string ContentType, string Extension)
{
    /// <summary>The EXIF orientation (1 to 8; 1 = stored upright) of a JPEG, 1 for every other image.</summary>
    public int Orientation { get; init; } = 1;
}

/// <summary>
/// Reads an image's type and pixel size from its first bytes, without decoding it: PNG, JPEG, WebP,
/// GIF and BMP. Anything else, or a header that is cut short or inconsistent, is "not an image". A JPEG's EXIF
/// orientation is applied to the size (as viewers, browsers and the server's thumbnails show the photo).
/// </summary>
public static class ImageHeader
{
    /// <summary>A JPEG puts its frame header after its metadata segments (EXIF, ICC profiles); past
    /// this many bytes without one the file is not taken for a usable image.</summary>
    private const long MaxJpegScan = 16L * 1024 * 1024;

    /// <summary>Reads the header from the stream's current position. The stream is left somewhere
    /// after the header; rewind it before reading the content again.</summary>
    public static bool TryRead(Stream stream, out ImageInfo info)
    {
        ArgumentNullException.ThrowIfNull(stream);
        info = null!;
        Span<byte> head = stackalloc byte[32];
        var length = ReadUpTo(stream, head);
        head = head[..length];

        if (TryPng(head, out info) || TryGif(head, out info) || TryBmp(head, out info) || TryWebP(head, out info))
        {
            return true;
        }

        return head.Length >= 3 && head[0] == 0xFF && head[1] == 0xD8 && head[2] == 0xFF && TryJpeg(stream, head, out info);
    }

    /// <summary>Reads the header of an image held in memory.</summary>
    public static bool TryRead(ReadOnlySpan<byte> bytes, out ImageInfo info)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        return TryRead(stream, out info);
    }

    private static bool TryPng(ReadOnlySpan<byte> head, out ImageInfo info)
    {
        info = null!;
        ReadOnlySpan<byte> signature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        if (head.Length < 24 || !head[..8].SequenceEqual(signature) || !head[12..16].SequenceEqual("IHDR"u8))
        {
            return false;
        }

        return Create(BinaryPrimitives.ReadInt32BigEndian(head[16..]), BinaryPrimitives.ReadInt32BigEndian(head[20..]), "image/png", "png", out info);
    }

    private static bool TryGif(ReadOnlySpan<byte> head, out ImageInfo info)
    {
        info = null!;
        if (head.Length < 10 || !(head[..6].SequenceEqual("GIF87a"u8) || head[..6].SequenceEqual("GIF89a"u8)))
        {
            return false;
        }

        return Create(BinaryPrimitives.ReadUInt16LittleEndian(head[6..]), BinaryPrimitives.ReadUInt16LittleEndian(head[8..]), "image/gif", "gif", out info);
    }

    private static bool TryBmp(ReadOnlySpan<byte> head, out ImageInfo info)
    {
        info = null!;
        if (head.Length < 26 || head[0] != 'B' || head[1] != 'M')
        {
            return false;
        }

        // BITMAPINFOHEADER and later: signed 32-bit sizes; a negative height means a top-down bitmap.
        var headerSize = BinaryPrimitives.ReadInt32LittleEndian(head[14..]);
        if (headerSize < 40)
        {
            return false;
        }

        var height = BinaryPrimitives.ReadInt32LittleEndian(head[22..]);
        return height != int.MinValue && Create(BinaryPrimitives.ReadInt32LittleEndian(head[18..]), Math.Abs(height), "image/bmp", "bmp", out info);
    }

    private static bool TryWebP(ReadOnlySpan<byte> head, out ImageInfo info)
    {
        info = null!;
        if (head.Length < 25 || !head[..4].SequenceEqual("RIFF"u8) || !head[8..12].SequenceEqual("WEBP"u8))
        {
            return false;
        }

        var chunk = head[12..16];
        var data = head[20..];
        if (chunk.SequenceEqual("VP8 "u8))
        {
            // Lossy: a 3-byte frame tag, the start code 9D 01 2A, then 14-bit width and height.
            if (data.Length < 10 || data[3] != 0x9D || data[4] != 0x01 || data[5] != 0x2A)
            {
                return false;
            }

            return Create(BinaryPrimitives.ReadUInt16LittleEndian(data[6..]) & 0x3FFF, BinaryPrimitives.ReadUInt16LittleEndian(data[8..]) & 0x3FFF, "image/webp", "webp", out info);
        }

        if (chunk.SequenceEqual("VP8L"u8))
        {
            // Lossless: signature 0x2F, then width-1 and height-1 as two 14-bit fields.
            if (data[0] != 0x2F)
            {
                return false;
            }

            var bits = BinaryPrimitives.ReadUInt32LittleEndian(data[1..]);
            return Create((int)(bits & 0x3FFF) + 1, (int)((bits >> 14) & 0x3FFF) + 1, "image/webp", "webp", out info);
        }

        if (chunk.SequenceEqual("VP8X"u8))
        {
            // Extended: flags and reserved bytes, then canvas width-1 and height-1 as 24-bit fields.
            if (data.Length < 10)
            {
                return false;
            }

            var width = data[4] | (data[5] << 8) | (data[6] << 16);
            var height = data[7] | (data[8] << 8) | (data[9] << 16);
            return Create(width + 1, height + 1, "image/webp", "webp", out info);
        }

        return false;
    }

    /// <summary>Walks the JPEG's marker segments up to the first start-of-frame, which holds the size.</summary>
    private static bool TryJpeg(Stream stream, ReadOnlySpan<byte> head, out ImageInfo info)
    {
        info = null!;
        var reader = new JpegReader(stream, head[2..].ToArray());
        var orientation = 0;
        while (reader.Position < MaxJpegScan)
        {
            // Markers are 0xFF followed by a code; any number of 0xFF fill bytes may come before the code.
            if (reader.Next() != 0xFF)
            {
                return false;
            }

            int marker;
            do
            {
                marker = reader.Next();
            }
            while (marker == 0xFF);

            if (marker < 0 || marker == 0xD9 || marker == 0xDA)
            {
                // End of file, or the image data began before any frame header.
                return false;
            }

            if (marker == 0x01 || marker is >= 0xD0 and <= 0xD7)
            {
                continue; // Markers without a length.
            }

            var hi = reader.Next();
            var lo = reader.Next();
            if (hi < 0 || lo < 0)
            {
                return false;
            }

            var segmentLength = (hi << 8) | lo;
            if (segmentLength < 2)
            {
                return false;
            }

            if (marker is >= 0xC0 and <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC)
            {
                // Start of frame: precision, then height and width, big-endian.
                var precision = reader.Next();
                int h1 = reader.Next(), h0 = reader.Next(), w1 = reader.Next(), w0 = reader.Next();
                if (precision < 0 || w0 < 0)
                {
                    return false;
                }

                orientation = orientation == 0 ? 1 : orientation;
                // Orientations 5 to 8 turn the image a quarter: it is shown as tall as it is stored wide.
                var quarter = orientation >= 5;
                if (!Create(quarter ? (h1 << 8) | h0 : (w1 << 8) | w0, quarter ? (w1 << 8) | w0 : (h1 << 8) | h0, "image/jpeg", "jpg", out info))
                {
                    return false;
                }

                info = info with { Orientation = orientation };
                return true;
            }

            if (marker == 0xE1 && orientation == 0 && segmentLength >= 2 + 14)
            {
                // APP1: the first EXIF segment decides the orientation (0 until one is read).
                var segment = new byte[segmentLength - 2];
                for (var i = 0; i < segment.Length; i++)
                {
                    var b = reader.Next();
                    if (b < 0)
                    {
                        return false;
                    }

                    segment[i] = (byte)b;
                }

                orientation = ExifOrientation(segment) ?? 0;
                continue;
            }

            if (!reader.Skip(segmentLength - 2))
            {
                return false;
            }
        }

        return false;
    }

    /// <summary>The Orientation tag (0x0112) of IFD0 in an APP1 segment that starts with <c>Exif\0\0</c>; null when the
    /// segment is not EXIF, has no such tag or holds a value outside 1 to 8 (which counts as upright).</summary>
    private static int? ExifOrientation(ReadOnlySpan<byte> segment)
    {
        if (segment.Length < 14 || !segment[..6].SequenceEqual("Exif\0\0"u8))
        {
            return null;
        }

        var tiff = segment[6..];
        bool little;
        if (tiff[0] == 'I' && tiff[1] == 'I')
        {
            little = true;
        }
        else if (tiff[0] == 'M' && tiff[1] == 'M')
        {
            little = false;
        }
        else
        {
            return null;
        }

        int U16(ReadOnlySpan<byte> at) => little ? BinaryPrimitives.ReadUInt16LittleEndian(at) : BinaryPrimitives.ReadUInt16BigEndian(at);
        long U32(ReadOnlySpan<byte> at) => little ? BinaryPrimitives.ReadUInt32LittleEndian(at) : BinaryPrimitives.ReadUInt32BigEndian(at);
        if (U16(tiff[2..]) != 42)
        {
            return null;
        }

        var ifd = U32(tiff[4..]);
        if (ifd < 8 || ifd + 2 > tiff.Length)
        {
            return null;
        }

        var entries = U16(tiff[(int)ifd..]);
        for (var k = 0; k < entries; k++)
        {
            var entry = (int)ifd + 2 + (k * 12);
            if (entry + 12 > tiff.Length)
            {
                return null;
            }

            // Tag, type (3 = SHORT), count, then the value itself (a SHORT fits in the entry).
            if (U16(tiff[entry..]) == 0x0112)
            {
                var value = U16(tiff[entry..][8..]);
                return U16(tiff[entry..][2..]) == 3 && value is >= 1 and <= 8 ? value : null;
            }
        }

        return null;
    }

    private static bool Create(int width, int height, string contentType, string extension, out ImageInfo info)
    {
        info = null!;
        if (width <= 0 || height <= 0)
        {
            return false;
        }

        info = new ImageInfo(width, height, contentType, extension);
        return true;
    }

    private static int ReadUpTo(Stream stream, Span<byte> buffer)
    {
        var total = 0;
        while (total < buffer.Length)
        {
            var read = stream.Read(buffer[total..]);
            if (read == 0)
            {
                break;
            }

            total += read;
        }

        return total;
    }

    /// <summary>Byte-at-a-time reading over the bytes already read followed by the rest of the stream.</summary>
    private sealed class JpegReader(Stream stream, byte[] pending)
    {
        private readonly byte[] _buffer = new byte[8192];
        private int _pendingIndex;
        private int _bufferIndex;
        private int _bufferLength;

        public long Position { get; private set; }

        public int Next()
        {
            if (_pendingIndex < pending.Length)
            {
                Position++;
                return pending[_pendingIndex++];
            }

            if (_bufferIndex == _bufferLength)
            {
                _bufferLength = stream.Read(_buffer, 0, _buffer.Length);
                _bufferIndex = 0;
                if (_bufferLength == 0)
                {
                    return -1;
                }
            }

            Position++;
            return _buffer[_bufferIndex++];
        }

        public bool Skip(int count)
        {
            for (var i = 0; i < count; i++)
            {
                if (Next() < 0)
                {
                    return false;
                }
            }

            return true;
        }
    }
}
