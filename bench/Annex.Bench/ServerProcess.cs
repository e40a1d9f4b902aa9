using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Annex.Server.Features.Organizations;

namespace Annex.Bench;

/// <summary>
/// The server program (<c>Annex.Server</c>, built next to the bench) started in its own process as a user starts it:
/// <c>Annex.Server --data &lt;folder&gt; --urls http://127.0.0.1:&lt;port&gt;</c>, default settings otherwise (SQLite and
/// local disk in the data folder, its own appsettings.json, server GC as its runtimeconfig says). The bench reads the
/// process's memory and CPU from <c>/proc</c>, so nothing of the bench's own process is counted.
/// </summary>
public sealed class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly Queue<string> _lastLines = new();

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    /// <summary>The admin API key the server wrote into its data folder at its first start.</summary>
    public string ApiKey { get; private set; } = "";

    public int Id => _process.Id;

    public static Task<ServerProcess> StartAsync(string dataFolder, CancellationToken ct) => StartAsync(dataFolder, [], nice: 0, waitForKey: true, ct);

    /// <summary>Starts the server with <paramref name="arguments"/> added to its command line (e.g. <c>--role api</c>,
    /// settings as <c>--Key=Value</c>), under <c>nice -n</c> when <paramref name="nice"/> is not 0. Without
    /// <paramref name="waitForKey"/> it is ready once it answers <c>/healthz</c> (a data folder that already has its
    /// organizations gets no first-start key).</summary>
    public static async Task<ServerProcess> StartAsync(string dataFolder, IReadOnlyList<string> arguments, int nice, bool waitForKey, CancellationToken ct)
    {
        var port = FreePort();
        var start = ServerStart();
        if (nice != 0)
        {
            // nice execs the server, so the process id stays the server's.
            start.ArgumentList.Insert(0, start.FileName);
            start.ArgumentList.Insert(0, nice.ToString(CultureInfo.InvariantCulture));
            start.ArgumentList.Insert(0, "-n");
            start.FileName = "nice";
        }

        start.ArgumentList.Add("--data");
        start.ArgumentList.Add(dataFolder);
        start.ArgumentList.Add("--urls");
        start.ArgumentList.Add(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}"));
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.UseShellExecute = false;
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = AppContext.BaseDirectory;
        var process = Process.Start(start) ?? throw new BenchException("Could not start the server process.");
        var server = new ServerProcess(process, new Uri(string.Create(CultureInfo.InvariantCulture, $"http://127.0.0.1:{port}/")));
        process.OutputDataReceived += (_, e) => server.Keep(e.Data);
        process.ErrorDataReceived += (_, e) => server.Keep(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await server.WaitUntilReadyAsync(waitForKey ? Path.Combine(dataFolder, FirstStart.KeyFileName) : null, ct);
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }

        return server;
    }

    /// <summary>The resident set now (VmRSS), in bytes; null without /proc.</summary>
    public long? Rss() => Status("VmRSS:");

    /// <summary>The highest resident set since the start or the last <see cref="TryResetPeak"/> (VmHWM), in bytes.</summary>
    public long? PeakRss() => Status("VmHWM:");

    /// <summary>Resets the process's VmHWM to its current RSS (Linux 4.0+); false when the kernel does not allow it.</summary>
    public bool TryResetPeak()
    {
        try
        {
            File.WriteAllText(string.Create(CultureInfo.InvariantCulture, $"/proc/{_process.Id}/clear_refs"), "5");
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or PlatformNotSupportedException)
        {
            return false;
        }
    }

    /// <summary>CPU time the process has used so far (every thread).</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            // SIGTERM, as a service manager stops it: the host shuts down in order. Without a kill command, the
            // wait below ends in Kill.
            try
            {
                using var term = Process.Start(new ProcessStartInfo("kill") { ArgumentList = { "-TERM", _process.Id.ToString(CultureInfo.InvariantCulture) }, UseShellExecute = false });
                term?.WaitForExit();
            }
            catch (System.ComponentModel.Win32Exception)
            {
                _process.Kill(entireProcessTree: true);
            }

            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync(CancellationToken.None);
            }
        }

        _process.Dispose();
    }

    private static ProcessStartInfo ServerStart()
    {
        var folder = AppContext.BaseDirectory;
        var host = Path.Combine(folder, OperatingSystem.IsWindows() ? "Annex.Server.exe" : "Annex.Server");
        if (File.Exists(host))
        {
            return new ProcessStartInfo(host);
        }

        var dll = Path.Combine(folder, "Annex.Server.dll");
        return File.Exists(dll)
            ? new ProcessStartInfo("dotnet") { ArgumentList = { dll } }
            : throw new BenchException($"No Annex.Server program next to the bench in {folder}; build the bench first.");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private async Task WaitUntilReadyAsync(string? keyFile, CancellationToken ct)
    {
        using var http = new HttpClient { BaseAddress = Address, Timeout = TimeSpan.FromSeconds(5) };
        var waited = Stopwatch.StartNew();
        while (waited.Elapsed < TimeSpan.FromSeconds(120))
        {
            if (_process.HasExited)
            {
                break;
            }

            try
            {
                using var answer = await http.GetAsync(new Uri("healthz", UriKind.Relative), ct);
                if (answer.IsSuccessStatusCode && keyFile is null)
                {
                    return;
                }

                if (answer.IsSuccessStatusCode && File.Exists(keyFile))
                {
                    ApiKey = (await File.ReadAllTextAsync(keyFile, ct)).Trim();
                    if (ApiKey.Length > 0)
                    {
                        return;
                    }
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException) when (!ct.IsCancellationRequested)
            {
                // Too slow to answer yet.
            }

            await Task.Delay(100, ct);
        }

        string output;
        lock (_lastLines)
        {
            output = string.Join('\n', _lastLines);
        }

        throw new BenchException(_process.HasExited
            ? $"The server exited with code {_process.ExitCode} before it was ready:\n{output}"
            : $"The server was not ready after 120 s:\n{output}");
    }

    private void Keep(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_lastLines)
        {
            _lastLines.Enqueue(line);
            while (_lastLines.Count > 40)
            {
                _lastLines.Dequeue();
            }
        }
    }

    private long? Status(string field)
    {
        var path = string.Create(CultureInfo.InvariantCulture, $"/proc/{_process.Id}/status");
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith(field, StringComparison.Ordinal))
                {
                    var kilobytes = line[field.Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                    return long.Parse(kilobytes, CultureInfo.InvariantCulture) * 1024;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        return null;
    }
}
