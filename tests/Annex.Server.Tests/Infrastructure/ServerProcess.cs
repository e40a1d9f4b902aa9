using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>
/// The built server started with <c>dotnet</c> in a process of its own, so a test can kill it with SIGKILL. It runs
/// under a shell watchdog holding our end of a pipe on its stdin: when the test process ends in any way, the pipe
/// closes and the watchdog stops the server, so none outlives the test.
/// </summary>
public sealed class ServerProcess : IDisposable
{
    private const string Watchdog = "\"$@\" </dev/null & child=$!; echo \"server pid $child\"; read -r _; kill $child 2>/dev/null; wait $child";

    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly TaskCompletionSource<int> _pid = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServerProcess(Process process) => _process = process;

    public string Log => string.Join('\n', _lines);

    /// <summary>Starts the server on <paramref name="dataPath"/> with <paramref name="settings"/> and
    /// <paramref name="environment"/> added to ours, and waits until its export worker runs.</summary>
    public static async Task<ServerProcess> StartAsync(
        string dataPath, IReadOnlyDictionary<string, string?> settings, IReadOnlyDictionary<string, string> environment, TimeSpan timeout)
    {
        var server = Path.Combine(AppContext.BaseDirectory, "Annex.Server.dll");
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
        List<string> arguments =
        [
            "-c", Watchdog, "sh", dotnet, server,
            "--urls", $"http://127.0.0.1:{PostgresServer.FreePort().ToString(CultureInfo.InvariantCulture)}",
            "--data", dataPath,
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Annex=Information",
            .. settings.Where(s => s.Value is not null).Select(s => $"--{s.Key}={s.Value}"),
        ];
        var start = new ProcessStartInfo("/bin/sh", arguments)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the server.");
        var started = new ServerProcess(process);
        process.OutputDataReceived += (_, e) => started.OnLine(e.Data);
        process.ErrorDataReceived += (_, e) => started.OnLine(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(started._started.Task, exited, Task.Delay(timeout));
        if (first != started._started.Task)
        {
            started.Dispose();
            throw new InvalidOperationException($"The server did not start its export worker ({(first == exited ? "it exited" : "timed out")}):\n{started.Log}");
        }

        return started;
    }

    /// <summary>SIGKILL to the server itself: no shutdown code runs, nothing it opened is closed by it.</summary>
    public async Task KillAsync()
    {
        var pid = await _pid.Task;
        using (var server = Process.GetProcessById(pid))
        {
            server.Kill();
        }

        // Not our child (the watchdog's): gone, or dead and not yet reaped, is what counts.
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (IsRunning(pid))
        {
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"The server (pid {pid}) still runs 30 seconds after SIGKILL.");
            }

            await Task.Delay(20);
        }
    }

    private static bool IsRunning(int pid)
    {
        try
        {
            return !File.ReadAllLines($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/status")
                .Any(line => line.StartsWith("State:", StringComparison.Ordinal) && line.Contains('Z', StringComparison.Ordinal));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        _lines.Enqueue(line);
        if (line.StartsWith("server pid ", StringComparison.Ordinal))
        {
            _pid.TrySetResult(int.Parse(line["server pid ".Length..], CultureInfo.InvariantCulture));
        }
        else if (line.Contains("Export worker ", StringComparison.Ordinal) && line.Contains(" started with", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    public void Dispose()
    {
        try
        {
            // Closing the watchdog's stdin stops the server; one that does not stop in time goes with the watchdog.
            _process.StandardInput.Close();
            if (!_process.WaitForExit(TimeSpan.FromSeconds(15)))
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(TimeSpan.FromSeconds(5));
            }
        }
        catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
        {
        }

        _process.Dispose();
    }
}
