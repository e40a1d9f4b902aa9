using Annex.Formats.Media;
using Annex.Server.Features.Thumbnails;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Datasets;

/// <summary>The answer to an upload: what the server stored and the size it read from the image.</summary>
public sealed record ItemMediaResponse(Guid ItemUid, string ContentType, long Size, int Width, int Height);

/// <summary>The image (JPEG, PNG, GIF, BMP, WebP or TIFF) in the form field <c>file</c>.</summary>
/// <remarks>Documentation only: the handler streams the multipart body itself.</remarks>
public sealed record ItemMediaUpload(IFormFile File);

public sealed class MediaOptions
{
    public const string Section = "Media";

    /// <summary>The largest image an upload may carry.</summary>
    public long MaxUploadBytes { get; set; } = 100L * 1024 * 1024;

    /// <summary>The most files one bulk upload (<c>POST /datasets/{uid}/items/media/</c>) may carry.</summary>
    public int MaxFilesPerRequest { get; set; } = 1000;

    /// <summary>The most bytes of images one bulk upload may carry, all files together.</summary>
    public long MaxBulkUploadBytes { get; set; } = 512L * 1024 * 1024;
}

/// <summary>
/// <c>PUT|GET|DELETE /api/v1/datasets/{uid}/items/{item_uid}/media/</c>: an item's image, stored in the
/// blob store. Uploads are multipart (field <c>file</c>) and stream straight into a pending blob; the
/// blob is published only once its header proved it an image, so a rejected upload changes nothing.
/// </summary>
public static class ItemMediaApi
{
    public const string NotAnImage = "Upload a valid image. The file you uploaded was either not an image or a corrupted image.";
    public const string NoFile = "No file was submitted. Check the encoding type on the form.";
    public const string EmptyFile = "The submitted file is empty.";

    /// <summary>Enough for the header of any image the reader knows, EXIF and ICC segments included.</summary>
    internal const int HeaderBytes = 2 * 1024 * 1024;

