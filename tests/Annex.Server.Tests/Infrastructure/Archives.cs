using System.IO.Compression;
using System.Net;
using System.Text.Json;
using Xunit;

namespace Annex.Server.Tests.Infrastructure;

public static class Archives
{
    /// <summary>Downloads an archive from its download_url with a client that has no API key.</summary>
    public static async Task<byte[]> DownloadAsync(AnnexFactory factory, string downloadUrl)
    {
        using var anonymous = factory.CreateClientWithKey(null);
        using var response = await anonymous.GetAsync(new Uri(downloadUrl));
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/zip", response.Content.Headers.ContentType?.MediaType);
        return await response.Content.ReadAsByteArrayAsync();
    }

    /// <summary>The single JSON document an avala-json-external archive must hold.</summary>
    public static JsonDocument ReadSingleJson(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        var entry = Assert.Single(zip.Entries);
        Assert.EndsWith(".json", entry.FullName, StringComparison.Ordinal);
        using var stream = entry.Open();
        return JsonDocument.Parse(stream);
    }
}
