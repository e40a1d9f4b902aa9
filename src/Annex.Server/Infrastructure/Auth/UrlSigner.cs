using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Annex.Server.Features.Exports;
using Annex.Server.Infrastructure.Storage;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Auth;

public enum SignedUrlCheck
{
    Valid,
    BadSignature,
    Expired,
}

/// <summary>Signs URLs that carry their own authorization (export downloads, manual uploads): an HMAC of what
/// the URL is for and when it expires, with one key per installation (<c>Exports:DownloadSigningKey</c>, or
/// one generated into the data folder), so every replica accepts what another signed.</summary>
public sealed class UrlSigner
{
    private const string KeyFileName = "download-signing-key";

    [ThreadStatic]
    private static IncrementalHash? t_hmac;

    [ThreadStatic]
    private static byte[]? t_hmacKey;

    /// <summary>Signatures this thread made lately, by subject and expiry: a list asked for many times a second
    /// signs the same links (the expiry counts in seconds), and the HMAC was a tenth of such a request's CPU.</summary>
    [ThreadStatic]
    private static Dictionary<(string Subject, string Expires), string>? t_signed;

    private const int SignedPerThread = 1024;

    private readonly byte[] _key;
    private readonly string? _publicBaseUrl;
    private readonly TimeProvider _time;

    public UrlSigner(IOptions<ExportsOptions> options, IOptions<StorageOptions> storage, TimeProvider time)
    {
        _time = time;
        _publicBaseUrl = options.Value.PublicBaseUrl;
        _key = string.IsNullOrWhiteSpace(options.Value.DownloadSigningKey)
            ? LoadOrCreateKey(Path.Combine(storage.Value.DataPath, KeyFileName))
            : Convert.FromBase64String(options.Value.DownloadSigningKey);
    }

    /// <summary>Scheme, host and base path that links to this server start with.</summary>
    public string BaseUrl(HttpRequest request) => string.IsNullOrWhiteSpace(_publicBaseUrl)
        ? $"{request.Scheme}://{request.Host.Value}{request.PathBase.Value}"
        : _publicBaseUrl.TrimEnd('/');

    /// <summary>The query that authorizes <paramref name="subject"/> until <paramref name="expiresAt"/>:
    /// <c>expires=...&amp;signature=...</c>.</summary>
    public string Query(string subject, DateTimeOffset expiresAt)
    {
        var expires = expiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return $"expires={expires}&signature={Sign(subject, expires)}";
    }

    public SignedUrlCheck Check(string subject, string? expires, string? signature)
    {
        if (string.IsNullOrEmpty(expires) || string.IsNullOrEmpty(signature))
        {
            return SignedUrlCheck.BadSignature;
        }

        var expected = Encoding.ASCII.GetBytes(Sign(subject, expires));
        if (!CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(signature)))
        {
            return SignedUrlCheck.BadSignature;
        }

        return long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var unix) && unix >= _time.GetUtcNow().ToUnixTimeSeconds()
            ? SignedUrlCheck.Valid
            : SignedUrlCheck.Expired;
    }

    private string Sign(string subject, string expires)
    {
        // A list of exports signs a link for each: the keyed HMAC is set up once per thread, not per link.
        if (!ReferenceEquals(t_hmacKey, _key) || t_hmac is null || t_signed is null)
        {
            t_hmac?.Dispose();
            t_hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, _key);
            t_hmacKey = _key;
            t_signed = new Dictionary<(string, string), string>(SignedPerThread);
        }

        if (t_signed.TryGetValue((subject, expires), out var known))
        {
            return known;
        }

        Span<byte> mac = stackalloc byte[32];
        t_hmac.AppendData(Encoding.UTF8.GetBytes($"{subject}.{expires}"));
        t_hmac.GetHashAndReset(mac);
        var signature = ApiKeys.Base64Url(mac);
        if (t_signed.Count >= SignedPerThread)
        {
            t_signed.Clear();
        }

        t_signed[(subject, expires)] = signature;
        return signature;
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
