using System.IO.Compression;
using System.Text;
using System.Text.Json.Nodes;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>An archive as text for comparing two exports: every entry's name, compression and content in archive
/// order, with the export's own name and time (zip timestamps, COCO's info, the avala-json-external export_info)
/// left out.</summary>
public static class ArchiveEntries
{
    public static IReadOnlyList<string> Normalized(byte[] archive)
    {
        using var zip = new ZipArchive(new MemoryStream(archive), ZipArchiveMode.Read);
        var entries = new List<string>();
        foreach (var entry in zip.Entries)
        {
            using var content = new MemoryStream();
            using (var stream = entry.Open())
            {
                stream.CopyTo(content);
            }

            var text = entry.FullName.EndsWith(".json", StringComparison.Ordinal) ? WithoutOwnNameAndTime(content.ToArray()) : Convert.ToBase64String(content.ToArray());
            entries.Add($"{entry.FullName} ({entry.CompressedLength > 0 && entry.CompressedLength != entry.Length}):\n{text}");
        }

        return entries;
    }

    private static string WithoutOwnNameAndTime(byte[] json)
    {
        var root = JsonNode.Parse(json);
        if (root is JsonObject document)
        {
            if (document["info"] is JsonObject info)
            {
                info.Remove("date_created");
                info.Remove("year");
            }

            if (document["export_info"] is JsonObject exportInfo)
            {
                exportInfo.Remove("name");
                exportInfo.Remove("created_at");
            }
        }

        return root?.ToJsonString() ?? Encoding.UTF8.GetString(json);
    }
}
