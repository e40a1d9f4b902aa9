using System.Globalization;
using Annex.Client;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Annex.Cli.Output;

/// <summary>Runs work under a live progress display on <paramref name="console"/>, or plainly when it is null (<c>--json</c>).</summary>
public sealed class ProgressBars(IAnsiConsole? console)
{
    /// <summary>Columns for counted work (tasks, items): done/total, rate and time left.</summary>
    public static ProgressColumn[] CountColumns() =>
        [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new CountColumn(), new RateColumn(), new RemainingTimeColumn()];

    /// <summary>Columns for bytes: received/total, transfer rate and time left.</summary>
    public static ProgressColumn[] ByteColumns() =>
        [new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new DownloadedColumn(), new TransferSpeedColumn(), new RemainingTimeColumn()];

    public async Task<T> RunAsync<T>(ProgressColumn[] columns, Func<ProgressContext?, Task<T>> work)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (console is null)
        {
            return await work(null);
        }

        return await console.Progress()
            .AutoClear(false)
            .HideCompleted(false)
            .Columns(columns)
            .StartAsync(work);
    }
}

/// <summary>Shows an export's tasks as they are written.</summary>
public sealed class ExportProgressBar(ProgressTask? task) : IProgress<ExportProgress>
{
    public void Report(ExportProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (task is null)
        {
            return;
        }

        // Spectre needs a positive maximum; an export of no tasks is complete once it is exported.
        var total = value.TotalTasks ?? 0;
        task.MaxValue = Math.Max(total, 1);
        task.Value = value.Status == ExportStatus.Exported && total == 0 ? 1 : value.ExportedTasks;
        task.Description = Markup.Escape($"{value.Export.Name} ({value.Status})");
        if (ExportStatus.IsFinal(value.Status))
        {
            task.StopTask();
        }
    }
}

/// <summary>Shows the bytes of an archive as they arrive.</summary>
public sealed class DownloadProgressBar(ProgressTask? task) : IProgress<DownloadProgress>
{
    public void Report(DownloadProgress value)
    {
        ArgumentNullException.ThrowIfNull(value);
        if (task is null)
        {
            return;
        }

        if (value.TotalBytes is { } total)
        {
            task.MaxValue = Math.Max(total, 1);
        }

        task.Value = value.BytesReceived;
        if (value.Attempt > 1)
        {
            task.Description = Markup.Escape($"download (resumed, attempt {value.Attempt})");
        }
    }
}

/// <summary>"done/total" for counted work.</summary>
public sealed class CountColumn : ProgressColumn
{
    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
    {
        ArgumentNullException.ThrowIfNull(task);
        return new Text(string.Create(CultureInfo.InvariantCulture, $"{task.Value:0}/{task.MaxValue:0}"));
    }
}

/// <summary>Units per second for counted work.</summary>
public sealed class RateColumn : ProgressColumn
{
    public override IRenderable Render(RenderOptions options, ProgressTask task, TimeSpan deltaTime)
    {
        ArgumentNullException.ThrowIfNull(task);
        return new Text(task.Speed is { } speed ? string.Create(CultureInfo.InvariantCulture, $"{speed:0.#}/s") : "-/s");
    }
}
