using System.Net.Http.Headers;

namespace Annex.Client;

/// <summary>What the server stored for an uploaded image.</summary>
/// <param name="ItemUid">The item the image belongs to.</param>
/// <param name="ContentType">The image type read from its header, e.g. <c>image/png</c>.</param>
/// <param name="Size">Bytes stored.</param>
/// <param name="Width">Width in pixels, read from the image.</param>
/// <param name="Height">Height in pixels, read from the image.</param>
public sealed record ItemMedia(Guid ItemUid, string ContentType, long Size, int Width, int Height);

public sealed partial class AnnexClient
{
    /// <summary>Uploads (or replaces) the image of an item from a file. The server reads the image type and
    /// pixel size from the file's header; a file that is not an image is an <see cref="AnnexValidationException"/>.</summary>
    /// <param name="datasetUid">The item's dataset.</param>
    /// <param name="itemUid">The item.</param>
    /// <param name="path">The image file; it is opened again for each retry.</param>
    /// <param name="cancellationToken">Stops the upload.</param>
    public async Task<ItemMedia> UploadItemMediaAsync(Guid datasetUid, Guid itemUid, string path, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var url = Url($"datasets/{Segment(datasetUid)}/items/{Segment(itemUid)}/media/");
        var fileName = Path.GetFileName(path);
        return await SendJsonAsync<ItemMedia>(
            () =>
            {
                var file = new StreamContent(File.OpenRead(path));
                file.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                var form = new MultipartFormDataContent { { file, "file", fileName } };
                return new HttpRequestMessage(HttpMethod.Put, url) { Content = form };
            },
            cancellationToken).ConfigureAwait(false);
    }
}

/// <summary>An image file to upload in bulk.</summary>
/// <param name="Name">The file name the server matches to an item: the item's <c>ref_id</c>, that without the
/// extension, or the item's uid followed by the extension (e.g. <c>3f2a...e1.jpg</c>).</param>
/// <param name="Path">Where the file is on disk.</param>
public sealed record MediaFile(string Name, string Path);

/// <summary>What the server stored for a bulk upload, one row per file in the order they were sent.</summary>
/// <param name="Uploaded">How many images were stored.</param>
/// <param name="Items">What was stored for each.</param>
public sealed record BulkItemMedia(int Uploaded, IReadOnlyList<ItemMedia> Items);

public sealed partial class AnnexClient
{
    /// <summary>The most files the server takes in one bulk upload by default (<c>Media:MaxFilesPerRequest</c>).</summary>
    public const int MaxFilesPerBulkUpload = 1000;

    /// <summary>Uploads the images of many items of one dataset in one request, streamed from disk. All or
    /// nothing: a file that is not an image or names no item is an <see cref="AnnexValidationException"/>
    /// naming it, and no image is changed.</summary>
    /// <param name="datasetUid">The items' dataset.</param>
    /// <param name="files">The files, each with the name that picks its item.</param>
    /// <param name="cancellationToken">Stops the upload.</param>
    public async Task<BulkItemMedia> UploadItemMediaBulkAsync(Guid datasetUid, IReadOnlyList<MediaFile> files, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(files);
        ArgumentOutOfRangeException.ThrowIfZero(files.Count);
        var url = Url($"datasets/{Segment(datasetUid)}/items/media/");
        return await SendJsonAsync<BulkItemMedia>(
            () =>
            {
                // Files are opened afresh for each attempt and read as the request is sent, never held whole.
                var form = new MultipartFormDataContent();
                foreach (var file in files)
                {
                    var content = new StreamContent(File.OpenRead(file.Path));
                    content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
                    form.Add(content, "files", file.Name);
                }

                return new HttpRequestMessage(HttpMethod.Post, url) { Content = form };
            },
            cancellationToken).ConfigureAwait(false);
    }
}
