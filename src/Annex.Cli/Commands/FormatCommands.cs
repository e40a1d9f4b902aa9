using System.CommandLine;
using Annex.Cli.Output;

namespace Annex.Cli.Commands;

public static class FormatCommands
{
    public static Command Formats(Handlers handlers)
    {
        ArgumentNullException.ThrowIfNull(handlers);
        var command = new Command("formats", "List the export formats the server supports (the values of --format).");
        CommandHelp.SetExamples(command, """
            annex formats
            annex formats --json
            """);
        handlers.Set(command, async (context, ct) =>
        {
            var formats = await context.Client.ListFormatsAsync(ct);
            context.Show(formats, () => Tables.Formats(formats));
            return ExitCodes.Done;
        });
        return command;
    }
}
