using System.Globalization;
using System.IO.Compression;
using System.Text.Json;

namespace Annex.Formats.Import;

/// <summary>
/// Reads an avala-json-external export: the zip Annex writes, or its JSON document on its own. The document is
/// checked with <see cref="AvalaJsonSchema"/> and every annotation with <see cref="AnnotationValidator"/>, so what
/// comes back is what the server would accept. Items of every dataset and labels of every project are merged.
/// </summary>
public static class AvalaJsonImporter
{
    private const string DefaultEntryName = "export.json";

    public static ImportedDataset Read(Stream zipOrJson)
    {
        ArgumentNullException.ThrowIfNull(zipOrJson);
        return ZipOrFile.Read(zipOrJson, ReadZip, json => ReadDocument(json, DefaultEntryName));
    }

    private static ImportedDataset ReadZip(Stream stream)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new ImportException("archive", null, "not a readable zip archive: " + e.Message, e);
        }

        using (zip)
        {
            var entries = zip.Entries.Where(e => e.FullName.EndsWith(".json", StringComparison.OrdinalIgnoreCase)).ToList();
            var entry = entries.FirstOrDefault(e => e.FullName == DefaultEntryName)
                ?? (entries.Count == 1 ? entries[0] : null)
                ?? throw new ImportException("archive", null, entries.Count == 0
                    ? $"the archive holds no JSON document (expected {DefaultEntryName})"
                    : $"the archive holds several JSON documents and none is {DefaultEntryName}");
            using var content = entry.Open();
            return ReadDocument(content, entry.FullName);
        }
    }

    private static ImportedDataset ReadDocument(Stream json, string file)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new ImportException(file, (int?)e.LineNumber + 1, "not valid JSON: " + CocoImporter.FirstSentence(e.Message), e);
        }

        using (document)
        {
            var violations = AvalaJsonSchema.Validate(document);
            if (violations.Count > 0)
            {
                var more = violations.Count > 1
                    ? string.Create(CultureInfo.InvariantCulture, $" (and {violations.Count - 1} more)")
                    : "";
                throw new ImportException(file, null, violations[0] + more);
            }

            return Map(document.RootElement, file);
        }
    }

    private static ImportedDataset Map(JsonElement root, string file)
    {
        var labels = new List<ImportedLabel>();
        var labelNames = new HashSet<string>(StringComparer.Ordinal);
        foreach (var project in root.GetProperty("projects").EnumerateArray())
        {
            foreach (var label in project.GetProperty("labels").EnumerateArray())
            {
                var name = label.GetProperty("name").GetString()!;
                if (labelNames.Add(name))
                {
                    labels.Add(new ImportedLabel(
                        name,
                        label.GetProperty("color").GetString(),
                        label.TryGetProperty("keypoints", out var keypoints) && keypoints.ValueKind == JsonValueKind.Array
                            ? [.. keypoints.EnumerateArray().Select(k => k.GetString() ?? "")]
                            : null,
                        label.TryGetProperty("skeleton", out var skeleton) && skeleton.ValueKind == JsonValueKind.Array
                            ? [.. skeleton.EnumerateArray().Select(edge => ReadEdge(edge, file, name))]
                            : null));
                }
            }
        }

        var annotationsByItem = new Dictionary<string, List<ImportedAnnotation>>(StringComparer.Ordinal);
        var resultIndex = 0;
        foreach (var result in root.GetProperty("results").EnumerateArray())
        {
            var itemUid = result.GetProperty("dataset_item_uid").GetString()!;
            if (!annotationsByItem.TryGetValue(itemUid, out var list))
            {
                list = [];
                annotationsByItem[itemUid] = list;
            }

            var annotationIndex = 0;
            foreach (var annotation in result.GetProperty("annotations").EnumerateArray())
            {
                var path = string.Create(CultureInfo.InvariantCulture, $"$.results[{resultIndex}].annotations[{annotationIndex}]");
                list.Add(Canonical(annotation, labelNames, file, path));
                annotationIndex++;
            }

            resultIndex++;
        }

        var items = new List<ImportedItem>();
        foreach (var dataset in root.GetProperty("datasets").EnumerateArray())
        {
            foreach (var item in dataset.GetProperty("items").EnumerateArray())
            {
                var uid = item.GetProperty("uid").GetString()!;
                items.Add(new ImportedItem(
                    item.GetProperty("ref_id").GetString()!,
                    Size(item, "width"),
                    Size(item, "height"),
                    item.GetProperty("metadata").GetRawText(),
                    null,
                    annotationsByItem.TryGetValue(uid, out var annotations) ? annotations : [])
                {
                    MediaUrl = item.TryGetProperty("media_url", out var url) && url.ValueKind == JsonValueKind.String ? url.GetString() : null,
                });
            }
        }

        return new ImportedDataset(labels, items);
    }

    private static ImportedAnnotation Canonical(JsonElement annotation, HashSet<string> labelNames, string file, string path) =>
        ImportJson.Canonical(annotation, labelNames.Contains, out var error)
        ?? throw new ImportException(file, null, $"{(error!.Path.Length == 0 ? path : $"{path}.{error.Path}")}: {error.Message}");

    private static int[] ReadEdge(JsonElement edge, string file, string label) =>
        edge.ValueKind == JsonValueKind.Array && edge.GetArrayLength() == 2
        && edge[0].ValueKind == JsonValueKind.Number && edge[0].TryGetInt32(out var a)
        && edge[1].ValueKind == JsonValueKind.Number && edge[1].TryGetInt32(out var b)
            ? [a, b]
            : throw new ImportException(file, null, $"the skeleton of label \"{label}\" has an edge that is not a pair of keypoint numbers");

    private static int? Size(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var size) ? size : null;
}
