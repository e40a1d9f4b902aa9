using System.Globalization;
using Annex.Formats.Media;
using Annex.Server.Features.Thumbnails;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Datasets;

/// <summary>What a bulk upload stored: one row per file, in the order the files came.</summary>
public sealed record BulkItemMediaResponse(int Uploaded, IReadOnlyList<ItemMediaResponse> Items);

/// <summary>Any number of images, each a form part with a file name that names its item.</summary>
/// <remarks>Documentation only: the handler streams the multipart body itself.</remarks>
public sealed record BulkItemMediaUpload(IFormFileCollection Files);

/// <summary>
/// <c>POST /api/v1/datasets/{uid}/items/media/</c>: the images of many items in one multipart request, so a
/// folder of images costs a handful of requests rather than one per image. Each file part's name picks its
/// item: the item whose <c>ref_id</c> is the file name, else the file name without its extension, else whose
/// uid is the file name without its extension. Files stream one after another into the blob store under
/// fresh keys; the items point at them only once every file proved an image and found its item, so a
/// request that fails anywhere changes nothing (the blobs it wrote are removed).
/// </summary>
public static class BulkItemMediaApi
{
    public const string Field = "files";

    /// <summary>Room for the multipart envelope (boundaries, part headers) around the files themselves.</summary>
    private const long EnvelopeBytesPerFile = 16 * 1024;

    public static RouteGroupBuilder MapBulkItemMediaApi(this RouteGroupBuilder api)
    {
        api.MapPost("/datasets/{uid}/items/media", Upload)
            .WithTags("Datasets")
            .WithMetadata(OwnBodyLimit.Instance)
            .AcceptsBody<BulkItemMediaUpload>("multipart/form-data");
        return api;
    }

    private sealed record StoredFile(string FileName, string Key, long Size, ImageInfo Image);

    private static async Task<Results<Ok<BulkItemMediaResponse>, BadRequestError, NotFoundError, PayloadTooLargeError>> Upload(
        string uid, HttpContext http, AnnexDbContext db, IBlobStore blobs, IOptions<MediaOptions> options, IOptions<ThumbnailOptions> thumbnails, TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        var caller = http.Caller();
        if (!Guid.TryParse(uid, out var datasetUid))
        {
            return NotFoundError.Instance;
        }

        var datasetId = await db.Datasets.Where(d => d.Uid == datasetUid && d.OrganizationId == caller.OrganizationId).Select(d => (long?)d.Id).SingleOrDefaultAsync(ct);
        if (datasetId is null)
        {
            return NotFoundError.Instance;
        }

        var media = options.Value;
        var bodyLimit = media.MaxBulkUploadBytes + (media.MaxFilesPerRequest * EnvelopeBytesPerFile);
        if (http.Request.ContentLength > bodyLimit)
        {
            return TooLarge(media);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            bodySize.MaxRequestBodySize = bodyLimit;
        }

        if (MultipartFile.Boundary(http.Request) is not { } boundary)
        {
            return FieldError("Upload the images as multipart/form-data, one file part per image.");
        }

        var stored = new List<StoredFile>();
        var committed = false;
        try
        {
            var read = await ReadFilesAsync(http.Request.Body, boundary, caller.OrganizationId, blobs, media, stored, ct);
            if (read is not null)
            {
                return read;
            }

            var matched = await MatchAsync(db, datasetId.Value, stored, ct);
            if (matched.Error is not null)
            {
                return matched.Error;
            }

            var now = Clock.UtcNow(time);
            var replaced = new List<string>();
            var forgotten = new List<ThumbnailsApi.Source>();
            var answers = new List<ItemMediaResponse>(stored.Count);
            for (var i = 0; i < stored.Count; i++)
            {
                var (file, item) = (stored[i], matched.Items[i]);
                if (item.MediaKey is { } old)
                {
                    replaced.Add(old);
                    forgotten.AddRange(ItemMediaApi.ThumbnailSource(caller.OrganizationId, item));
                }

                // The pixels the annotations were drawn on are the image's own, so its header decides the size.
                item.MediaKey = file.Key;
                item.MediaContentType = file.Image.ContentType;
                item.MediaLength = file.Size;
                item.Width = file.Image.Width;
                item.Height = file.Image.Height;
                item.UpdatedAt = now;
                answers.Add(new ItemMediaResponse(item.Uid, file.Image.ContentType, file.Size, file.Image.Width, file.Image.Height));
            }

            await db.SaveChangesAsync(ct);
            committed = true;

            // After the rows let go of them, so a failure here leaves orphans, never dangling references.
            foreach (var key in replaced)
            {
                await blobs.DeleteAsync(key, CancellationToken.None);
            }

            await ThumbnailsApi.ForgetAsync(blobs, thumbnails.Value, forgotten, loggers.CreateLogger(typeof(BulkItemMediaApi).FullName!));

            return TypedResults.Ok(new BulkItemMediaResponse(answers.Count, answers));
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or BadHttpRequestException)
        {
            return ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? TooLarge(media)
                : FieldError("The upload could not be read: the multipart body is malformed or was cut short.");
        }
        finally
        {
            if (!committed)
            {
                await RemoveAsync(blobs, stored, loggers.CreateLogger(typeof(BulkItemMediaApi).FullName!));
            }
        }
    }

