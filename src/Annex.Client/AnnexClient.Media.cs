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
