using System.Text.Json;
using Annex.Client.Tests;

namespace Annex.Cli.Tests;

/// <summary>What one in-process run of <c>annex</c> printed and exited with.</summary>
public sealed record CliRun(int ExitCode, string Out, string Error)
{
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Out);
        return document.RootElement.Clone();
    }

    public JsonElement ErrorJson()
    {
        using var document = JsonDocument.Parse(Error);
        return document.RootElement.Clone();
    }

    public override string ToString() => $"exit {ExitCode}\n--- out\n{Out}\n--- error\n{Error}";
}

/// <summary>Runs the real root command with captured output, against a live loopback server, as one organization.</summary>
public sealed class CliHarness
{
    private readonly Dictionary<string, string?> _variables;

    private CliHarness(LiveServer server, string key, string workingDirectory)
    {
        Server = server;
        Key = key;
        WorkingDirectory = workingDirectory;
        _variables = new Dictionary<string, string?>
        {
            [ConnectionSettings.ServerVariable] = server.Address.ToString(),
            [ConnectionSettings.ApiKeyVariable] = key,
        };
    }

    public LiveServer Server { get; }

    public string Key { get; }

    public string WorkingDirectory { get; }

    /// <summary>A new organization on <paramref name="server"/>, configured through the environment variables.</summary>
    public static async Task<CliHarness> ForNewTenantAsync(LiveServer server, string workingDirectory)
    {
        var tenant = await server.Factory.CreateTenantAsync();
        return new CliHarness(server, tenant.Key.Key, workingDirectory);
    }

    /// <summary>Changes (or with null removes) an environment variable the command sees.</summary>
    public CliHarness WithVariable(string name, string? value)
    {
        _variables[name] = value;
        return this;
    }

    public async Task<CliRun> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var environment = new CliEnvironment
        {
            Out = output,
            Error = error,
            Variable = name => _variables.GetValueOrDefault(name),
            WorkingDirectory = WorkingDirectory,
        };
        var exitCode = await AnnexCli.RunAsync(args, environment);
        return new CliRun(exitCode, output.ToString(), error.ToString());
    }
}

/// <summary>One live server per test class, and a scratch folder removed afterwards.</summary>
public sealed class CliFixture : IDisposable
{
    public LiveServer Server { get; } = new();

    public DirectoryInfo Scratch { get; } = Directory.CreateTempSubdirectory("annex-cli-");

    public string NewFolder()
    {
        var folder = Path.Combine(Scratch.FullName, Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        return folder;
    }

    public void Dispose()
    {
        Server.Dispose();
        Scratch.Delete(recursive: true);
    }
}
