using System.CommandLine;
using System.Globalization;
using Annex.Cli.Output;
using Annex.Client;
using Spectre.Console;

namespace Annex.Cli.Commands;

/// <summary>Where a finished export's archive went (the <c>--json</c> answer of <c>download</c>).</summary>
public sealed record DownloadSummary(Guid Uid, string Path, long Bytes, int Resumes);

/// <summary>The <c>--json</c> answer of <c>annex export</c>.</summary>
public sealed record ExportRun(Export Export, DownloadSummary? Download);

public static class ExportCommands
{
    public static Command Exports(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var exports = new Command("exports", "Create, list, wait for, download and abort exports.");
        exports.Subcommands.Add(List(handlers));
        exports.Subcommands.Add(Get(handlers));
        exports.Subcommands.Add(Create(handlers));
        exports.Subcommands.Add(Wait(handlers));
        exports.Subcommands.Add(Download(handlers));
        exports.Subcommands.Add(Abort(handlers));
        return exports;
    }

    /// <summary><c>annex export</c>: create, wait and download in one.</summary>
    public static Command Export(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var command = new Command("export", """
            Create an export, wait for it with a progress bar and download its archive, in one command.
            Exits 0 once the archive is on disk, 1 when the export failed or was aborted.
            """);
        CommandHelp.SetExamples(command, """
            annex export --dataset <dataset-uid> --format YOLO --out ./train.zip
            annex export --project <project-uid> --format avala-json-external --filter 'label = "car"'
            """);
        var spec = new ExportSpecOptions(command);
        var interval = Arguments.Interval();
        var timeout = Arguments.Timeout();
        var output = Arguments.Out("Where to write the archive (default: ./<export uid>.zip).");
        command.Options.Add(interval);
        command.Options.Add(timeout);
        command.Options.Add(output);
        handlers.Set(command, async (context, ct) =>
        {
            var created = await context.Client.CreateExportAsync(spec.Request(context), ct);
            if (!context.Json)
            {
                context.Status.MarkupLine($"Created export [bold]{created.Uid}[/] ({Markup.Escape(created.Format)}).");
            }

            var done = await WaitAsync(context, created.Uid, context.Value(interval), context.Value(timeout), ct);
            if (done.Status != ExportStatus.Exported)
            {
                context.Show(new ExportRun(done, null), () => Tables.Export(done));
                return ExitCodes.Failed;
            }

            var download = await DownloadAsync(context, done, context.Value(output), ct);
            context.Show(new ExportRun(done, download), () => new Markup($"Saved [bold]{Markup.Escape(download.Path)}[/] ({Bytes(download.Bytes)}, {Tables.TaskCount(done)} tasks).\n"));
            return ExitCodes.Done;
        });
        return command;
    }

    private static Command List(Handlers handlers)
    {
        var command = new Command("list", "List exports, newest first.");
        CommandHelp.SetExamples(command, """
            annex exports list
            annex exports list --ordering name --limit 10 --json
            """);
        var ordering = new Option<string?>("--ordering")
        {
            Description = "created_at, name or status; prefix with - to reverse (default: -created_at).",
        };
        ordering.AcceptOnlyFromAmong("created_at", "-created_at", "name", "-name", "status", "-status");
        var limit = new Option<int>("--limit") { Description = "Show at most this many.", DefaultValueFactory = _ => 50 };
        limit.Validators.Add(r => { if (r.GetValueOrDefault<int>() < 1) { r.AddError("--limit must be at least 1."); } });
        command.Options.Add(ordering);
        command.Options.Add(limit);
        handlers.Set(command, async (context, ct) =>
        {
            var rows = await context.Client.ListExportsAsync(context.Value(ordering), ct).Take(context.Value(limit)).ToListAsync(ct);
            context.Show(rows, () => Tables.Exports(rows));
            return ExitCodes.Done;
        });
        return command;
    }

