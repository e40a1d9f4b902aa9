using System.CommandLine;
using System.Text.RegularExpressions;
using Annex.Cli.Import;
using Annex.Cli.Output;
using Annex.Client;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Annex.Cli.Commands;

public static partial class DataCommands
{
    public static Command Datasets(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var datasets = new Command("datasets", "Create, list, import and delete datasets.");

        var name = new Argument<string>("name") { Description = "The dataset's name." };
        var create = Shown(handlers, "create", "Create an empty dataset.", """
            annex datasets create "Highway Scenes"
            """,
            (context, ct) => context.Client.CreateDatasetAsync(context.Value(name), ct),
            dataset => Tables.Datasets([dataset]));
        create.Arguments.Add(name);

        var list = Shown(handlers, "list", "List the organization's datasets, oldest first.", """
            annex datasets list --json
            """,
            (context, ct) => context.Client.ListDatasetsAsync(ct).ToListAsync(ct).AsTask(),
            Tables.Datasets);

        var delete = Deleting(handlers, "dataset", """
            Delete a dataset with its items, their results, slice entries and images. Exports that name it and
            are still waiting or running fail; archives already written stay.
            """,
            (client, uid, ct) => client.DeleteDatasetAsync(uid, ct));

        datasets.Subcommands.Add(create);
        datasets.Subcommands.Add(list);
        datasets.Subcommands.Add(delete);
        datasets.Subcommands.Add(ImportCommand.Create(handlers));
        return datasets;
    }

    /// <summary><c>annex versions</c>: immutable versions of a dataset and what differs between them.</summary>
    public static Command Versions(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var versions = new Command("versions", "Create, list and compare immutable versions of a dataset.");

        var dataset = Arguments.Uid("dataset");
        var name = new Argument<string>("name") { Description = "The version's name." };
        var projects = Arguments.Uids("--project", "A project whose results the version exports (repeat; default: every project).");
        var create = Shown(handlers, "create", "Freeze a dataset as it is now (its items, images and results).", """
            annex versions create <dataset-uid> "2026-12 training set"
            """,
            (context, ct) => context.Client.CreateVersionAsync(context.Value(dataset), context.Value(name), context.Value(projects) ?? [], ct),
            version => Tables.Versions([version]));
        create.Arguments.Add(dataset);
        create.Arguments.Add(name);
        create.Options.Add(projects);

        var listDataset = Arguments.Uid("dataset");
        var list = Shown(handlers, "list", "List a dataset's versions, oldest first.", """
            annex versions list <dataset-uid> --json
            """,
            (context, ct) => context.Client.ListVersionsAsync(context.Value(listDataset), ct).ToListAsync(ct).AsTask(),
            Tables.Versions);
        list.Arguments.Add(listDataset);

        var diffDataset = Arguments.Uid("dataset");
        var from = new Argument<Guid>("from") { Description = "The earlier version." };
        var to = new Argument<Guid?>("to") { Description = "The later version (default: the dataset now).", Arity = ArgumentArity.ZeroOrOne };
        var diff = Shown(handlers, "diff", "Show the items added, changed and removed between two versions, or since a version.", """
            annex versions diff <dataset-uid> <from-version> <to-version>
            annex versions diff <dataset-uid> <from-version> --json
            """,
            (context, ct) => context.Client.DiffVersionsAsync(context.Value(diffDataset), context.Value(from), context.Value(to), ct),
            Tables.Diff);
        diff.Arguments.Add(diffDataset);
        diff.Arguments.Add(from);
        diff.Arguments.Add(to);

        versions.Subcommands.Add(create);
        versions.Subcommands.Add(list);
        versions.Subcommands.Add(diff);
        return versions;
    }

