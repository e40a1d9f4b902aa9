using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace Annex.Server.Features.Datasets;

/// <summary>The <c>file</c> part of a <c>multipart/form-data</c> body, as item media uploads and manual upload
/// forms send it; read as a stream, never buffered whole.</summary>
internal static class MultipartFile
{
    /// <summary>The body's boundary, or null when the body is not <c>multipart/form-data</c>.</summary>
    public static string? Boundary(HttpRequest request) =>
        MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
        && contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
        && HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is { Length: > 0 and <= 200 } boundary
            ? boundary
            : null;

    /// <summary>Skips the form's other fields to the first part named <c>file</c> that carries a file name;
    /// null when there is none.</summary>
    public static async Task<MultipartSection?> FindAsync(HttpRequest request, string boundary, CancellationToken cancellationToken)
    {
        var reader = new MultipartReader(boundary, request.Body);
        MultipartSection? section;
        while ((section = await reader.ReadNextSectionAsync(cancellationToken)) is not null)
        {
            if (section.GetContentDispositionHeader() is { } disposition
                && disposition.Name.Value == "file"
                && (disposition.FileName.HasValue || disposition.FileNameStar.HasValue))
            {
                return section;
            }
        }

        return null;
    }
}
