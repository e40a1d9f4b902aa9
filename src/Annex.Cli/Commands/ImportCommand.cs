using System.CommandLine;
using Annex.Cli.Import;
using Annex.Cli.Output;
using Spectre.Console;

namespace Annex.Cli.Commands;

public static class ImportCommand
{
    public static Command Create(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var command = new Command("import", """
            Import a COCO instances file or folder, a YOLO folder, a Pascal VOC folder, a CSV file or an export's zip
            (avala-json-external, VOC or CSV): creates a project with the source's labels and a dataset, then uploads
            items, results and images in large batches, several at once, with progress. Sources are read as
            streams, never whole (except a COCO folder whose split has both an instances and a person_keypoints
            file, merged in memory). Running the same import again continues it: the dataset and project are found by
            name, and items (by ref_id) and results already stored are skipped, not duplicated.
            """);
        CommandHelp.SetExamples(command, """
            annex datasets import ./annotations/instances_val2017.json --name "COCO val"
            annex datasets import ./yolo-dataset --name Traffic --project-name "Traffic detection"
            annex datasets import ./VOC2012 --name "VOC 2012"
            annex datasets import ./export.zip --dataset <existing-dataset-uid> --project <existing-project-uid>
            """);
        var path = new Argument<string>("path") { Description = "The file or folder to import." };
        var format = new Option<string>("--format", "-f")
        {
            Description = "auto, coco, yolo, voc, csv or avala-json-external.",
            DefaultValueFactory = _ => "auto",
        };
        format.AcceptOnlyFromAmong("auto", "coco", "yolo", "voc", "csv", "avala-json-external");
        var name = new Option<string?>("--name") { Description = "The new dataset's name (default: the file or folder name)." };
        var dataset = new Option<Guid?>("--dataset") { Description = "Add to this existing dataset instead of creating one.", HelpName = "uid" };
        var projectName = new Option<string?>("--project-name") { Description = "The new project's name (default: the dataset's name)." };
        var project = new Option<Guid?>("--project") { Description = "Put the results in this existing project (it must have every label).", HelpName = "uid" };
        var batch = new Option<int>("--batch-size")
        {
            Description = $"Items per request (their results go at most {Annex.Client.AnnexClient.MaxResultsPerRequest} per request).",
            DefaultValueFactory = _ => Annex.Client.AnnexClient.MaxItemsPerRequest,
        };
        batch.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > Annex.Client.AnnexClient.MaxItemsPerRequest)
            {
                r.AddError($"--batch-size must be between 1 and {Annex.Client.AnnexClient.MaxItemsPerRequest}.");
            }
        });
        var parallel = new Option<int>("--parallel")
        {
            Description = "Batches in flight at once.",
            DefaultValueFactory = _ => 4,
        };
        parallel.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > 16)
            {
                r.AddError("--parallel must be between 1 and 16.");
            }
        });
        command.Arguments.Add(path);
        command.Options.Add(format);
        command.Options.Add(name);
        command.Options.Add(dataset);
        command.Options.Add(projectName);
        command.Options.Add(project);
        command.Options.Add(batch);
        command.Options.Add(parallel);
        handlers.Set(command, async (context, ct) =>
        {
            var fullPath = context.Environment.FullPath(context.Value(path));
            using var source = ImportSourceReader.Read(fullPath, ImportSourceReader.Parse(context.Value(format)));
            var datasetName = context.Value(name) ?? Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(fullPath));
            var target = new ImportTarget(datasetName, context.Value(dataset), context.Value(projectName) ?? datasetName, context.Value(project));
            var uploader = new DatasetUploader(context.Client, context.Value(batch), context.Value(parallel));
            var summary = await context.Progress.RunAsync(ImportProgressBar.Columns(), async progress =>
                await uploader.UploadAsync(source, target, progress is null ? null : new ImportProgressBar(progress), ct));
            context.Show(summary, () => Summary(summary));
            return ExitCodes.Done;
        });
        return command;
    }

    private static Markup Summary(ImportSummary s)
    {
        var lines = new List<string>
        {
            $"Imported [bold]{s.Items}[/] items with [bold]{s.Annotations}[/] annotations ({s.Results} results, {s.Media} images).",
            $"dataset [bold]{s.DatasetUid}[/] {Markup.Escape(s.DatasetName)}",
            $"project [bold]{s.ProjectUid}[/] {Markup.Escape(s.ProjectName)}",
        };
        if (s.ItemsSkipped > 0 || s.ResultsSkipped > 0)
        {
            lines.Add($"Resumed: {s.ItemsSkipped} items and {s.ResultsSkipped} results were stored already and were kept as they are.");
        }

        if (s.Skipped.Count > 0)
        {
            lines.Add($"[yellow]Skipped {s.Skipped.Count} annotations Annex cannot store:[/]");
            lines.AddRange(s.Skipped.Take(20).Select(k => "  " + Markup.Escape(k)));
            if (s.Skipped.Count > 20)
            {
                lines.Add($"  ... and {s.Skipped.Count - 20} more (--json lists them all)");
            }
        }

        return new Markup(string.Join('\n', lines) + "\n");
    }
}

/// <summary>One bar for the whole import: items with their results, then images; the description counts each.</summary>
internal sealed class ImportProgressBar(ProgressContext context) : IProgress<ImportProgress>
{
    private readonly object _lock = new();
    private ProgressTask? _bar;

    public static ProgressColumn[] Columns() =>
        [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RateColumn(), new RemainingTimeColumn()];

    public void Report(ImportProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        lock (_lock)
        {
            _bar ??= context.AddTask("import", maxValue: 1);

            // The bar counts work units: an item with its result, and an image. Reports from parallel
            // batches may arrive out of order, so it only moves forward.
            _bar.MaxValue = Math.Max(value.ItemsTotal + value.ImagesTotal, 1);
            _bar.Value = Math.Max(_bar.Value, value.ItemsTotal + value.ImagesTotal == 0 ? 1 : value.Items + value.Images);
            var images = value.ImagesTotal > 0 ? $", images {value.Images:N0}/{value.ImagesTotal:N0}" : string.Empty;
            _bar.Description = Markup.Escape(string.Create(
                System.Globalization.CultureInfo.InvariantCulture,
                $"items {value.Items:N0}/{value.ItemsTotal:N0}, annotations {value.Annotations:N0}/{value.AnnotationsTotal:N0}{images}"));
        }
    }
}
