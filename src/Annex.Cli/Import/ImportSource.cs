using System.Text.Json;
using Annex.Formats.Import;

namespace Annex.Cli.Import;

/// <summary>The kinds of input <c>annex datasets import</c> reads.</summary>
public enum ImportFormat
{
    /// <summary>Decide from the path: a folder with a data.yaml or labels/ is YOLO, a folder with annotations/ is COCO,
    /// a .zip is avala-json-external, a .json is COCO when it has <c>images</c>, else avala-json-external.</summary>
    Auto,
    Coco,
    Yolo,
    AvalaJson,
}

/// <summary>What was read, and the folder its <see cref="ImportedItem.MediaPath"/>s are relative to (null when there are no files).</summary>
public sealed record ImportSource(ImportFormat Format, ImportedDataset Dataset, string? MediaRoot);

public static class ImportSourceReader
{
    private static readonly string[] YoloMarkers = ["data.yaml", "data.yml", "dataset.yaml", "dataset.yml", "labels"];

    public static ImportFormat Parse(string name) => name.ToUpperInvariant() switch
    {
        "AUTO" => ImportFormat.Auto,
        "COCO" => ImportFormat.Coco,
        "YOLO" => ImportFormat.Yolo,
        "AVALA-JSON-EXTERNAL" or "AVALA-JSON" => ImportFormat.AvalaJson,
        _ => throw new CliException(ExitCodes.Usage, $"'{name}' is not an import format; use auto, coco, yolo or avala-json-external."),
    };

    /// <summary>Reads <paramref name="path"/> with the importer of <paramref name="format"/> (detected when <see cref="ImportFormat.Auto"/>).</summary>
    public static ImportSource Read(string path, ImportFormat format)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var isFolder = Directory.Exists(path);
        if (!isFolder && !File.Exists(path))
        {
            throw new CliException(ExitCodes.Usage, $"{path}: no such file or folder.");
        }

        var chosen = format == ImportFormat.Auto ? Detect(path, isFolder) : format;
        switch (chosen)
        {
            case ImportFormat.Yolo when isFolder:
                return new ImportSource(chosen, YoloImporter.Read(path), path);
            case ImportFormat.Coco when isFolder:
                return new ImportSource(chosen, CocoImporter.ReadFolder(path), path);
            case ImportFormat.Coco:
                using (var file = File.OpenRead(path))
                {
                    return new ImportSource(chosen, CocoImporter.Read(file, Path.GetFileName(path)), null);
                }

            case ImportFormat.AvalaJson when !isFolder:
                using (var file = File.OpenRead(path))
                {
                    return new ImportSource(chosen, AvalaJsonImporter.Read(file), null);
                }

            default:
                throw new CliException(ExitCodes.Usage, chosen == ImportFormat.Yolo
                    ? $"{path}: a YOLO dataset is a folder (with data.yaml, images/ and labels/)."
                    : $"{path}: an avala-json-external import is a .zip or .json file, not a folder.");
        }
    }

    private static ImportFormat Detect(string path, bool isFolder)
    {
        if (isFolder)
        {
            if (YoloMarkers.Any(m => Path.Exists(Path.Combine(path, m))))
            {
                return ImportFormat.Yolo;
            }

            if (Directory.Exists(Path.Combine(path, "annotations")))
            {
                return ImportFormat.Coco;
            }

            throw new CliException(ExitCodes.Usage, $"{path}: neither a YOLO folder (data.yaml, labels/) nor a COCO folder (annotations/); say which with --format.");
        }

        if (path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            return ImportFormat.AvalaJson;
        }

        return HasImagesArray(path) ? ImportFormat.Coco : ImportFormat.AvalaJson;
    }

    /// <summary>COCO's top level has an <c>images</c> array; Avala's has <c>datasets</c>. Reads only up to the answer.</summary>
    private static bool HasImagesArray(string path)
    {
        using var file = File.OpenRead(path);
        var buffer = new byte[64 * 1024];
        var state = new JsonReaderState(new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var carried = 0;
        while (true)
        {
            var read = file.Read(buffer, carried, buffer.Length - carried);
            var final = read == 0;
            var reader = new Utf8JsonReader(buffer.AsSpan(0, carried + read), final, state);
            try
            {
                while (reader.Read())
                {
                    if (reader.CurrentDepth == 1 && reader.TokenType == JsonTokenType.PropertyName)
                    {
                        var name = reader.GetString();
                        if (name == "images")
                        {
                            return true;
                        }

                        if (name is "datasets" or "scheme_version" or "export_info")
                        {
                            return false;
                        }
                    }
                }
            }
            catch (JsonException)
            {
                // Not JSON this reader can read: let the importer the caller picks explain what is wrong.
                return false;
            }

            if (final)
            {
                return false;
            }

            state = reader.CurrentState;
            var consumed = (int)reader.BytesConsumed;
            carried = carried + read - consumed;
            Buffer.BlockCopy(buffer, consumed, buffer, 0, carried);
            if (carried == buffer.Length)
            {
                Array.Resize(ref buffer, buffer.Length * 2);
            }
        }
    }
}
