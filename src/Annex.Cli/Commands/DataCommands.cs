using System.CommandLine;
using System.Text.RegularExpressions;
using Annex.Cli.Import;
using Annex.Cli.Output;
using Annex.Client;

namespace Annex.Cli.Commands;

public static partial class DataCommands
{
    public static Command Datasets(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var datasets = new Command("datasets", "Create, list and import datasets.");

        var create = new Command("create", "Create an empty dataset.");
        CommandHelp.SetExamples(create, """
            annex datasets create "Highway Scenes"
            """);
        var name = new Argument<string>("name") { Description = "The dataset's name." };
        create.Arguments.Add(name);
        handlers.Set(create, async (context, ct) =>
        {
            var dataset = await context.Client.CreateDatasetAsync(context.Value(name), ct);
            context.Show(dataset, () => Tables.Datasets([dataset]));
            return ExitCodes.Done;
        });

        var list = new Command("list", "List the organization's datasets, oldest first.");
        CommandHelp.SetExamples(list, """
            annex datasets list --json
            """);
        handlers.Set(list, async (context, ct) =>
        {
            var rows = await context.Client.ListDatasetsAsync(ct).ToListAsync(ct);
            context.Show(rows, () => Tables.Datasets(rows));
            return ExitCodes.Done;
        });

        datasets.Subcommands.Add(create);
        datasets.Subcommands.Add(list);
        datasets.Subcommands.Add(ImportCommand.Create(handlers));
        return datasets;
    }

    public static Command Projects(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var projects = new Command("projects", "Create and list projects (label taxonomies).");

        var create = new Command("create", "Create a project with an ordered label taxonomy (the order is the class order of every export format).");
        CommandHelp.SetExamples(create, """
            annex projects create "Object Detection" --label car --label pedestrian:#00FF00
            """);
        var name = new Argument<string>("name") { Description = "The project's name." };
        var labels = new Option<string[]>("--label")
        {
            Description = "A label, as name or name:#RRGGBB (repeat, in class order).",
            HelpName = "name[:#color]",
            Required = true,
        };
        create.Arguments.Add(name);
        create.Options.Add(labels);
        handlers.Set(create, async (context, ct) =>
        {
            var taxonomy = ParseLabels(context.Value(labels));
            var project = await context.Client.CreateProjectAsync(context.Value(name), taxonomy, ct);
            context.Show(project, () => Tables.Projects([project]));
            return ExitCodes.Done;
        });

        var list = new Command("list", "List the organization's projects, oldest first.");
        CommandHelp.SetExamples(list, """
            annex projects list
            """);
        handlers.Set(list, async (context, ct) =>
        {
            var rows = await context.Client.ListProjectsAsync(ct).ToListAsync(ct);
            context.Show(rows, () => Tables.Projects(rows));
            return ExitCodes.Done;
        });

        projects.Subcommands.Add(create);
        projects.Subcommands.Add(list);
        return projects;
    }

    public static Command Slices(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var slices = new Command("slices", "Create and list slices (named sets of items, from any datasets).");

        var create = new Command("create", "Create a slice of items: named one by one, or every item of a dataset.");
        CommandHelp.SetExamples(create, """
            annex slices create "hard cases" --item <item-uid> --item <item-uid>
            annex slices create "all of val" --dataset <dataset-uid>
            """);
        var name = new Argument<string>("name") { Description = "The slice's name." };
        var items = Arguments.Uids("--item", "An item to put in the slice (repeat).");
        var datasets = Arguments.Uids("--dataset", "Put every item of this dataset in the slice (repeat).");
        create.Arguments.Add(name);
        create.Options.Add(items);
        create.Options.Add(datasets);
        create.Validators.Add(result =>
        {
            if ((result.GetValue(items)?.Length ?? 0) + (result.GetValue(datasets)?.Length ?? 0) == 0)
            {
                result.AddError("Name at least one --item or --dataset.");
            }
        });
        handlers.Set(create, async (context, ct) =>
        {
            var members = new List<Guid>(context.Value(items) ?? []);
            foreach (var dataset in context.Value(datasets) ?? [])
            {
                await foreach (var item in context.Client.ListItemsAsync(dataset, ct))
                {
                    members.Add(item.Uid);
                }
            }

            var slice = await context.Client.CreateSliceAsync(context.Value(name), [.. members.Distinct()], ct);
            context.Show(slice, () => Tables.Slices([slice]));
            return ExitCodes.Done;
        });

        var list = new Command("list", "List the organization's slices, oldest first.");
        CommandHelp.SetExamples(list, """
            annex slices list --json
            """);
        handlers.Set(list, async (context, ct) =>
        {
            var rows = await context.Client.ListSlicesAsync(ct).ToListAsync(ct);
            context.Show(rows, () => Tables.Slices(rows));
            return ExitCodes.Done;
        });

        slices.Subcommands.Add(create);
        slices.Subcommands.Add(list);
        return slices;
    }

    /// <summary>Parses <c>name</c> or <c>name:#RRGGBB</c>; labels without a colour get one from <see cref="LabelColors"/>.</summary>
    public static IReadOnlyList<ProjectLabel> ParseLabels(IReadOnlyList<string> specs)
    {
        ArgumentNullException.ThrowIfNull(specs);
        var labels = new List<ProjectLabel>();
        foreach (var spec in specs)
        {
            var split = spec.LastIndexOf(":#", StringComparison.Ordinal);
            var name = split > 0 ? spec[..split] : spec;
            var color = split > 0 ? spec[(split + 1)..] : LabelColors.For(labels.Count);
            if (string.IsNullOrWhiteSpace(name) || !HexColor().IsMatch(color))
            {
                throw new CliException(ExitCodes.Usage, $"'{spec}' is not a label; write name or name:#RRGGBB.");
            }

            labels.Add(new ProjectLabel(name, color.ToUpperInvariant()));
        }

        return labels;
    }

    [GeneratedRegex("^#[0-9A-Fa-f]{6}$")]
    private static partial Regex HexColor();
}
