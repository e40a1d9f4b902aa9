using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Storage;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports;

public enum DownloadLinkCheck
{
    Valid,
    BadSignature,
    Expired,
}

/// <summary>Signed, expiring download URLs: they work without the API key, so they can be handed to
/// curl or a training job, and stop working after <see cref="ExportsOptions.DownloadUrlLifetime"/>.
/// Where the blob store can sign its own URLs (S3), the link goes straight to the store; otherwise it
/// points at this server's download endpoint.</summary>
public sealed class DownloadLinks(IOptions<ExportsOptions> options, UrlSigner signer, TimeProvider time, IBlobStore blobs)
{
    private readonly ExportsOptions _options = options.Value;

    public string Create(HttpRequest request, Export export)
    {
        var now = time.GetUtcNow();
        var expiresAt = now.Add(_options.DownloadUrlLifetime);
        // A link never outlives the archive. Once the archive expired, the link points at this server,
        // which answers 410 and says why, where the store would only answer "not found".
        var archiveExpired = export.ExpiresAt is { } archiveExpiresAt && archiveExpiresAt <= now.UtcDateTime;
        if (export.ExpiresAt is { } until && until < expiresAt.UtcDateTime && !archiveExpired)
        {
            expiresAt = new DateTimeOffset(until, TimeSpan.Zero);
        }

        if (!archiveExpired && blobs.HasReadUrls && export.ArchiveKey is { } key && blobs.CreateReadUrl(key, ExportArchive.DownloadName(export), expiresAt) is { } direct)
        {
            return direct;
        }

        return $"{signer.BaseUrl(request)}/api/v1/exports/{export.Uid}/download/?{signer.Query(Subject(export.Uid), expiresAt)}";
    }

    public DownloadLinkCheck Check(Guid exportUid, string? expires, string? signature) => signer.Check(Subject(exportUid), expires, signature) switch
    {
        SignedUrlCheck.Valid => DownloadLinkCheck.Valid,
        SignedUrlCheck.Expired => DownloadLinkCheck.Expired,
        _ => DownloadLinkCheck.BadSignature,
    };

    /// <summary>What a download link's signature covers: the export's uid alone (links signed before uploads
    /// shared the key keep working).</summary>
    private static string Subject(Guid exportUid) => exportUid.ToString("N");
}