    private static Command Get(Handlers handlers)
    {
        var command = new Command("get", "Show one export: status, task counts, and its download link once exported.");
        CommandHelp.SetExamples(command, """
            annex exports get <uid>
            annex exports get <uid> --json
            """);
        var uid = Arguments.Uid("export");
        command.Arguments.Add(uid);
        handlers.Set(command, async (context, ct) =>
        {
            var export = await context.Client.GetExportAsync(context.Value(uid), ct);
            context.Show(export, () => Tables.Export(export));
            return ExitCodes.Done;
        });
        return command;
    }

    private static Command Create(Handlers handlers)
    {
        var command = new Command("create", """
            Queue an export of datasets, projects and slices (at least one); prints the new export.
            With --dry-run, creates nothing and prints how many items and tasks the export would hold.
            """);
        CommandHelp.SetExamples(command, """
            annex exports create --dataset <uid> --format COCO
            annex exports create --project <uid> --slice <uid> --format avala-json-external --name "Night set"
            annex exports create --dataset <uid> --format YOLO --filter 'label = "car"' --dry-run
            """);
        var spec = new ExportSpecOptions(command);
        var dryRun = new Option<bool>("--dry-run") { Description = "Check the export and count its items and tasks, without creating it." };
        command.Options.Add(dryRun);
        handlers.Set(command, async (context, ct) =>
        {
            if (context.Value(dryRun))
            {
                var preview = await context.Client.PreviewExportAsync(spec.Request(context), ct);
                context.Show(preview, () => Tables.Preview(preview));
                return ExitCodes.Done;
            }

            var export = await context.Client.CreateExportAsync(spec.Request(context), ct);
            context.Show(export, () => Tables.Export(export));
            return ExitCodes.Done;
        });
        return command;
    }

    private static Command Wait(Handlers handlers)
    {
        var command = new Command("wait", """
            Wait for an export to finish, with a progress bar (tasks exported / total, rate, time left).
            Exits 0 when it is exported, 1 when it failed or was aborted, or when --timeout passed.
            """);
        CommandHelp.SetExamples(command, """
            annex exports wait <uid>
            annex exports wait <uid> --interval 2 --timeout 600 --json
            """);
        var uid = Arguments.Uid("export");
        var interval = Arguments.Interval();
        var timeout = Arguments.Timeout();
        command.Arguments.Add(uid);
        command.Options.Add(interval);
        command.Options.Add(timeout);
        handlers.Set(command, async (context, ct) =>
        {
            var done = await WaitAsync(context, context.Value(uid), context.Value(interval), context.Value(timeout), ct);
            context.Show(done, () => Tables.Export(done));
            return done.Status == ExportStatus.Exported ? ExitCodes.Done : ExitCodes.Failed;
        });
        return command;
    }

    private static Command Download(Handlers handlers)
    {
        var command = new Command("download", "Download an exported archive, with a progress bar; an interrupted download is resumed and the size checked.");
        CommandHelp.SetExamples(command, """
            annex exports download <uid> --out ./train.zip
            """);
        var uid = Arguments.Uid("export");
        var output = Arguments.Out("Where to write the archive (default: ./<export uid>.zip).");
        command.Arguments.Add(uid);
        command.Options.Add(output);
        handlers.Set(command, async (context, ct) =>
        {
            var export = await context.Client.GetExportAsync(context.Value(uid), ct);
            if (export.Status != ExportStatus.Exported)
            {
                throw new CliException(ExitCodes.Failed, $"Export {export.Uid} is {export.Status}; only an exported export has an archive.");
            }

            var download = await DownloadAsync(context, export, context.Value(output), ct);
            context.Show(download, () => new Markup($"Saved [bold]{Markup.Escape(download.Path)}[/] ({Bytes(download.Bytes)}).\n"));
            return ExitCodes.Done;
        });
        return command;
    }

    private static Command Abort(Handlers handlers)
    {
        var command = new Command("abort", "Stop a queued or running export; it leaves no archive.");
        CommandHelp.SetExamples(command, """
            annex exports abort <uid>
            """);
        var uid = Arguments.Uid("export");
        command.Arguments.Add(uid);
        handlers.Set(command, async (context, ct) =>
        {
            var export = await context.Client.AbortExportAsync(context.Value(uid), ct);
            context.Show(export, () => Tables.Export(export));
            return ExitCodes.Done;
        });
        return command;
    }

