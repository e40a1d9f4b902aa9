using System.Globalization;
using System.Security.Cryptography;
using System.Text;
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
public sealed class DownloadLinks
{
    private const string KeyFileName = "download-signing-key";
    private readonly byte[] _key;
    private readonly ExportsOptions _options;
    private readonly TimeProvider _time;
    private readonly IBlobStore _blobs;

    public DownloadLinks(IOptions<ExportsOptions> options, IOptions<StorageOptions> storage, TimeProvider time, IBlobStore blobs)
    {
        _options = options.Value;
        _time = time;
        _blobs = blobs;
        _key = string.IsNullOrWhiteSpace(_options.DownloadSigningKey)
            ? LoadOrCreateKey(Path.Combine(storage.Value.DataPath, KeyFileName))
            : Convert.FromBase64String(_options.DownloadSigningKey);
    }

    public string Create(HttpRequest request, Export export)
    {
        var now = _time.GetUtcNow();
        var expiresAt = now.Add(_options.DownloadUrlLifetime);
        // A link never outlives the archive. Once the archive expired, the link points at this server,
        // which answers 410 and says why, where the store would only answer "not found".
        var archiveExpired = export.ExpiresAt is { } archiveExpiresAt && archiveExpiresAt <= now.UtcDateTime;
        if (export.ExpiresAt is { } until && until < expiresAt.UtcDateTime && !archiveExpired)
        {
            expiresAt = new DateTimeOffset(until, TimeSpan.Zero);
        }

        if (!archiveExpired && export.ArchiveKey is { } key && _blobs.CreateReadUrl(key, ExportArchive.DownloadName(export), expiresAt) is { } direct)
        {
            return direct;
        }

        var exportUid = export.Uid;
        var expires = expiresAt.ToUnixTimeSeconds();
        var baseUrl = string.IsNullOrWhiteSpace(_options.PublicBaseUrl)
            ? $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}"
            : _options.PublicBaseUrl.TrimEnd('/');
        var expiresText = expires.ToString(CultureInfo.InvariantCulture);
        return $"{baseUrl}/api/v1/exports/{exportUid}/download/?expires={expiresText}&signature={Sign(exportUid, expiresText)}";
    }

    public DownloadLinkCheck Check(Guid exportUid, string? expires, string? signature)
    {
        if (string.IsNullOrEmpty(expires) || string.IsNullOrEmpty(signature))
        {
            return DownloadLinkCheck.BadSignature;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(exportUid, expires));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature)))
        {
            return DownloadLinkCheck.BadSignature;
        }

        return long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) && unix >= _time.GetUtcNow().ToUnixTimeSeconds()
            ? DownloadLinkCheck.Valid
            : DownloadLinkCheck.Expired;
    }

    private string Sign(Guid exportUid, string expires)
    {
        var mac = HMACSHA256.HashData(_key, Encoding.UTF8.GetBytes($"{exportUid:N}.{expires}"));
        return Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
    }

    private static byte[] LoadOrCreateKey(string path)
    {
        if (File.Exists(path))
        {
            return Convert.FromBase64String(File.ReadAllText(path).Trim());
        }

        var key = RandomNumberGenerator.GetBytes(32);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, Convert.ToBase64String(key));
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // Two processes starting at once must end up with the same key: the first rename wins.
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException)
        {
            File.Delete(temp);
        }

        return Convert.FromBase64String(File.ReadAllText(path).Trim());
    }
}
