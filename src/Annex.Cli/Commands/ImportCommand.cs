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
            items, results and images in batches, with progress.
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
            Description = "Items and results per request.",
            DefaultValueFactory = _ => 1000,
        };
        batch.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() is < 1 or > Annex.Client.AnnexClient.MaxResultsPerRequest)
            {
                r.AddError($"--batch-size must be between 1 and {Annex.Client.AnnexClient.MaxResultsPerRequest}.");
            }
        });
        command.Arguments.Add(path);
        command.Options.Add(format);
        command.Options.Add(name);
        command.Options.Add(dataset);
        command.Options.Add(projectName);
        command.Options.Add(project);
        command.Options.Add(batch);
        handlers.Set(command, async (context, ct) =>
        {
            var fullPath = context.Environment.FullPath(context.Value(path));
            using var source = ImportSourceReader.Read(fullPath, ImportSourceReader.Parse(context.Value(format)));
            var datasetName = context.Value(name) ?? Path.GetFileNameWithoutExtension(Path.TrimEndingDirectorySeparator(fullPath));
            var target = new ImportTarget(datasetName, context.Value(dataset), context.Value(projectName) ?? datasetName, context.Value(project));
            var uploader = new DatasetUploader(context.Client, context.Value(batch));
            var summary = await context.Progress.RunAsync(ProgressBars.CountColumns(), async progress =>
                await uploader.UploadAsync(source, target, progress is null ? null : new ImportProgressBars(progress), ct));
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

/// <summary>One bar per import stage, added as the stage starts.</summary>
internal sealed class ImportProgressBars(ProgressContext context) : IProgress<ImportProgress>
{
    private readonly Dictionary<ImportStage, ProgressTask> _bars = [];

    public void Report(ImportProgress value)
    {
        lock (_bars)
        {
            if (!_bars.TryGetValue(value.Stage, out var bar))
            {
                bar = context.AddTask(value.Stage.ToString().ToLowerInvariant(), maxValue: Math.Max(value.Total, 1));
                _bars[value.Stage] = bar;
            }

            // Reports from parallel uploads may arrive out of order: the bar only moves forward.
            bar.Value = Math.Max(bar.Value, value.Total == 0 ? 1 : value.Done);
        }
    }
}
