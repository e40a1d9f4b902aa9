using System.CommandLine;
using System.CommandLine.Help;
using Annex.Cli.Commands;
using Annex.Cli.Output;

namespace Annex.Cli;

/// <summary>The <c>annex</c> command: builds the command tree and runs one command line.</summary>
public static class AnnexCli
{
    private const string Examples = """
        export AVALA_API_KEY=$(cat data/admin-api-key)
        annex datasets import ./coco/instances_val.json --name "Val 2017"
        annex export --dataset <dataset-uid> --format YOLO --out ./train.zip
        annex exports list --json
        """;

    /// <summary>Runs <paramref name="args"/> and returns the exit code (see <see cref="ExitCodes"/>).</summary>
    public static async Task<int> RunAsync(string[] args, CliEnvironment environment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(environment);
        var root = Build(environment);
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && !AsksForHelp(args))
        {
            foreach (var error in parse.Errors)
            {
                await environment.Error.WriteLineAsync(error.Message);
            }

            await environment.Error.WriteLineAsync("Run 'annex --help' (or 'annex <command> --help') for usage.");
            return ExitCodes.Usage;
        }

        var exitCode = await parse.InvokeAsync(new InvocationConfiguration { Output = environment.Out, Error = environment.Error }, cancellationToken);
        if (parse.Action is HelpAction)
        {
            await CommandHelp.WriteExamplesAsync(parse.CommandResult.Command, environment.Out);
        }

        return exitCode;
    }

    public static RootCommand Build(CliEnvironment environment)
    {
        var options = new GlobalOptions();
        var root = new RootCommand("""
            Drive an Annex server (or any server speaking the Avala Exports API): import datasets, run exports,
            wait for them and download them.

            Exit codes: 0 done, 1 failed or aborted export (or another failure), 2 usage, 3 auth, 4 not found.
            """);
        CommandHelp.SetExamples(root, Examples);
        root.Options.Add(options.Server);
        root.Options.Add(options.ApiKey);
        root.Options.Add(options.Json);
        var handlers = new Handlers(environment, options);
        root.Subcommands.Add(FormatCommands.Formats(handlers));
        root.Subcommands.Add(ExportCommands.Exports(handlers));
        root.Subcommands.Add(ExportCommands.Export(handlers));
        root.Subcommands.Add(DataCommands.Datasets(handlers));
        root.Subcommands.Add(DataCommands.Projects(handlers));
        root.Subcommands.Add(DataCommands.Slices(handlers));
        root.Subcommands.Add(DataCommands.Versions(handlers));
        return root;
    }

    private static bool AsksForHelp(string[] args) => args.Any(a => a is "--help" or "-h" or "-?");
}

/// <summary>Wraps command bodies: one <see cref="CliContext"/> per run, failures turned into a message and an exit code.</summary>
public sealed class Handlers(CliEnvironment environment, GlobalOptions options)
{
    public void Set(Command command, Func<CliContext, CancellationToken, Task<int>> body)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.SetAction((parse, ct) => RunAsync(parse, body, ct));
    }

    private async Task<int> RunAsync(ParseResult parse, Func<CliContext, CancellationToken, Task<int>> body, CancellationToken ct)
    {
        using var context = new CliContext(environment, options, parse);
        try
        {
            return await body(context, ct);
        }
        catch (Exception ex) when (Failures.Describe(ex) is { } failure)
        {
            if (context.Json)
            {
                JsonOutput.Write(environment.Error, failure);
            }
            else
            {
                await environment.Error.WriteLineAsync($"error: {failure.Message}");
                foreach (var (field, messages) in failure.FieldErrors)
                {
                    await environment.Error.WriteLineAsync($"  {field}: {string.Join(" ", messages)}");
                }
            }

            return failure.ExitCode;
        }
    }
}