    public static Command Projects(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var projects = new Command("projects", "Create, list and delete projects (label taxonomies).");

        var name = new Argument<string>("name") { Description = "The project's name." };
        var labels = new Option<string[]>("--label")
        {
            Description = "A label, as name or name:#RRGGBB (repeat, in class order).",
            HelpName = "name[:#color]",
            Required = true,
        };
        var create = Shown(handlers, "create", "Create a project with an ordered label taxonomy (the order is the class order of every export format).", """
            annex projects create "Object Detection" --label car --label pedestrian:#00FF00
            """,
            (context, ct) => context.Client.CreateProjectAsync(context.Value(name), ParseLabels(context.Value(labels)), ct),
            project => Tables.Projects([project]));
        create.Arguments.Add(name);
        create.Options.Add(labels);

        var list = Shown(handlers, "list", "List the organization's projects, oldest first.", """
            annex projects list
            """,
            (context, ct) => context.Client.ListProjectsAsync(ct).ToListAsync(ct).AsTask(),
            Tables.Projects);

        var delete = Deleting(handlers, "project", """
            Delete a project with its label taxonomy and results; the items stay. Exports that name it and are
            still waiting or running fail; archives already written stay.
            """,
            (client, uid, ct) => client.DeleteProjectAsync(uid, ct));

        projects.Subcommands.Add(create);
        projects.Subcommands.Add(list);
        projects.Subcommands.Add(delete);
        return projects;
    }

    public static Command Slices(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var slices = new Command("slices", "Create, list and delete slices (named sets of items, from any datasets).");

        var name = new Argument<string>("name") { Description = "The slice's name." };
        var items = Arguments.Uids("--item", "An item to put in the slice (repeat).");
        var datasets = Arguments.Uids("--dataset", "Put every item of this dataset in the slice (repeat).");
        var create = Shown(handlers, "create", "Create a slice of items: named one by one, or every item of a dataset.", """
            annex slices create "hard cases" --item <item-uid> --item <item-uid>
            annex slices create "all of val" --dataset <dataset-uid>
            """,
            async (context, ct) =>
            {
                var members = new List<Guid>(context.Value(items) ?? []);
                foreach (var dataset in context.Value(datasets) ?? [])
                {
                    await foreach (var item in context.Client.ListItemsAsync(dataset, ct))
                    {
                        members.Add(item.Uid);
                    }
                }

                return await context.Client.CreateSliceAsync(context.Value(name), [.. members.Distinct()], ct);
            },
            slice => Tables.Slices([slice]));
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

        var list = Shown(handlers, "list", "List the organization's slices, oldest first.", """
            annex slices list --json
            """,
            (context, ct) => context.Client.ListSlicesAsync(ct).ToListAsync(ct).AsTask(),
            Tables.Slices);

        var delete = Deleting(handlers, "slice", """
            Delete a slice; its items stay in their datasets. Exports that name it and are still waiting or
            running fail; archives already written stay.
            """,
            (client, uid, ct) => client.DeleteSliceAsync(uid, ct));

        slices.Subcommands.Add(create);
        slices.Subcommands.Add(list);
        slices.Subcommands.Add(delete);
        return slices;
    }

    /// <summary>
    /// The shape every create and list subcommand shares: ask the server, then show the answer as JSON or as a table.
    /// The caller adds the arguments and options <paramref name="fetch"/> reads.
    /// </summary>
    private static Command Shown<T>(
        Handlers handlers, string name, string description, string examples,
        Func<CliContext, CancellationToken, Task<T>> fetch, Func<T, IRenderable> table)
        where T : notnull
    {
        var command = new Command(name, description);
        CommandHelp.SetExamples(command, examples);
        handlers.Set(command, async (context, ct) =>
        {
            var answer = await fetch(context, ct);
            context.Show(answer, () => table(answer));
            return ExitCodes.Done;
        });
        return command;
    }

    /// <summary>The <c>delete &lt;uid&gt;</c> subcommand of <paramref name="noun"/>s.</summary>
    private static Command Deleting(Handlers handlers, string noun, string description, Func<AnnexClient, Guid, CancellationToken, Task> delete)
    {
        var command = new Command("delete", description);
        CommandHelp.SetExamples(command, $"annex {noun}s delete <uid>");
        var uid = Arguments.Uid(noun);
        command.Arguments.Add(uid);
        handlers.Set(command, async (context, ct) =>
        {
            var deleted = context.Value(uid);
            await delete(context.Client, deleted, ct);
            context.Show(new DeletedObject(deleted, Deleted: true), () => new Markup($"Deleted {noun} [bold]{deleted}[/]."));
            return ExitCodes.Done;
        });
        return command;
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

/// <summary>What <c>annex datasets|projects|slices delete --json</c> prints: <c>{"uid": ..., "deleted": true}</c>.</summary>
public sealed record DeletedObject(Guid Uid, bool Deleted);
