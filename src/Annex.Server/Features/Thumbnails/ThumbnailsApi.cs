using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;

namespace Annex.Server.Features.Thumbnails;

/// <summary>
/// <c>GET /api/v1/datasets/{uid}/items/{item_uid}/thumbnail/?size=128|256|512</c>: the item's uploaded image scaled
/// down (longer side at most <c>size</c>, default 256) by the server, made on the first request and kept in the blob
/// store. Each thumbnail has a version derived from the stored image and the encoding settings; it is its ETag and
/// part of its blob key, so a replaced image never shows an old thumbnail. An item whose image lives at an external
/// URL has none (409); an image the server cannot decode is a 422.
/// </summary>
public static class ThumbnailsApi
{
    public const int DefaultSize = 256;

    public static readonly IReadOnlyList<int> Sizes = [128, 256, 512];

    public const string ExternalMedia =
        "This item's image is at an external URL (its media_url), which the server never fetches, so it has no thumbnail. Show the media_url itself, or upload the image with PUT /api/v1/datasets/<uid>/items/<item_uid>/media/.";

    public static RouteGroupBuilder MapThumbnailsApi(this RouteGroupBuilder api)
    {
        api.MapGet("/datasets/{uid}/items/{itemUid}/thumbnail", GetThumbnail)
            .WithTags("Datasets")
            .Produces<Stream>(StatusCodes.Status200OK, "image/webp", "image/jpeg")
            .Produces(StatusCodes.Status304NotModified)
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict, StatusCodes.Status422UnprocessableEntity);
        return api;
    }

    /// <summary>The fields of an item a thumbnail is made from.</summary>
    public sealed record Source(long OrganizationId, Guid ItemUid, string MediaKey, long? MediaLength, DateTime UpdatedAt);

    /// <summary>Changes whenever the stored image (or the thumbnail settings) does: the item is updated each time
    /// its image is replaced.</summary>
    public static string Version(Source source, ThumbnailOptions options)
    {
        var text = string.Join('|', source.MediaKey, source.MediaLength?.ToString(CultureInfo.InvariantCulture), source.UpdatedAt.Ticks.ToString(CultureInfo.InvariantCulture), options.Format, options.Quality.ToString(CultureInfo.InvariantCulture));
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)).AsSpan(0, 8));
    }

    public static string Key(Source source, int size, ThumbnailOptions options) =>
        $"thumbnails/{source.OrganizationId}/{source.ItemUid:N}/{size}-{Version(source, options)}.{(options.Format == ThumbnailOptions.Jpeg ? "jpg" : "webp")}";

    /// <summary>The thumbnail URL the gallery links, with the version that lets browsers keep it.</summary>
    public static string Url(HttpRequest request, Guid datasetUid, Source source, int size, ThumbnailOptions options) =>
        string.Create(CultureInfo.InvariantCulture, $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}/api/v1/datasets/{datasetUid}/items/{source.ItemUid}/thumbnail/?size={size}&v={Version(source, options)}");

    /// <summary>Deletes the cached thumbnails of an image that was replaced or removed. Best effort: one left behind
    /// is never served again (its version is gone) and costs only its bytes.</summary>
    public static async Task ForgetAsync(IBlobStore blobs, ThumbnailOptions options, IEnumerable<Source> sources, ILogger logger)
    {
        foreach (var source in sources)
        {
            foreach (var size in Sizes)
            {
                var key = Key(source, size, options);
                try
                {
                    await blobs.DeleteAsync(key, CancellationToken.None);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    logger.LogWarning(ex, "Thumbnail {Key} could not be deleted", key);
                }
            }
        }
    }

    private static async Task<IResult> GetThumbnail(
        string uid, string itemUid, HttpContext http, AnnexDbContext db, IBlobStore blobs, ThumbnailRenders renders, IOptions<ThumbnailOptions> settings, CancellationToken ct)
    {
        var options = settings.Value;
        var size = DefaultSize;
        if (http.Request.Query.TryGetValue("size", out var sizeText))
        {
            var text = sizeText.ToString();
            if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out size) || !Sizes.Contains(size))
            {
                var errors = new ValidationErrors();
                errors.Add("size", $"\"{(text.Length > 20 ? text[..20] + "..." : text)}\" is not a valid choice. Choose one of: {string.Join(", ", Sizes)}.");
                return errors.ToBadRequest();
            }
        }

        if (!Guid.TryParse(uid, out var datasetUid) || !Guid.TryParse(itemUid, out var parsedItemUid))
        {
            return NotFoundError.Instance;
        }

        var organizationId = http.Caller().OrganizationId;
        var item = await db.DatasetItems.AsNoTracking()
            .Where(i => i.Uid == parsedItemUid && i.Dataset.Uid == datasetUid && i.Dataset.OrganizationId == organizationId)
            .Select(i => new { i.Uid, i.MediaKey, i.MediaLength, i.MediaUrl, i.RefId, i.UpdatedAt })
            .SingleOrDefaultAsync(ct);
        if (item is null)
        {
            return NotFoundError.Instance;
        }

        if (item.MediaKey is null)
        {
            return item.MediaUrl is null ? NotFoundError.Instance : new ConflictError(ExternalMedia);
        }

        var source = new Source(organizationId, item.Uid, item.MediaKey, item.MediaLength, item.UpdatedAt);
        var version = Version(source, options);
        var etag = new EntityTagHeaderValue($"\"{version}-{size}\"");
        var headers = http.Response.GetTypedHeaders();
        headers.ETag = etag;
        // A URL that names the current version shows the same bytes for as long as it is current; any other is
        // checked again each time, which costs a 304.
        http.Response.Headers.CacheControl = http.Request.Query["v"].ToString() == version
            ? string.Create(CultureInfo.InvariantCulture, $"private, max-age={(long)options.MaxAge.TotalSeconds}, immutable")
            : "private, no-cache";
        if (http.Request.GetTypedHeaders().IfNoneMatch is { Count: > 0 } match && match.Any(m => m.Compare(etag, useStrongComparison: false) || m.Equals(EntityTagHeaderValue.Any)))
        {
            return TypedResults.StatusCode(StatusCodes.Status304NotModified);
        }

        var contentType = options.Format == ThumbnailOptions.Jpeg ? "image/jpeg" : "image/webp";
        var key = Key(source, size, options);
        if (await blobs.OpenReadAsync(key, ct) is { } cached)
        {
            return TypedResults.Stream(cached.Content, contentType);
        }

        try
        {
            var thumbnail = await renders.RenderAsync(key, source, size, ct);
            return thumbnail is null ? NotFoundError.Instance : TypedResults.File(thumbnail.Bytes, thumbnail.ContentType);
        }
        catch (ThumbnailException ex)
        {
            http.Response.Headers.Remove(HeaderNames.ETag);
            http.Response.Headers.Remove(HeaderNames.CacheControl);
            return new UnprocessableError($"No thumbnail for item \"{item.RefId}\": {ex.Message}");
        }
    }
}

