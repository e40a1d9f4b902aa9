using SkiaSharp;

namespace Annex.Server.Features.Thumbnails;

/// <summary>A rendered thumbnail: the encoded bytes and the size they show.</summary>
public sealed record Thumbnail(byte[] Bytes, string ContentType, int Width, int Height);

/// <summary>Why an image could not be made into a thumbnail, in words fit for the API's answer.</summary>
public sealed class ThumbnailException(string message) : Exception(message);

/// <summary>
/// Scales an image down with SkiaSharp so its longer side is at most the thumbnail size (never up), keeping its
/// aspect ratio. A JPEG's EXIF orientation is applied, so a photo taken on its side shows upright, as the item's width
/// and height say it is (<see cref="Annex.Formats.Media.ImageHeader"/> reads them oriented), and annotations in the
/// item's pixel coordinates scale onto the thumbnail by its width and height alone.
/// </summary>
public static class ThumbnailRenderer
{
    public static Thumbnail Render(byte[] image, int size, string format, int quality, long maxSourcePixels)
    {
        using var data = SKData.CreateCopy(image);
        using var codec = SKCodec.Create(data)
            ?? throw new ThumbnailException("The stored image could not be decoded: its format is not one the server can read (JPEG, PNG, GIF, BMP and WebP are), or the file is damaged.");
        var source = codec.Info;
        if (source.Width <= 0 || source.Height <= 0)
        {
            throw new ThumbnailException("The stored image could not be decoded: it has no pixels.");
        }

        if ((long)source.Width * source.Height > maxSourcePixels)
        {
            throw new ThumbnailException($"The stored image is {source.Width}x{source.Height} pixels, more than the {maxSourcePixels:N0} this server decodes for a thumbnail.");
        }

        var scale = Math.Min(1.0, (double)size / Math.Max(source.Width, source.Height));
        var width = Math.Max(1, (int)Math.Round(source.Width * scale));
        var height = Math.Max(1, (int)Math.Round(source.Height * scale));

        // Only a JPEG's orientation counts, as only a JPEG's is read into the item's width and height.
        var origin = codec.EncodedFormat == SKEncodedImageFormat.Jpeg ? codec.EncodedOrigin : SKEncodedOrigin.TopLeft;
        var quarter = origin is SKEncodedOrigin.LeftTop or SKEncodedOrigin.RightTop or SKEncodedOrigin.RightBottom or SKEncodedOrigin.LeftBottom;
        var (shownWidth, shownHeight) = quarter ? (height, width) : (width, height);

        // JPEG decodes straight to 1/2, 1/4 or 1/8 of its size, which spares most of the work on large photos; the
        // last step down is a proper resampling either way.
        var decodedSize = codec.GetScaledDimensions((float)Math.Max(scale, 0.125));
        if (decodedSize.Width < width || decodedSize.Height < height)
        {
            decodedSize = new SKSizeI(source.Width, source.Height);
        }

        var alphaType = source.AlphaType == SKAlphaType.Opaque ? SKAlphaType.Opaque : SKAlphaType.Premul;
        var decodedInfo = new SKImageInfo(decodedSize.Width, decodedSize.Height, SKColorType.Rgba8888, alphaType);
        using var decoded = new SKBitmap(decodedInfo);
        var result = codec.GetPixels(decodedInfo, decoded.GetPixels());
        if (result is not (SKCodecResult.Success or SKCodecResult.IncompleteInput))
        {
            throw new ThumbnailException($"The stored image could not be decoded ({result}): the file is damaged or not what its header says.");
        }

        using var scaled = decodedSize.Width == width && decodedSize.Height == height
            ? decoded.Copy()
            : decoded.Resize(new SKImageInfo(width, height, SKColorType.Rgba8888, alphaType), new SKSamplingOptions(SKCubicResampler.Mitchell));
        if (scaled is null)
        {
            throw new ThumbnailException("The stored image could not be scaled down.");
        }

        var jpeg = format == ThumbnailOptions.Jpeg;
        using var surface = SKSurface.Create(new SKImageInfo(shownWidth, shownHeight, SKColorType.Rgba8888, jpeg ? SKAlphaType.Opaque : alphaType));
        // JPEG has no transparency: transparent pixels become white, as an image viewer shows them.
        surface.Canvas.Clear(jpeg ? SKColors.White : SKColors.Transparent);
        Orient(surface.Canvas, origin, width, height);
        using (var pixels = SKImage.FromBitmap(scaled))
        {
            surface.Canvas.DrawImage(pixels, 0, 0, SKSamplingOptions.Default, null);
        }

        using var snapshot = surface.Snapshot();
        using var encoded = snapshot.Encode(jpeg ? SKEncodedImageFormat.Jpeg : SKEncodedImageFormat.Webp, quality)
            ?? throw new ThumbnailException("The thumbnail could not be encoded.");
        return new Thumbnail(encoded.ToArray(), jpeg ? "image/jpeg" : "image/webp", shownWidth, shownHeight);
    }

    /// <summary>Sets the canvas so that an image of <paramref name="width"/> x <paramref name="height"/> stored pixels drawn
    /// at the origin comes out as the EXIF orientation says it is shown (the canvas's last transform applies first).</summary>
    private static void Orient(SKCanvas canvas, SKEncodedOrigin origin, int width, int height)
    {
        switch (origin)
        {
            case SKEncodedOrigin.TopRight: // 2: mirrored left to right
                canvas.Translate(width, 0);
                canvas.Scale(-1, 1);
                break;
            case SKEncodedOrigin.BottomRight: // 3: upside down
                canvas.Translate(width, height);
                canvas.RotateDegrees(180);
                break;
            case SKEncodedOrigin.BottomLeft: // 4: mirrored top to bottom
                canvas.Translate(0, height);
                canvas.Scale(1, -1);
                break;
            case SKEncodedOrigin.LeftTop: // 5: transposed, (x, y) -> (y, x)
                canvas.Scale(1, -1);
                canvas.RotateDegrees(-90);
                break;
            case SKEncodedOrigin.RightTop: // 6: stored turned a quarter left, shown turned a quarter right: (x, y) -> (h - y, x)
                canvas.Translate(height, 0);
                canvas.RotateDegrees(90);
                break;
            case SKEncodedOrigin.RightBottom: // 7: transversed, (x, y) -> (h - y, w - x)
                canvas.Translate(height, width);
                canvas.Scale(1, -1);
                canvas.RotateDegrees(90);
                break;
            case SKEncodedOrigin.LeftBottom: // 8: stored turned a quarter right, shown turned a quarter left: (x, y) -> (y, w - x)
                canvas.Translate(0, width);
                canvas.RotateDegrees(-90);
                break;
            default:
                break;
        }
    }
}
