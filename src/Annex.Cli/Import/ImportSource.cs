using System.IO.Compression;
using System.Text.Json;
using Annex.Formats;
using Annex.Formats.Import;

namespace Annex.Cli.Import;

/// <summary>The kinds of input <c>annex datasets import</c> reads.</summary>
public enum ImportFormat
{
    /// <summary>Decide from the path: a folder with a data.yaml or labels/ is YOLO, one with Annotations/*.xml is VOC,
    /// one with annotations/ is COCO, one with annotations.csv is CSV; a .csv is CSV; a .zip is VOC or CSV when it holds
    /// that export, else avala-json-external; a .json is COCO when it has <c>images</c>, else avala-json-external.</summary>
    Auto,
    Coco,
    Yolo,
    AvalaJson,
    Voc,
    Csv,
}

/// <summary>
/// What is read, item by item, and the folder its <see cref="ImportedItem.MediaPath"/>s are relative to (null when
/// there are no files). A zipped VOC export is unpacked into a temporary folder, deleted when the source is disposed.
/// </summary>
public sealed record ImportSource(ImportFormat Format, StreamedImport Import, string? MediaRoot) : IDisposable
{
    public ImportSource(ImportFormat format, ImportedDataset dataset, string? mediaRoot)
        : this(format, StreamedImport.FromDataset(dataset), mediaRoot)
    {
    }

    public string? TemporaryFolder { get; init; }

    public void Dispose()
    {
        Import.Dispose();
        if (TemporaryFolder is not null && Directory.Exists(TemporaryFolder))
        {
            Directory.Delete(TemporaryFolder, recursive: true);
        }
    }
}

public static class ImportSourceReader
{
    private static readonly string[] YoloMarkers = ["data.yaml", "data.yml", "dataset.yaml", "dataset.yml", "labels"];

    public static ImportFormat Parse(string name) => name.ToUpperInvariant() switch
    {
        "AUTO" => ImportFormat.Auto,
        "COCO" => ImportFormat.Coco,
        "YOLO" => ImportFormat.Yolo,
        "AVALA-JSON-EXTERNAL" or "AVALA-JSON" => ImportFormat.AvalaJson,
        "VOC" => ImportFormat.Voc,
        "CSV" => ImportFormat.Csv,
        _ => throw new CliException(ExitCodes.Usage, $"'{name}' is not an import format; use auto, coco, yolo, voc, csv or avala-json-external."),
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
                // Streamed: each label file is read again as its item is sent, so no annotations are held for long.
                return new ImportSource(chosen, YoloImporter.OpenStreamed(path), path);
            case ImportFormat.Coco when isFolder:
                return new ImportSource(chosen, CocoImporter.OpenFolderStreamed(path), path);
            case ImportFormat.Coco:
                // Streamed: the file is read twice, element by element, never whole.
                return new ImportSource(chosen, CocoImporter.OpenStreamed(path, Path.GetFileName(path)), null);

            case ImportFormat.AvalaJson when !isFolder:
                // Streamed: a first pass checks the document, a second hands out the items, element by element.
                return new ImportSource(chosen, AvalaJsonImporter.OpenStreamed(path), null);

            case ImportFormat.Voc when isFolder:
                // Streamed: each annotation file is read again as its item is sent.
                return new ImportSource(chosen, VocImporter.OpenStreamed(path), path);
            case ImportFormat.Voc:
                return ReadZippedVoc(path);
            case ImportFormat.Csv:
                var csv = isFolder ? Path.Combine(path, CsvArchiveWriter.EntryName) : path;
                if (!File.Exists(csv))
                {
                    throw new CliException(ExitCodes.Usage, $"{path}: a CSV import is a .csv file, a CSV export's zip or a folder with {CsvArchiveWriter.EntryName}.");
                }

                // Streamed: the file is read twice, record by record, never whole.
                return new ImportSource(chosen, CsvImporter.OpenStreamed(csv, Path.GetFileName(csv)), null);

            default:
                throw new CliException(ExitCodes.Usage, chosen == ImportFormat.Yolo
                    ? $"{path}: a YOLO dataset is a folder (with data.yaml, images/ and labels/)."
                    : $"{path}: an avala-json-external import is a .zip or .json file, not a folder.");
        }
    }

    /// <summary>The importer reads folders, and the images are uploaded from files: the zip is unpacked first.</summary>
    private static ImportSource ReadZippedVoc(string path)
    {
        var folder = Directory.CreateTempSubdirectory("annex-import-").FullName;
        try
        {
            try
            {
                ZipFile.ExtractToDirectory(path, folder);
            }
            catch (Exception e) when (e is InvalidDataException or IOException)
            {
                // IOException also covers an entry whose name would land outside the folder.
                throw new ImportException(Path.GetFileName(path), null, "cannot unpack the archive: " + e.Message, e);
            }

            return new ImportSource(ImportFormat.Voc, VocImporter.OpenStreamed(folder), folder) { TemporaryFolder = folder };
        }
        catch
        {
            Directory.Delete(folder, recursive: true);
            throw;
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

            // Before COCO: where file names ignore case, VOC's Annotations/ is also annotations/.
            var vocAnnotations = Path.Combine(path, "Annotations");
            if (Directory.Exists(vocAnnotations) && Directory.EnumerateFiles(vocAnnotations, "*.xml").Any())
            {
                return ImportFormat.Voc;
            }

            if (Directory.Exists(Path.Combine(path, "annotations")))
            {
                return ImportFormat.Coco;
            }

            if (File.Exists(Path.Combine(path, CsvArchiveWriter.EntryName)))
            {
                return ImportFormat.Csv;
            }

            throw new CliException(ExitCodes.Usage,
                $"{path}: not a YOLO folder (data.yaml, labels/), a VOC folder (Annotations/*.xml), a COCO folder (annotations/) or a CSV export ({CsvArchiveWriter.EntryName}); say which with --format.");
        }

        if (path.EndsWith(".csv", StringComparison.OrdinalIgnoreCase))
        {
            return ImportFormat.Csv;
        }

        if (path.EndsWith(".zip", StringComparison.OrdinalIgnoreCase))
        {
            return ZipKind(path);
        }

        return HasImagesArray(path) ? ImportFormat.Coco : ImportFormat.AvalaJson;
    }

    /// <summary>A VOC export's zip has Annotations/*.xml, a CSV export's has annotations.csv; any other is avala-json-external.</summary>
    private static ImportFormat ZipKind(string path)
    {
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var names = zip.Entries.Select(e => e.FullName).ToList();
            if (names.Any(n => n.StartsWith("Annotations/", StringComparison.Ordinal) && n.EndsWith(".xml", StringComparison.OrdinalIgnoreCase)))
            {
                return ImportFormat.Voc;
            }

            return names.Contains(CsvArchiveWriter.EntryName) ? ImportFormat.Csv : ImportFormat.AvalaJson;
        }
        catch (InvalidDataException)
        {
            // Not a zip this reader can open: the avala-json-external importer explains what is wrong with it.
            return ImportFormat.AvalaJson;
        }
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
