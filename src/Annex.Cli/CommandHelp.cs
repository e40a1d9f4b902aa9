using System.CommandLine;
using System.Runtime.CompilerServices;

namespace Annex.Cli;

/// <summary>Examples shown under a command's <c>--help</c> (the parser's help has no such section; they would
/// otherwise clutter the command lists that show descriptions).</summary>
public static class CommandHelp
{
    private static readonly ConditionalWeakTable<Command, string> ExamplesByCommand = [];

    public static void SetExamples(Command command, string examples) => ExamplesByCommand.AddOrUpdate(command, examples);

    public static string? Examples(Command command) => ExamplesByCommand.TryGetValue(command, out var examples) ? examples : null;

    public static async Task WriteExamplesAsync(Command command, TextWriter writer)
    {
        ArgumentNullException.ThrowIfNull(writer);
        if (Examples(command) is not { } examples)
        {
            return;
        }

        await writer.WriteLineAsync("Examples:");
        foreach (var line in examples.Split('\n'))
        {
            await writer.WriteLineAsync("  " + line.TrimEnd('\r'));
        }

        await writer.WriteLineAsync();
    }
}
