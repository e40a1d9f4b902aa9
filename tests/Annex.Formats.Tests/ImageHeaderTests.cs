using System.Text;
using Annex.Formats.Media;
using Annex.Tests;
using Xunit;

namespace Annex.Formats.Tests;

public sealed class ImageHeaderTests
{
    public static TheoryData<string, byte[], int, int, string, string> Images => new()
    {
        { "png", TestImages.Png(37, 21), 37, 21, "image/png", "png" },
        { "jpeg behind a large APP1", TestImages.Jpeg(1920, 1080), 1920, 1080, "image/jpeg", "jpg" },
        { "jpeg without metadata", TestImages.Jpeg(4000, 3000, app1Length: 0), 4000, 3000, "image/jpeg", "jpg" },
        { "gif", TestImages.Gif(640, 480), 640, 480, "image/gif", "gif" },
        { "bmp", TestImages.Bmp(33, 17), 33, 17, "image/bmp", "bmp" },
        { "bmp top-down", TestImages.Bmp(33, 17, topDown: true), 33, 17, "image/bmp", "bmp" },
        { "webp lossy", TestImages.WebP(1280, 720, "VP8 "), 1280, 720, "image/webp", "webp" },
        { "webp lossless", TestImages.WebP(16383, 1, "VP8L"), 16383, 1, "image/webp", "webp" },
        { "webp extended", TestImages.WebP(20000, 9000, "VP8X"), 20000, 9000, "image/webp", "webp" },
    };

    [Theory]
    [MemberData(nameof(Images))]
    public void Reads_type_and_size(string kind, byte[] bytes, int width, int height, string contentType, string extension)
    {
        Assert.True(ImageHeader.TryRead(bytes, out var info), kind);
        Assert.Equal(new ImageInfo(width, height, contentType, extension), info);
    }

    [Fact]
    public void Reads_from_a_stream_that_returns_one_byte_at_a_time()
    {
        using var stream = new TrickleStream(TestImages.Jpeg(800, 600));
        Assert.True(ImageHeader.TryRead(stream, out var info));
        Assert.Equal((800, 600), (info.Width, info.Height));
    }

    /// <summary>A JPEG of 1920 x 1080 stored pixels with an EXIF segment (little-endian TIFF) right after its start.</summary>
    private static byte[] JpegWithExif(byte[] tiffEntryValue, ushort type = 3)
    {
        byte[] exif =
        [
            .. "Exif\0\0"u8,
            (byte)'I', (byte)'I', 42, 0, 8, 0, 0, 0, // TIFF header: little-endian, IFD0 at offset 8
            2, 0, // two entries: ImageDescription's tag number, then Orientation
            0x0E, 0x01, 2, 0, 1, 0, 0, 0, 0, 0, 0, 0,
            0x12, 0x01, (byte)type, (byte)(type >> 8), 1, 0, 0, 0, .. tiffEntryValue,
            0, 0, 0, 0,
        ];
        var jpeg = TestImages.Jpeg(1920, 1080, app1Length: 0);
        byte[] segment = [0xFF, 0xE1, (byte)((exif.Length + 2) >> 8), (byte)(exif.Length + 2), .. exif];
        return [.. jpeg[..2], .. segment, .. jpeg[2..]];
    }

    [Theory]
    [InlineData(1, 1920, 1080)]
    [InlineData(3, 1920, 1080)]
    [InlineData(5, 1080, 1920)]
    [InlineData(6, 1080, 1920)]
    [InlineData(8, 1080, 1920)]
    public void A_jpeg_s_exif_orientation_gives_the_size_it_is_shown_at(int orientation, int width, int height)
    {
        Assert.True(ImageHeader.TryRead(JpegWithExif([(byte)orientation, 0, 0, 0]), out var info));
        Assert.Equal((width, height, orientation), (info.Width, info.Height, info.Orientation));
    }

    [Theory]
    [InlineData(new byte[] { 9, 0, 0, 0 }, (ushort)3)]
    [InlineData(new byte[] { 0, 0, 0, 0 }, (ushort)3)]
    [InlineData(new byte[] { 6, 0, 0, 0 }, (ushort)4)]
    public void An_orientation_that_is_not_one_of_the_eight_counts_as_upright(byte[] value, ushort type)
    {
        Assert.True(ImageHeader.TryRead(JpegWithExif(value, type), out var info));
        Assert.Equal((1920, 1080, 1), (info.Width, info.Height, info.Orientation));
    }

    public static TheoryData<string, byte[]> NotImages => new()
    {
        { "empty", [] },
        { "text", Encoding.UTF8.GetBytes("this is not an image, just some text that goes on for a while") },
        { "png cut short", TestImages.Png(10, 10)[..20] },
        { "png of zero width", TestImages.Png(0, 10) },
        { "jpeg cut before its frame header", TestImages.Jpeg(10, 10)[..1000] },
        { "jpeg of zero height", TestImages.Jpeg(10, 0, app1Length: 0) },
        { "jpeg scan before any frame", [0xFF, 0xD8, 0xFF, 0xDA, 0x00, 0x02, 0xFF, 0xD9] },
        { "jpeg signature then garbage", [0xFF, 0xD8, 0xFF, 0x12, 0x00, 0x01, 0x00] },
        { "riff that is not webp", [.. "RIFF\0\0\0\0WAVEfmt "u8, .. new byte[20]] },
        { "gif cut short", TestImages.Gif(5, 5)[..8] },
        { "bmp with a core header", [.. TestImages.Bmp(4, 4)[..14], 12, 0, 0, 0, 4, 0, 4, 0, 1, 0, 24, 0] },
    };

    [Theory]
    [MemberData(nameof(NotImages))]
    public void Refuses_what_is_not_an_image(string kind, byte[] bytes)
    {
        Assert.False(ImageHeader.TryRead(bytes, out _), kind);
    }

    private sealed class TrickleStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(1, buffer.Length)]);

        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(1, count));
    }
}
