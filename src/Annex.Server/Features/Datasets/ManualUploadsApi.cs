using System.Globalization;
using System.Text.Json;
using Annex.Formats.Media;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Storage;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Datasets;

/// <summary>Where to send one file: a form POST to <c>url</c> with <c>fields</c> and then the file as <c>file</c>.</summary>
public sealed record UploadUrlResponse(string Url, IReadOnlyDictionary<string, string> Fields, Guid Uid, DateTime ExpiresAt);

/// <summary>The form a local-storage upload URL takes (for the API description): the file, after any fields.</summary>
public sealed record UploadForm(IFormFile File);

/// <summary>The body of <c>POST /datasets/manual-upload/file-upload-url/</c> (for the API description).</summary>
public sealed record UploadUrlBody(string DatasetName, string FilePathInDataset, long ContentLength);

/// <summary>
/// Avala's manual upload, as the Python SDK's <c>upload_files</c> / <c>create_from_local</c> drive it:
/// <list type="number">
/// <item><c>POST /datasets/manual-upload/file-upload-url/</c> with <c>dataset_name</c>,
/// <c>file_path_in_dataset</c> and <c>content_length</c> answers an upload form. On S3 it is a presigned POST
/// straight into the bucket; on local storage it is this server's <c>/datasets/manual-upload/{uid}/</c>,
/// signed, expiring and single-use, so it needs no API key.</item>
/// <item>The client POSTs the file there (multipart, the form's fields, then <c>file</c>).</item>
/// <item><c>POST /datasets/manual-upload/</c> with the dataset's create body creates the dataset named
/// <c>name</c> with one item per uploaded file: the path is its ref_id, the image's header its size.</item>
/// </list>
/// Files obey the item media rules: images only (PNG, JPEG, WebP, GIF, BMP), at most <c>Media:MaxUploadBytes</c>.
/// </summary>
public static class ManualUploadsApi
{
    /// <summary>How long an upload URL works.</summary>
    public static readonly TimeSpan UrlLifetime = TimeSpan.FromHours(1);