    public static RouteGroupBuilder MapItemMediaApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets/{uid}/items/{itemUid}/media").WithTags("Datasets").WithMetadata(OwnBodyLimit.Instance);
        group.MapPut("", UploadMedia).AcceptsBody<ItemMediaUpload>("multipart/form-data");
        group.MapGet("", DownloadMedia).Produces<Stream>(StatusCodes.Status200OK, "image/jpeg", "image/png", "image/gif", "image/bmp", "image/webp", "image/tiff");
        group.MapDelete("", DeleteMedia);
        return api.MapBulkItemMediaApi();
    }

    /// <summary>Where an item's image lives in the blob store.</summary>
    public static string Key(long organizationId, Guid itemUid) => $"media/{organizationId}/{itemUid:N}";

    private static async Task<Results<Ok<ItemMediaResponse>, BadRequestError, NotFoundError>> UploadMedia(
        string uid, string itemUid, HttpContext http, AnnexDbContext db, IBlobStore blobs, IOptions<MediaOptions> options, IOptions<ThumbnailOptions> thumbnails, ILoggerFactory loggers, TimeProvider time, CancellationToken ct)
    {
        var caller = http.Caller();
        var item = await FindItemAsync(uid, itemUid, caller.OrganizationId, db, tracking: true, ct);
        if (item is null)
        {
            return NotFoundError.Instance;
        }

        var limit = options.Value.MaxUploadBytes;
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            // The multipart envelope adds a little to the file itself.
            bodySize.MaxRequestBodySize = limit + (64 * 1024);
        }

        if (MultipartFile.Boundary(http.Request) is not { } boundary)
        {
            return FileError(NoFile);
        }

        var key = Key(caller.OrganizationId, item.Uid);
        ImageInfo? image;
        long size;
        try
        {
            var section = await MultipartFile.FindAsync(http.Request, boundary, ct);
            if (section is null)
            {
                return FileError("No file was submitted.");
            }

            await using var pending = await blobs.BeginWriteAsync(key, ct);
            var copy = await CopyAsync(section.Body, pending.Content, limit, ct);
            if (copy.TooLarge)
            {
                return FileError($"Ensure this file is at most {limit} bytes.");
            }

            if (copy.Length == 0)
            {
                return FileError(EmptyFile);
            }

            using var head = new MemoryStream(copy.Head, 0, copy.HeadLength, writable: false);
            if (!ImageHeader.TryRead(head, out var info))
            {
                return FileError(NotAnImage);
            }

            image = info;
            size = await pending.PublishAsync(ct);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or BadHttpRequestException)
        {
            return ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? FileError($"Ensure this file is at most {limit} bytes.")
                : FileError("The upload could not be read: the multipart body is malformed or was cut short.");
        }

        // A bulk upload stores under a key of its own; the image it stored is replaced now.
        var previous = item.MediaKey is { } old && old != key ? old : null;

        var replaced = ThumbnailSource(caller.OrganizationId, item);

        // The pixels the annotations were drawn on are the image's own, so its header decides the size.
        item.MediaKey = key;
        item.MediaContentType = image.ContentType;
        item.MediaLength = size;
        item.Width = image.Width;
        item.Height = image.Height;
        item.UpdatedAt = Clock.UtcNow(time);
        await db.SaveChangesAsync(ct);
        if (previous is not null)
        {
            await blobs.DeleteAsync(previous, CancellationToken.None);
        }

        await ThumbnailsApi.ForgetAsync(blobs, thumbnails.Value, replaced, loggers.CreateLogger(typeof(ItemMediaApi)));
        return TypedResults.Ok(new ItemMediaResponse(item.Uid, image.ContentType, size, image.Width, image.Height));
    }

    private static async Task<Results<FileStreamHttpResult, NotFoundError>> DownloadMedia(string uid, string itemUid, HttpContext http, AnnexDbContext db, IBlobStore blobs, CancellationToken ct)
    {
        var item = await FindItemAsync(uid, itemUid, http.Caller().OrganizationId, db, tracking: false, ct);
        if (item?.MediaKey is null)
        {
            return NotFoundError.Instance;
        }

        var blob = await blobs.OpenReadAsync(item.MediaKey, ct);
        if (blob is null)
        {
            return NotFoundError.Instance;
        }

        return TypedResults.Stream(blob.Content, item.MediaContentType ?? "application/octet-stream", lastModified: blob.LastModifiedUtc, enableRangeProcessing: true);
    }

    private static async Task<Results<NoContent, NotFoundError>> DeleteMedia(
        string uid, string itemUid, HttpContext http, AnnexDbContext db, IBlobStore blobs, IOptions<ThumbnailOptions> thumbnails, ILoggerFactory loggers, TimeProvider time, CancellationToken ct)
    {
        var organizationId = http.Caller().OrganizationId;
        var item = await FindItemAsync(uid, itemUid, organizationId, db, tracking: true, ct);
        if (item?.MediaKey is null)
        {
            return NotFoundError.Instance;
        }

        var removed = ThumbnailSource(organizationId, item);

        var key = item.MediaKey;
        item.MediaKey = null;
        item.MediaContentType = null;
        item.MediaLength = null;
        item.UpdatedAt = Clock.UtcNow(time);
        await db.SaveChangesAsync(ct);
        // After the row lets go of it, so a failure here leaves an orphan, never a dangling reference. A version
        // that still shows the image keeps it (its history row holds the key).
        if (!await Versions.VersionSql.MediaKeptAsync(db, key, ct))
        {
            await blobs.DeleteAsync(key, ct);
        }

        await ThumbnailsApi.ForgetAsync(blobs, thumbnails.Value, removed, loggers.CreateLogger(typeof(ItemMediaApi)));
        return TypedResults.NoContent();
    }

    /// <summary>The item's current image as its thumbnails know it, to forget them once it changes.</summary>
    internal static ThumbnailsApi.Source[] ThumbnailSource(long organizationId, DatasetItem item) =>
        item.MediaKey is null ? [] : [new ThumbnailsApi.Source(organizationId, item.Uid, item.MediaKey, item.MediaLength, item.UpdatedAt)];

    private static BadRequestError FileError(string message)
    {
        var errors = new ValidationErrors();
        errors.Add("file", message);
        return errors.ToBadRequest();
    }

    private static async Task<DatasetItem?> FindItemAsync(string uid, string itemUid, long organizationId, AnnexDbContext db, bool tracking, CancellationToken ct)
    {
        if (!Guid.TryParse(uid, out var datasetUid) || !Guid.TryParse(itemUid, out var parsedItemUid))
        {
            return null;
        }

        var items = tracking ? db.DatasetItems : db.DatasetItems.AsNoTracking();
        return await items.SingleOrDefaultAsync(
            i => i.Uid == parsedItemUid && i.Dataset.Uid == datasetUid && i.Dataset.OrganizationId == organizationId, ct);
    }

    internal readonly record struct CopyResult(long Length, bool TooLarge, byte[] Head, int HeadLength);

    /// <summary>Copies the upload into the pending blob, keeping its first bytes for the header check.</summary>
    internal static async Task<CopyResult> CopyAsync(Stream source, Stream destination, long limit, CancellationToken ct)
    {
        var head = new byte[HeaderBytes];
        var headLength = 0;
        var buffer = new byte[81920];
        long total = 0;
        int read;
        while ((read = await source.ReadAsync(buffer, ct)) > 0)
        {
            total += read;
            if (total > limit)
            {
                return new CopyResult(total, TooLarge: true, head, headLength);
            }

            var toHead = Math.Min(read, head.Length - headLength);
            if (toHead > 0)
            {
                Buffer.BlockCopy(buffer, 0, head, headLength, toHead);
                headLength += toHead;
            }

            await destination.WriteAsync(buffer.AsMemory(0, read), ct);
        }

        return new CopyResult(total, TooLarge: false, head, headLength);
    }
}