/// <summary>Renders thumbnails, at most <see cref="ThumbnailOptions.MaxConcurrentRenders"/> at a time, and stores them. A
/// request that waited for its turn first looks whether another made the same thumbnail meanwhile.</summary>
public sealed class ThumbnailRenders(IBlobStore blobs, IOptions<ThumbnailOptions> settings, ILogger<ThumbnailRenders> logger) : IDisposable
{
    private readonly SemaphoreSlim _slots = new(Math.Max(1, settings.Value.MaxConcurrentRenders));

    /// <summary>The thumbnail, stored under <paramref name="key"/>; null when the image is missing from storage.</summary>
    public async Task<Thumbnail?> RenderAsync(string key, ThumbnailsApi.Source source, int size, CancellationToken ct)
    {
        var options = settings.Value;
        await _slots.WaitAsync(ct);
        try
        {
            // Another request may have made it while this one waited.
            if (await blobs.OpenReadAsync(key, ct) is { } made)
            {
                await using (made.Content)
                {
                    using var copy = new MemoryStream();
                    await made.Content.CopyToAsync(copy, ct);
                    return new Thumbnail(copy.ToArray(), options.Format == ThumbnailOptions.Jpeg ? "image/jpeg" : "image/webp", 0, 0);
                }
            }

            var blob = await blobs.OpenReadAsync(source.MediaKey, ct);
            if (blob is null)
            {
                return null;
            }

            byte[] image;
            await using (blob.Content)
            {
                using var buffer = new MemoryStream(blob.Length is > 0 and < int.MaxValue ? (int)blob.Length : 0);
                await blob.Content.CopyToAsync(buffer, ct);
                image = buffer.ToArray();
            }

            var thumbnail = await Task.Run(() => ThumbnailRenderer.Render(image, size, options.Format, options.Quality, options.MaxSourcePixels), ct);
            try
            {
                await using var pending = await blobs.BeginWriteAsync(key, ct);
                await pending.Content.WriteAsync(thumbnail.Bytes, ct);
                await pending.PublishAsync(ct);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or Amazon.Runtime.AmazonServiceException)
            {
                // The answer does not depend on the cache: the next request renders it again.
                logger.LogWarning(ex, "Thumbnail {Key} could not be stored", key);
            }

            return thumbnail;
        }
        finally
        {
            _slots.Release();
        }
    }

    public void Dispose() => _slots.Dispose();
}
