using System.Collections.Concurrent;
using System.Diagnostics;

namespace Annex.Server.Tests.Scale;

/// <summary>An Annex server in a process of its own (the built <c>Annex.Server.dll</c>), so a test can
/// kill it the way an orchestrator or the kernel would: SIGKILL, no shutdown code runs.</summary>
public sealed class WorkerProcess : IDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();

    private WorkerProcess(Process process)
    {
        _process = process;
        _process.OutputDataReceived += (_, e) => Keep(e.Data);
        _process.ErrorDataReceived += (_, e) => Keep(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote so far (console logs).</summary>
    public IReadOnlyList<string> Lines => [.. _lines];

    public static WorkerProcess Start(string role, IReadOnlyDictionary<string, string> settings)
    {
        var server = Path.Combine(AppContext.BaseDirectory, "Annex.Server.dll");
        var start = new ProcessStartInfo("dotnet", [server, "--role", role, "--urls", "http://127.0.0.1:0"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        foreach (var (key, value) in settings)
        {
            // Configuration from the environment: "Exports:Workers" is EXPORTS__WORKERS.
            start.Environment[key.Replace(":", "__", StringComparison.Ordinal)] = value;
        }

        start.Environment["Logging__Console__FormatterName"] = "simple";
        start.Environment["Logging__Console__FormatterOptions__SingleLine"] = "true";
        start.Environment["Logging__LogLevel__Default"] = "Warning";
        start.Environment["Logging__LogLevel__Annex"] = "Information";
        return new WorkerProcess(Process.Start(start) ?? throw new InvalidOperationException("Could not start the server process."));
    }

    /// <summary>SIGKILL: the process gets no chance to release its leases or clean up.</summary>
    public void Kill()
    {
        _process.Kill(entireProcessTree: true);
        _process.WaitForExit(10_000);
    }

    /// <summary>A graceful stop (SIGTERM), as a deployment would send before replacing the process.</summary>
    public bool Terminate(TimeSpan wait)
    {
        using (var signal = Process.Start(new ProcessStartInfo("kill", ["-TERM", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]) { UseShellExecute = false }))
        {
            signal?.WaitForExit(5_000);
        }

        return _process.WaitForExit(wait);
    }

    private void Keep(string? line)
    {
        if (line is not null && _lines.Count < 100_000)
        {
            _lines.Enqueue(line);
        }
    }

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit(10_000);
        }

        _process.Dispose();
    }
}