    /// <summary>Streams each file part into the store; null when all were images within the limits.</summary>
    private static async Task<BadRequestError?> ReadFilesAsync(
        Stream body, string boundary, long organizationId, IBlobStore blobs, MediaOptions media, List<StoredFile> stored, CancellationToken ct)
    {
        var reader = new MultipartReader(boundary, body) { BodyLengthLimit = null };
        long total = 0;
        MultipartSection? section;
        while ((section = await reader.ReadNextSectionAsync(ct)) is not null)
        {
            var disposition = section.GetContentDispositionHeader();
            var fileName = disposition is null ? null : HeaderFileName(disposition);
            if (fileName is null)
            {
                // Text fields carry nothing this route reads; drain them so the next part can be found.
                await section.Body.CopyToAsync(Stream.Null, ct);
                continue;
            }

            if (stored.Count == media.MaxFilesPerRequest)
            {
                return FieldError(string.Create(CultureInfo.InvariantCulture, $"Ensure this request has at most {media.MaxFilesPerRequest} files; send the rest in another request."));
            }

            if (fileName.Length == 0)
            {
                return FieldError(string.Create(CultureInfo.InvariantCulture, $"File {stored.Count + 1} has no file name; the file name says which item the image belongs to."));
            }

            var key = $"media/{organizationId}/{Guid.NewGuid():N}";
            await using var pending = await blobs.BeginWriteAsync(key, ct);
            var perFile = Math.Min(media.MaxUploadBytes, media.MaxBulkUploadBytes - total);
            var copy = await ItemMediaApi.CopyAsync(section.Body, pending.Content, perFile, ct);
            if (copy.TooLarge)
            {
                if (perFile < media.MaxUploadBytes)
                {
                    throw new BadHttpRequestException(TooLargeMessage(media), StatusCodes.Status413PayloadTooLarge);
                }

                return FieldError($"{fileName}: Ensure this file is at most {media.MaxUploadBytes} bytes.");
            }

            if (copy.Length == 0)
            {
                return FieldError($"{fileName}: {ItemMediaApi.EmptyFile}");
            }

            using var head = new MemoryStream(copy.Head, 0, copy.HeadLength, writable: false);
            if (!ImageHeader.TryRead(head, out var image))
            {
                return FieldError($"{fileName}: {ItemMediaApi.NotAnImage}");
            }

            var size = await pending.PublishAsync(ct);
            total += size;
            stored.Add(new StoredFile(fileName, key, size, image));
        }

        return stored.Count == 0 ? FieldError(ItemMediaApi.NoFile) : null;
    }