    private static async Task<Export> WaitAsync(CliContext context, Guid uid, double interval, double? timeout, CancellationToken ct) =>
        await context.Progress.RunAsync(ProgressBars.CountColumns(), async progress =>
        {
            var bar = new ExportProgressBar(progress?.AddTask("export (requested)", maxValue: 1));
            return await context.Client.WaitForExportAsync(
                uid,
                TimeSpan.FromSeconds(interval),
                timeout is { } seconds ? TimeSpan.FromSeconds(seconds) : null,
                bar,
                ct);
        });

    private static async Task<DownloadSummary> DownloadAsync(CliContext context, Export export, string? output, CancellationToken ct)
    {
        var path = context.Environment.FullPath(output ?? $"{export.Uid:D}.zip");
        var result = await context.Progress.RunAsync(ProgressBars.ByteColumns(), async progress =>
        {
            var bar = new DownloadProgressBar(progress?.AddTask("download", maxValue: 1));
            return await context.Client.DownloadExportAsync(export.Uid, path, bar, ct);
        });
        return new DownloadSummary(export.Uid, result.Path, result.Bytes, result.Resumes);
    }

    private static string Bytes(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0.#} KiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
    };
}

/// <summary>The options that say what an export covers, shared by <c>exports create</c> and <c>export</c>.</summary>
internal sealed class ExportSpecOptions
{
    private readonly Option<Guid[]> _datasets = Arguments.Uids("--dataset", "A dataset to export (repeat for several).");
    private readonly Option<Guid[]> _projects = Arguments.Uids("--project", "A project whose results to export (repeat for several).");
    private readonly Option<Guid[]> _slices = Arguments.Uids("--slice", "A slice to export (repeat for several).");
    private readonly Option<string> _format = new("--format", "-f") { Description = "The archive format; 'annex formats' lists them.", Required = true };
    private readonly Option<string?> _name = new("--name") { Description = "A name for the export (default: the format and the time)." };
    private readonly Option<string?> _filter = new("--filter") { Description = "A filter query, e.g. 'label = \"car\" AND metadata.time = \"night\"'.", HelpName = "query" };
    private readonly Option<Guid[]> _versions = Arguments.Uids("--version", "A dataset version to export, as it was when made (repeat for several).");
    private readonly Option<Guid?> _since = new("--since") { Description = "Export only what changed since this version of the dataset, plus what was removed.", HelpName = "version-uid" };
    private readonly Option<Guid?> _sinceExport = new("--since-export") { Description = "Export only what changed since this earlier export of a version.", HelpName = "export-uid" };

    public ExportSpecOptions(Command command)
    {
        command.Options.Add(_datasets);
        command.Options.Add(_projects);
        command.Options.Add(_slices);
        command.Options.Add(_format);
        command.Options.Add(_name);
        command.Options.Add(_filter);
        command.Options.Add(_versions);
        command.Options.Add(_since);
        command.Options.Add(_sinceExport);
        command.Validators.Add(result =>
        {
            if ((result.GetValue(_datasets)?.Length ?? 0) + (result.GetValue(_projects)?.Length ?? 0) + (result.GetValue(_slices)?.Length ?? 0) + (result.GetValue(_versions)?.Length ?? 0) == 0)
            {
                result.AddError("Name at least one --dataset, --project, --slice or --version.");
            }

            if (result.GetValue(_since) is not null && result.GetValue(_sinceExport) is not null)
            {
                result.AddError("Name at most one base: --since or --since-export.");
            }
        });
    }

    public CreateExportRequest Request(CliContext context)
    {
        var format = context.Value(_format);
        var name = context.Value(_name)
            ?? string.Create(CultureInfo.InvariantCulture, $"{format} export {DateTime.UtcNow:yyyy-MM-dd HH:mm:ss}");
        return new CreateExportRequest(
            name,
            format,
            context.Value(_datasets) ?? [],
            context.Value(_projects) ?? [],
            context.Value(_slices) ?? [],
            context.Value(_filter))
        {
            Versions = context.Value(_versions) is { Length: > 0 } versions ? versions : null,
            SinceVersion = context.Value(_since),
            SinceExport = context.Value(_sinceExport),
        };
    }
}
