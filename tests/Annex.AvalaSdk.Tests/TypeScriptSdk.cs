using System.Diagnostics;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.AvalaSdk.Tests;

/// <summary>Avala's TypeScript SDK, compiled once per test run: the package is copied from the read-only
/// snapshot to a temporary folder and compiled there with the harness's pinned <c>typescript</c>
/// (installed by <c>npm ci</c> when it is not yet). Scenarios are the harness's Node scripts; each prints one
/// JSON object of what every SDK call returned or threw.</summary>
public sealed class TypeScriptSdk : IDisposable
{
    private static readonly TimeSpan InstallTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan CompileTimeout = TimeSpan.FromMinutes(3);
    private static readonly TimeSpan ScenarioTimeout = TimeSpan.FromSeconds(90);

    private static readonly Lazy<bool> NodeAndNpm = new(() => Runs("node", "--version") && Runs("npm", "--version"));

    private readonly string _work = Path.Combine(Path.GetTempPath(), "annex-avala-sdk", Guid.NewGuid().ToString("N"));
    private readonly Lazy<Task<string>> _entry;

    public TypeScriptSdk()
    {
        _entry = new Lazy<Task<string>>(CompileAsync);
    }

    /// <summary>Skips the test (fails it under ANNEX_REQUIRE_ALL_TESTS=1) when Node, npm or the SDK is missing.</summary>
    public static void Require()
    {
        Requirements.Require(NodeAndNpm.Value, "Node.js with npm (Debian: apt-get install nodejs npm)");
        Requirements.Require(SdkLocations.TypeScriptPackage is not null, SdkLocations.MissingClients);
    }

    /// <summary>Runs <c>scripts/&lt;name&gt;.mjs</c> against the server as the given key; returns its steps.</summary>
    public async Task<Steps> RunAsync(string name, Uri apiRoot, string apiKey, object input)
    {
        var (exitCode, output, error) = await RunScriptAsync(Path.Combine(SdkLocations.Harness, "scripts", name + ".mjs"), apiRoot, apiKey, input);
        Assert.True(exitCode == 0, $"node scripts/{name}.mjs exited with {exitCode}:\n{error}\n{output}");
        return new Steps(name, JsonNode.Parse(output)!.AsObject());
    }

    /// <summary>Runs a Node script with the compiled SDK's entry point in <c>ANNEX_SDK_ENTRY</c> (a path) and
    /// <c>ANNEX_SDK_URL</c> (a file: URL to import), and the server's API root in <c>ANNEX_BASE_URL</c>.</summary>
    public async Task<(int ExitCode, string Output, string Error)> RunScriptAsync(string script, Uri apiRoot, string apiKey, object? input = null)
    {
        var entry = await _entry.Value;
        var start = new ProcessStartInfo("node", [script]) { WorkingDirectory = SdkLocations.Harness };
        start.Environment["ANNEX_SDK_ENTRY"] = entry;
        start.Environment["ANNEX_SDK_URL"] = new Uri(entry).AbsoluteUri;
        start.Environment["ANNEX_BASE_URL"] = apiRoot.ToString().TrimEnd('/');
        start.Environment["ANNEX_SCENARIO_INPUT"] = JsonSerializer.Serialize(input ?? new { });
        start.Environment["AVALA_API_KEY"] = apiKey;
        // The SDK refuses http: unless told this is local development; it then allows only loopback hosts.
        start.Environment["AVALA_ALLOW_INSECURE_BASE_URL"] = "true";
        start.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        return await RunProcessAsync(start, ScenarioTimeout);
    }

    private async Task<string> CompileAsync()
    {
        var tsc = Path.Combine(SdkLocations.Harness, "node_modules", "typescript", "bin", "tsc");
        if (!File.Exists(tsc))
        {
            var install = new ProcessStartInfo("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"]) { WorkingDirectory = SdkLocations.Harness };
            var (code, output, error) = await RunProcessAsync(install, InstallTimeout);
            Assert.True(code == 0, $"npm ci in tests/avala-sdk failed ({code}):\n{error}\n{output}");
        }

        // The package extends ../../tsconfig.base.json: keep that layout in the copy.
        var snapshot = SdkLocations.TypeScriptPackage!;
        var package = Path.Combine(_work, "packages", "sdk");
        File.Copy(Path.Combine(snapshot, "..", "..", "tsconfig.base.json"), Path.Combine(Directory.CreateDirectory(_work).FullName, "tsconfig.base.json"));
        CopyFolder(Path.Combine(snapshot, "src"), Path.Combine(package, "src"));
        File.Copy(Path.Combine(snapshot, "tsconfig.json"), Path.Combine(package, "tsconfig.json"));
        // Its package.json says "type": "module", which is how Node must load the compiled files.
        File.Copy(Path.Combine(snapshot, "package.json"), Path.Combine(package, "package.json"));

        var compile = new ProcessStartInfo("node",
        [
            tsc, "-p", Path.Combine(package, "tsconfig.json"),
            "--typeRoots", Path.Combine(SdkLocations.Harness, "node_modules", "@types"), "--types", "node",
            "--declaration", "false", "--declarationMap", "false", "--sourceMap", "false", "--pretty", "false",
        ])
        { WorkingDirectory = package };
        var (exitCode, stdout, stderr) = await RunProcessAsync(compile, CompileTimeout);
        Assert.True(exitCode == 0, $"tsc could not compile the Avala SDK ({exitCode}):\n{stdout}\n{stderr}");
        var entry = Path.Combine(package, "dist", "index.js");
        Assert.True(File.Exists(entry), $"tsc wrote no {entry}");
        return entry;
    }

    private static void CopyFolder(string from, string to)
    {
        Directory.CreateDirectory(to);
        foreach (var file in Directory.EnumerateFiles(from, "*", SearchOption.AllDirectories))
        {
            var target = Path.Combine(to, Path.GetRelativePath(from, file));
            Directory.CreateDirectory(Path.GetDirectoryName(target)!);
            File.Copy(file, target);
        }
    }

    private static bool Runs(string program, string argument)
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo(program, [argument]) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            probe!.WaitForExit(20_000);
            return probe.HasExited && probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    private static async Task<(int ExitCode, string Output, string Error)> RunProcessAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.RedirectStandardInput = true;
        start.UseShellExecute = false;
        start.StandardOutputEncoding = Encoding.UTF8;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"{start.FileName} {string.Join(' ', start.ArgumentList)} did not finish within {timeout}.");
        }

        return (process.ExitCode, await output, await error);
    }

    public void Dispose() => AnnexFactory.TryDelete(_work);
}
