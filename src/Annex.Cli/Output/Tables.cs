using System.Globalization;
using Annex.Client;
using Spectre.Console;

namespace Annex.Cli.Output;

/// <summary>The tables and detail grids lists and single objects are shown as.</summary>
public static class Tables
{
    public static Table Exports(IEnumerable<Export> exports)
    {
        var table = New("Uid", "Name", "Format", "Status", "Tasks", "Created (UTC)");
        foreach (var e in exports)
        {
            table.AddRow(Cell(e.Uid), Cell(e.Name), Cell(e.Format), Status(e.Status), Cell(TaskCount(e)), Cell(Time(e.CreatedAt)));
        }

        return table;
    }

    public static Table Export(Export e)
    {
        var grid = Details();
        Row(grid, "uid", e.Uid.ToString());
        Row(grid, "name", e.Name);
        Row(grid, "format", e.Format);
        grid.AddRow(new Markup("[bold]status[/]"), Status(e.Status));
        Row(grid, "tasks", TaskCount(e));
        Row(grid, "datasets", string.Join(", ", e.Datasets));
        Row(grid, "projects", string.Join(", ", e.Projects));
        Row(grid, "slices", string.Join(", ", e.Slices));
        Row(grid, "filter", e.FilterQueryString);
        Row(grid, "created", Time(e.CreatedAt));
        Row(grid, "error", e.Error);
        Row(grid, "download_url", e.DownloadUrl);
        return grid;
    }

    /// <summary>An export preview: one row per named source, then the export's totals (sources may overlap).</summary>
    public static Table Preview(ExportPreview preview)
    {
        var table = New("Source", "Uid", "Name", "Items", "Tasks");
        foreach (var s in preview.Sources)
        {
            table.AddRow(Cell(s.Type), Cell(s.Uid), Cell(s.Name), Cell(Count(s.ItemCount)), Cell(Count(s.TaskCount)));
        }

        table.AddRow(new Markup("[bold]export[/]"), Cell(string.Empty), Cell("(nothing created)"), new Markup($"[bold]{Count(preview.TotalItemCount)}[/]"), new Markup($"[bold]{Count(preview.TotalTaskCount)}[/]"));
        return table;
    }

    private static string Count(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static Table Formats(IEnumerable<ExportFormat> formats)
    {
        var table = New("Format", "Annotation types", "Description");
        foreach (var f in formats)
        {
            table.AddRow(Cell(f.Name), Cell(string.Join(", ", f.AnnotationTypes ?? [])), Cell(f.Description ?? string.Empty));
        }

        return table;
    }

    public static Table Datasets(IEnumerable<Dataset> datasets)
    {
        var table = New("Uid", "Name", "Items", "Created (UTC)");
        foreach (var d in datasets)
        {
            table.AddRow(Cell(d.Uid), Cell(d.Name), Cell(d.ItemCount.ToString(CultureInfo.InvariantCulture)), Cell(Time(d.CreatedAt)));
        }

        return table;
    }

    public static Table Projects(IEnumerable<Project> projects)
    {
        var table = New("Uid", "Name", "Labels", "Created (UTC)");
        foreach (var p in projects)
        {
            table.AddRow(Cell(p.Uid), Cell(p.Name), Cell(string.Join(", ", p.Labels.Select(l => l.Name))), Cell(Time(p.CreatedAt)));
        }

        return table;
    }

    public static Table Slices(IEnumerable<Slice> slices)
    {
        var table = New("Uid", "Name", "Items", "Created (UTC)");
        foreach (var s in slices)
        {
            table.AddRow(Cell(s.Uid), Cell(s.Name), Cell(s.ItemCount.ToString(CultureInfo.InvariantCulture)), Cell(Time(s.CreatedAt)));
        }

        return table;
    }

    public static Table Versions(IEnumerable<DatasetVersion> versions)
    {
        var table = New("Uid", "Name", "Projects", "Created (UTC)");
        foreach (var v in versions)
        {
            table.AddRow(Cell(v.Uid), Cell(v.Name), Cell(v.Projects.Count == 0 ? "all" : string.Join(", ", v.Projects)), Cell(Time(v.CreatedAt)));
        }

        return table;
    }

    public static Table Diff(VersionDiff diff)
    {
        var table = New("Item", "Change");
        foreach (var item in diff.Items)
        {
            table.AddRow(Cell(item.Uid), Cell(item.Change));
        }

        table.Caption(string.Create(CultureInfo.InvariantCulture, $"{diff.Added} added, {diff.Changed} changed, {diff.Removed} removed"));
        return table;
    }

    /// <summary>"exported / total", with "?" while the total is not known yet.</summary>
    public static string TaskCount(Export e) => string.Create(
        CultureInfo.InvariantCulture,
        $"{e.ExportedTaskCount ?? 0}/{(e.TotalTaskCount is { } total ? total.ToString(CultureInfo.InvariantCulture) : "?")}");

    private static Table New(params string[] columns)
    {
        var table = new Table().Border(TableBorder.Rounded);
        foreach (var column in columns)
        {
            table.AddColumn(new TableColumn(new Markup($"[bold]{Markup.Escape(column)}[/]")));
        }

        return table;
    }

    private static Table Details()
    {
        var grid = new Table().Border(TableBorder.None).HideHeaders();
        grid.AddColumn(new TableColumn(string.Empty));
        grid.AddColumn(new TableColumn(string.Empty));
        return grid;
    }

    private static void Row(Table grid, string name, string? value)
    {
        if (!string.IsNullOrEmpty(value))
        {
            grid.AddRow(new Markup($"[bold]{Markup.Escape(name)}[/]"), new Text(value));
        }
    }

    private static Text Cell(Guid uid) => new(uid.ToString("D"));

    private static Text Cell(string text) => new(text);

    private static Markup Status(string status) => new(status switch
    {
        ExportStatus.Exported => $"[green]{Markup.Escape(status)}[/]",
        ExportStatus.Failed or ExportStatus.Aborted => $"[red]{Markup.Escape(status)}[/]",
        _ => $"[yellow]{Markup.Escape(status)}[/]",
    });

    private static string Time(DateTime time) => time.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);
}