    public static RouteGroupBuilder MapManualUploadsApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/datasets/manual-upload").WithTags("Datasets");
        group.MapPost("/file-upload-url", CreateUploadUrl)
            .AcceptsBody<UploadUrlBody>()
            .Produces<UploadUrlResponse>()
            .ProducesErrors(StatusCodes.Status400BadRequest);
        group.MapPost("", CreateDataset)
            .AcceptsBody<CreateDatasetBody>()
            .Produces<DatasetResponse>(StatusCodes.Status201Created)
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status409Conflict);
        return api;
    }

    /// <summary>The upload URL on local storage carries its own authorization, so it sits outside the API-key group.</summary>
    public static IEndpointRouteBuilder MapManualUploadReceiver(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/v1/datasets/manual-upload/{uploadUid}", ReceiveUpload)
            .WithTags("Datasets")
            .AllowAnonymous()
            .WithMetadata(OwnBodyLimit.Instance)
            .AcceptsBody<UploadForm>("multipart/form-data")
            .Produces(StatusCodes.Status204NoContent)
            .ProducesErrors(StatusCodes.Status400BadRequest, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound, StatusCodes.Status409Conflict);
        return app;
    }

    /// <summary>What an upload link's signature covers; distinct from a download link's, so neither passes for the other.</summary>
    private static string Subject(Guid uploadUid) => $"upload.{uploadUid:N}";

    private static async Task<IResult> CreateUploadUrl(
        HttpContext http, AnnexDbContext db, IBlobStore blobs, UrlSigner signer, IOptions<MediaOptions> options, TimeProvider time, CancellationToken ct)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var body = document!.RootElement;
        var errors = new ValidationErrors();
        var datasetName = Fields.Text(body, "dataset_name", errors, maxLength: 255);
        var path = Fields.Text(body, "file_path_in_dataset", errors, maxLength: 1024);
        var limit = options.Value.MaxUploadBytes;
        long? contentLength = null;
        if (!body.TryGetProperty("content_length", out var lengthValue))
        {
            errors.Add("content_length", Fields.Required);
        }
        else if (!TryReadInteger(lengthValue, out var length))
        {
            errors.Add("content_length", lengthValue.ValueKind == JsonValueKind.Null ? Fields.NotNull : Fields.InvalidInteger);
        }
        else if (length < 1)
        {
            errors.Add("content_length", ItemMediaApi.EmptyFile);
        }
        else if (length > limit)
        {
            errors.Add("content_length", $"Ensure this file is at most {limit} bytes.");
        }
        else
        {
            contentLength = length;
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        var caller = http.Caller();
        var now = Clock.UtcNow(time);
        var uid = Guid.CreateVersion7();
        var upload = new ManualUpload
        {
            Uid = uid,
            OrganizationId = caller.OrganizationId,
            DatasetName = datasetName!,
            Path = path!,
            ContentLength = contentLength!.Value,
            BlobKey = ItemMediaApi.Key(caller.OrganizationId, uid),
            CreatedAt = now,
            ExpiresAt = now.Add(UrlLifetime),
        };
        db.ManualUploads.Add(upload);
        await db.SaveChangesAsync(ct);

        var expires = new DateTimeOffset(upload.ExpiresAt, TimeSpan.Zero);
        var target = blobs.CreateUploadTarget(upload.BlobKey, upload.ContentLength, expires)
            ?? new UploadTarget($"{signer.BaseUrl(http.Request)}/api/v1/datasets/manual-upload/{uid}/?{signer.Query(Subject(uid), expires)}", new Dictionary<string, string>());
        return Results.Json(new UploadUrlResponse(target.Url, target.Fields, uid, upload.ExpiresAt), ApiJson.Options);
    }

    private static bool TryReadInteger(JsonElement value, out long result)
    {
        result = 0;
        return value.ValueKind switch
        {
            JsonValueKind.Number => value.TryGetInt64(out result),
            JsonValueKind.String => long.TryParse(value.GetString()!.Trim(), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out result),
            _ => false,
        };
    }

    /// <summary>Receives one file for a local-storage upload URL. The URL is claimed before the bytes are read,
    /// so two uses of it cannot both succeed; a refused upload gives the claim back and may be sent again.</summary>
    private static async Task<IResult> ReceiveUpload(
        string uploadUid, HttpContext http, AnnexDbContext db, IBlobStore blobs, UrlSigner signer, IOptions<MediaOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (!Guid.TryParse(uploadUid, out var uid))
        {
            return ApiErrors.NotFound();
        }

        switch (signer.Check(Subject(uid), http.Request.Query["expires"], http.Request.Query["signature"]))
        {
            case SignedUrlCheck.BadSignature:
                return ApiErrors.Detail(StatusCodes.Status403Forbidden, "Invalid upload signature: the link was altered or is incomplete.");
            case SignedUrlCheck.Expired:
                return ApiErrors.Detail(StatusCodes.Status403Forbidden, "Upload link has expired; ask /datasets/manual-upload/file-upload-url/ for a new one.");
        }

        var upload = await db.ManualUploads.AsNoTracking().SingleOrDefaultAsync(u => u.Uid == uid, ct);
        if (upload is null)
        {
            // Its dataset was created meanwhile, or the organization is gone.
            return ApiErrors.NotFound();
        }

        var now = Clock.UtcNow(time);
        var claimed = await db.ManualUploads.Where(u => u.Id == upload.Id && u.ReceivedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(u => u.ReceivedAt, now), ct);
        if (claimed == 0)
        {
            return ApiErrors.Detail(StatusCodes.Status409Conflict, "This upload link was already used; ask /datasets/manual-upload/file-upload-url/ for a new one to send the file again.");
        }

        IResult? refusal = null;
        var stored = false;
        try
        {
            refusal = await ReceiveFileAsync(http, blobs, upload, Math.Min(upload.ContentLength, options.Value.MaxUploadBytes), ct);
            stored = refusal is null;
        }
        finally
        {
            if (!stored)
            {
                await db.ManualUploads.Where(u => u.Id == upload.Id).ExecuteUpdateAsync(s => s.SetProperty(u => u.ReceivedAt, (DateTime?)null), CancellationToken.None);
            }
        }

        return refusal ?? Results.NoContent();
    }

    /// <summary>Streams the form's <c>file</c> into the upload's blob, which is published only once its header
    /// proved it an image; null when it was stored, else the refusal.</summary>
    private static async Task<IResult?> ReceiveFileAsync(HttpContext http, IBlobStore blobs, ManualUpload upload, long limit, CancellationToken ct)
    {
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } bodySize)
        {
            // The multipart envelope and the form's fields add a little to the file itself.
            bodySize.MaxRequestBodySize = limit + (64 * 1024);
        }

        if (MultipartFile.Boundary(http.Request) is not { } boundary)
        {
            return FileError(ItemMediaApi.NoFile);
        }

        try
        {
            var section = await MultipartFile.FindAsync(http.Request, boundary, ct);
            if (section is null)
            {
                return FileError("No file was submitted.");
            }

            await using var pending = await blobs.BeginWriteAsync(upload.BlobKey, ct);
            var copy = await ItemMediaApi.CopyAsync(section.Body, pending.Content, limit, ct);
            if (copy.TooLarge)
            {
                return FileError($"Ensure this file is at most {limit} bytes (the content_length the upload link was made for).");
            }

            if (copy.Length == 0)
            {
                return FileError(ItemMediaApi.EmptyFile);
            }

            if (!ImageHeader.TryRead(copy.Head.AsSpan(0, copy.HeadLength), out _))
            {
                return FileError(ItemMediaApi.NotAnImage);
            }

            await pending.PublishAsync(ct);
            return null;
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or BadHttpRequestException)
        {
            return ex is BadHttpRequestException { StatusCode: StatusCodes.Status413PayloadTooLarge }
                ? FileError($"Ensure this file is at most {limit} bytes (the content_length the upload link was made for).")
                : FileError("The upload could not be read: the multipart body is malformed or was cut short.");
        }
    }

    private sealed record UploadedImage(ManualUpload Upload, ImageInfo Image, long Length);

    /// <summary>
    /// Creates the dataset named <c>name</c> from the files uploaded for that name: one item per file path
    /// (the newest upload of a path wins), with the image's type and size read from its header. A file that
    /// is not an image or is too large refuses the whole request and nothing is written, so the file can be
    /// uploaded again and the request repeated. Links that were never used are left alone.
    /// </summary>
    private static async Task<IResult> CreateDataset(
        HttpContext http, AnnexDbContext db, IBlobStore blobs, IOptions<MediaOptions> options, TimeProvider time, ILoggerFactory loggers, CancellationToken ct)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var caller = http.Caller();
        var errors = new ValidationErrors();
        var fields = await DatasetsApi.ReadDatasetFieldsAsync(document!.RootElement, caller, db, errors, ct);
        if (fields is null)
        {
            return errors.ToResult();
        }

        var uploads = await db.ManualUploads.AsNoTracking()
            .Where(u => u.OrganizationId == caller.OrganizationId && u.DatasetName == fields.Name)
            .OrderByDescending(u => u.Id)
            .ToListAsync(ct);
        var limit = options.Value.MaxUploadBytes;
        var images = new List<UploadedImage>();
        var consumed = new List<long>();
        var superseded = new List<string>();
        var paths = new HashSet<string>(StringComparer.Ordinal);
        foreach (var upload in uploads)
        {
            var blob = await blobs.OpenReadAsync(upload.BlobKey, ct);
            if (blob is null)
            {
                // Not uploaded (yet); its link may still be used for a dataset of this name later.
                continue;
            }

            await using (blob.Content)
            {
                consumed.Add(upload.Id);
                if (!paths.Add(upload.Path))
                {
                    superseded.Add(upload.BlobKey);
                    continue;
                }

                if (blob.Length > limit)
                {
                    errors.Add(["files", upload.Path], $"Ensure this file is at most {limit} bytes.");
                    continue;
                }

                var head = await ReadHeadAsync(blob.Content, ct);
                if (!ImageHeader.TryRead(head, out var image))
                {
                    errors.Add(["files", upload.Path], ItemMediaApi.NotAnImage);
                    continue;
                }

                images.Add(new UploadedImage(upload, image, blob.Length));
            }
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        if (images.Count == 0)
        {
            errors.Add("name", $"No files were uploaded for a dataset named \"{fields.Name}\"; upload them with /datasets/manual-upload/file-upload-url/ first.");
            return errors.ToResult();
        }

        var now = Clock.UtcNow(time);
        var dataset = DatasetsApi.NewDataset(fields, caller.OrganizationId, now);
        dataset.ItemCount = images.Count;
        try
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            db.Datasets.Add(dataset);
            await db.SaveChangesAsync(ct);
            db.DatasetItems.AddRange(images.OrderBy(i => i.Upload.Path, StringComparer.Ordinal).Select(i => new DatasetItem
            {
                Uid = i.Upload.Uid,
                DatasetId = dataset.Id,
                RefId = i.Upload.Path,
                Metadata = "{}",
                Width = i.Image.Width,
                Height = i.Image.Height,
                MediaKey = i.Upload.BlobKey,
                MediaContentType = i.Image.ContentType,
                MediaLength = i.Length,
                CreatedAt = now,
                UpdatedAt = now,
            }));
            await db.SaveChangesAsync(ct);
            foreach (var chunk in consumed.Chunk(500))
            {
                await db.ManualUploads.Where(u => chunk.Contains(u.Id)).ExecuteDeleteAsync(ct);
            }

            await transaction.CommitAsync(ct);
        }
        catch (DbUpdateException ex) when (DatabaseErrors.IsUniqueViolation(ex))
        {
            db.ChangeTracker.Clear();
            var slugTaken = await db.Datasets.AnyAsync(d => d.OrganizationId == caller.OrganizationId && d.Slug == fields.Slug, ct);
            return slugTaken
                ? DatasetsApi.SlugTaken(fields.Slug)
                : ApiErrors.Detail(StatusCodes.Status409Conflict, "Another request created a dataset from these uploads at the same time; nothing was written.");
        }

        // After the commit: older uploads of a path that a newer one replaced.
        foreach (var key in superseded)
        {
            try
            {
                await blobs.DeleteAsync(key, CancellationToken.None);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                loggers.CreateLogger(typeof(ManualUploadsApi)).LogWarning(ex, "Dataset {DatasetUid}: replaced upload {Key} could not be deleted", dataset.Uid, key);
            }
        }

        return Results.Json(DatasetsApi.ToResponse(dataset), ApiJson.Options, statusCode: StatusCodes.Status201Created);
    }

    private static async Task<byte[]> ReadHeadAsync(Stream content, CancellationToken ct)
    {
        var head = new byte[ItemMediaApi.HeaderBytes];
        var length = 0;
        int read;
        while (length < head.Length && (read = await content.ReadAsync(head.AsMemory(length), ct)) > 0)
        {
            length += read;
        }

        return head[..length];
    }

    private static IResult FileError(string message)
    {
        var errors = new ValidationErrors();
        errors.Add("file", message);
        return errors.ToResult();
    }
}
