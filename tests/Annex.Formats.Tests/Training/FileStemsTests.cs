using Xunit;

namespace Annex.Formats.Tests.Training;

public class FileStemsTests
{
    private static readonly Guid First = Guid.Parse("0193a5e2-c1d0-7b3c-8e4f-5a6b7c8d9e0f");
    private static readonly Guid Second = Guid.Parse("0193a5e2-c1d0-7b3c-8e4f-5a6b7c8d9e10");

    [Theory]
    [InlineData("frame_001", "frame_001")]
    [InlineData("frame_001.jpg", "frame_001")]
    [InlineData("cams/front/frame 7.PNG", "frame_7")]
    [InlineData("../../etc/passwd", "passwd")]
    [InlineData("..", "item")]
    [InlineData("a/..", "item")]
    [InlineData("C:\\data\\img:1?.tif", "img_1")]
    [InlineData("", "item")]
    [InlineData("CON", "_CON")]
    [InlineData("nul.jpg", "_nul")]
    [InlineData("straße-ñ", "stra_e-")]
    public void Refs_become_safe_stems(string refId, string expected) => Assert.Equal(expected, FileStems.SafeRef(refId));

    [Fact]
    public void Stems_hold_only_portable_characters_and_are_bounded()
    {
        var stem = FileStems.For("/\\:*?\"<>|\0." + new string('x', 500), First);
        Assert.Equal(FileStems.MaxRefLength + 1 + 32, stem.Length);
        Assert.All(stem, c => Assert.True(char.IsAsciiLetterOrDigit(c) || c is '_' or '-', $"unexpected '{c}'"));
        Assert.DoesNotContain("..", stem, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_items_sharing_a_ref_id_get_different_stems()
    {
        Assert.NotEqual(FileStems.For("frame_001", First), FileStems.For("frame_001", Second));
        Assert.Equal("frame_001_0193a5e2c1d07b3c8e4f5a6b7c8d9e0f", FileStems.For("frame_001", First));
        // Refs that map to the same safe text stay apart through the uid too.
        Assert.NotEqual(FileStems.For("a/b c", First), FileStems.For("b_c", Second));
    }

    [Theory]
    [InlineData("image/jpeg", ".jpg")]
    [InlineData("image/PNG", ".png")]
    [InlineData("image/webp", ".webp")]
    [InlineData("application/pdf", null)]
    [InlineData(null, null)]
    public void Uploaded_images_get_their_extension(string? contentType, string? expected) =>
        Assert.Equal(expected, FileStems.ImageExtension(contentType));
}
