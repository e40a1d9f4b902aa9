using Annex.Cli;

using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // The first Ctrl+C stops the command cleanly (a wait stops waiting; the export goes on).
    e.Cancel = true;
    cancel.Cancel();
};

return await AnnexCli.RunAsync(args, CliEnvironment.FromConsole(), cancel.Token);