    private static string? HeaderFileName(Microsoft.Net.Http.Headers.ContentDispositionHeaderValue disposition)
    {
        if (disposition.FileNameStar.HasValue)
        {
            return disposition.FileNameStar.Value;
        }

        return disposition.FileName.HasValue ? Microsoft.Net.Http.Headers.HeaderUtilities.RemoveQuotes(disposition.FileName).Value : null;
    }

    private readonly record struct Matched(List<DatasetItem> Items, BadRequestError? Error);

    /// <summary>The item each file names, in the files' order; an error naming every file that found none, or
    /// that found an item another file of the request also found.</summary>
    private static async Task<Matched> MatchAsync(AnnexDbContext db, long datasetId, List<StoredFile> files, CancellationToken ct)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        var uids = new HashSet<Guid>();
        foreach (var file in files)
        {
            names.Add(file.FileName);
            names.Add(Stem(file.FileName));
            if (Guid.TryParse(Stem(file.FileName), out var parsed))
            {
                uids.Add(parsed);
            }
        }

        var items = new List<DatasetItem>(files.Count);
        foreach (var chunk in names.Chunk(500))
        {
            items.AddRange(await db.DatasetItems.Where(i => i.DatasetId == datasetId && chunk.Contains(i.RefId)).ToListAsync(ct));
        }

        foreach (var chunk in uids.Chunk(500))
        {
            items.AddRange(await db.DatasetItems.Where(i => i.DatasetId == datasetId && chunk.Contains(i.Uid)).ToListAsync(ct));
        }

        // The context returns one instance per row, so an item found both ways is the same object.
        var byRef = items.DistinctBy(i => i.Id).ToDictionary(i => i.RefId, StringComparer.Ordinal);
        var byUid = items.DistinctBy(i => i.Id).ToDictionary(i => i.Uid);
        var errors = new ValidationErrors();
        var taken = new Dictionary<long, string>();
        var matched = new List<DatasetItem>(files.Count);
        foreach (var file in files)
        {
            var stem = Stem(file.FileName);
            var item = byRef.GetValueOrDefault(file.FileName)
                ?? byRef.GetValueOrDefault(stem)
                ?? (Guid.TryParse(stem, out var parsed) ? byUid.GetValueOrDefault(parsed) : null);
            if (item is null)
            {
                errors.Add(Field, $"{file.FileName}: No item of this dataset has this file name (or its name without the extension) as its ref_id or uid.");
                continue;
            }

            if (!taken.TryAdd(item.Id, file.FileName))
            {
                errors.Add(Field, $"{file.FileName}: Item {item.RefId} already gets the file {taken[item.Id]} in this request.");
                continue;
            }

            matched.Add(item);
        }

        return new Matched(matched, errors.Any ? errors.ToBadRequest() : null);
    }

    private static string Stem(string fileName)
    {
        var dot = fileName.LastIndexOf('.');
        var slash = fileName.LastIndexOfAny(['/', '\\']);
        return dot > slash + 1 ? fileName[..dot] : fileName;
    }

    private static async Task RemoveAsync(IBlobStore blobs, List<StoredFile> stored, ILogger logger)
    {
        foreach (var file in stored)
        {
            try
            {
                await blobs.DeleteAsync(file.Key, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // Nothing points at it; an orphaned blob costs space, not correctness.
                logger.LogWarning(ex, "Could not remove blob {Key} of a rejected bulk upload", file.Key);
            }
        }
    }

    private static string TooLargeMessage(MediaOptions media) =>
        string.Create(CultureInfo.InvariantCulture, $"The images of one request may total at most {media.MaxBulkUploadBytes} bytes; send the rest in another request.");

    private static PayloadTooLargeError TooLarge(MediaOptions media) => new(TooLargeMessage(media));

    private static BadRequestError FieldError(string message)
    {
        var errors = new ValidationErrors();
        errors.Add(Field, message);
        return errors.ToBadRequest();
    }
}
