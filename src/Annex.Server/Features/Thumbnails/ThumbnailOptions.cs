namespace Annex.Server.Features.Thumbnails;

/// <summary>How item thumbnails are made and cached (<c>Thumbnails:*</c>).</summary>
public sealed class ThumbnailOptions
{
    public const string Section = "Thumbnails";

    public const string Webp = "webp";
    public const string Jpeg = "jpeg";

    /// <summary>The encoding of new thumbnails: <c>webp</c> (smaller, keeps transparency) or <c>jpeg</c>.</summary>
    public string Format { get; set; } = Webp;

    /// <summary>Encoder quality, 1 to 100.</summary>
    public int Quality { get; set; } = 80;

    /// <summary>Images with more pixels than this are not decoded (422): a guard against decompression bombs,
    /// since a decoded image takes four bytes a pixel.</summary>
    public long MaxSourcePixels { get; set; } = 50_000_000;

    /// <summary>Thumbnails rendered at the same time; further requests wait their turn. Cached ones are served
    /// without waiting.</summary>
    public int MaxConcurrentRenders { get; set; } = Math.Max(1, Environment.ProcessorCount);

    /// <summary>How long a browser keeps a thumbnail whose URL names its current version (<c>v=</c>, as the gallery
    /// links it) without asking again; without it the browser revalidates with the ETag every time.</summary>
    public TimeSpan MaxAge { get; set; } = TimeSpan.FromDays(30);
}
