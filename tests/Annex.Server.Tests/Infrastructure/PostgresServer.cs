using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Npgsql;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>
/// A private PostgreSQL server for this test run: initdb into a temporary folder, started on a free
/// loopback port, stopped when the test process exits. Each test server gets a database of its own.
/// Where PostgreSQL is not installed, <see cref="Require"/> skips (or, in CI, fails) the test.
/// </summary>
public static class PostgresServer
{
    private static readonly Lazy<Instance?> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The folder with initdb and pg_ctl: <c>ANNEX_POSTGRES_BIN</c>, Debian's layout, or PATH.</summary>
    public static string? FindBinaries()
    {
        var configured = Environment.GetEnvironmentVariable("ANNEX_POSTGRES_BIN");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(Path.Combine(configured, "pg_ctl")) ? configured : null;
        }

        if (Directory.Exists("/usr/lib/postgresql"))
        {
            var newest = Directory.GetDirectories("/usr/lib/postgresql")
                .Select(d => Path.Combine(d, "bin"))
                .Where(d => File.Exists(Path.Combine(d, "pg_ctl")))
                .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
                .FirstOrDefault();
            if (newest is not null)
            {
                return newest;
            }
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .FirstOrDefault(d => d.Length > 0 && File.Exists(Path.Combine(d, "pg_ctl")) && File.Exists(Path.Combine(d, "initdb")));
    }

    /// <summary>A connection string to a new, empty database on the shared private server.</summary>
    public static string CreateDatabase()
    {
        var instance = Require();
        var name = "annex_" + Guid.NewGuid().ToString("N");
        using (var connection = new NpgsqlConnection(instance.AdminConnectionString))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = $"CREATE DATABASE \"{name}\"";
            command.ExecuteNonQuery();
        }

        return new NpgsqlConnectionStringBuilder(instance.AdminConnectionString) { Database = name }.ConnectionString;
    }

    /// <summary>Drops a database made by <see cref="CreateDatabase"/>, closing what still uses it.</summary>
    public static void DropDatabase(string connectionString)
    {
        var instance = Shared.Value;
        if (instance is null)
        {
            return;
        }

        using (var pooled = new NpgsqlConnection(connectionString))
        {
            NpgsqlConnection.ClearPool(pooled);
        }

        var name = new NpgsqlConnectionStringBuilder(connectionString).Database;
        using var connection = new NpgsqlConnection(instance.AdminConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)";
        command.ExecuteNonQuery();
    }

    public static Instance Require()
    {
        Requirements.Require(FindBinaries() is not null, "PostgreSQL (initdb, pg_ctl; e.g. Debian's postgresql package)");
        return Shared.Value ?? throw new InvalidOperationException("PostgreSQL is installed but could not be started; see the test output.");
    }

    private static Instance? Start()
    {
        var bin = FindBinaries();
        if (bin is null)
        {
            return null;
        }

        var root = Path.Combine(Path.GetTempPath(), "annex-postgres-" + Guid.NewGuid().ToString("N")[..12]);
        var data = Path.Combine(root, "data");
        Directory.CreateDirectory(root);
        // initdb and pg_ctl refuse to run as root: run them as the postgres user, who must own the folder.
        var asUser = Environment.UserName == "root" ? "postgres" : null;
        if (asUser is not null)
        {
            Run("chown", ["-R", asUser, root], null);
        }

        Run(Path.Combine(bin, "initdb"), ["-D", data, "-U", "annex", "--auth=trust", "-E", "UTF8", "--no-locale", "--no-sync"], asUser);
        var port = FreePort();
        var settings = string.Join(' ', [
            "-p", port.ToString(CultureInfo.InvariantCulture), "-k", root, "-c", "listen_addresses=127.0.0.1",
            "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off", "-c", "max_connections=400",
            "-c", "shared_buffers=256MB"]);
        Run(Path.Combine(bin, "pg_ctl"), ["-D", data, "-l", Path.Combine(root, "server.log"), "-o", settings, "-w", "-t", "60", "start"], asUser);

        var instance = new Instance(root, $"Host=127.0.0.1;Port={port};Username=annex;Database=postgres;Maximum Pool Size=50;Connection Idle Lifetime=30");
        // The test host is not always given time to run exit handlers, and a daemonized postgres would
        // outlive it. A shell watchdog holds our end of a pipe on its stdin: when this process ends in any
        // way the pipe closes, `read` returns, and the watchdog stops the server and removes its folder.
        const string StopOnExit = "read -r _; \"$@\" >/dev/null 2>&1; rm -rf \"$ANNEX_PG_ROOT\"";
        string[] stop = [Path.Combine(bin, "pg_ctl"), "-D", data, "-m", "immediate", "-w", "stop"];
        var watchdogStart = new ProcessStartInfo("/bin/sh", ["-c", StopOnExit, "sh", .. asUser is null ? stop : ["runuser", "-u", asUser, "--", .. stop]])
        {
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        watchdogStart.Environment["ANNEX_PG_ROOT"] = root;
        var watchdog = Process.Start(watchdogStart) ?? throw new InvalidOperationException("Could not start the PostgreSQL watchdog.");
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                watchdog.StandardInput.Close();
                watchdog.WaitForExit(TimeSpan.FromSeconds(10));
            }
            catch (Exception e) when (e is InvalidOperationException or IOException)
            {
            }
        };
        return instance;
    }

    private static void Run(string program, IEnumerable<string> arguments, string? asUser)
    {
        var start = asUser is null
            ? new ProcessStartInfo(program, arguments)
            : new ProcessStartInfo("runuser", ["-u", asUser, "--", program, .. arguments]);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.UseShellExecute = false;
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {program}.");
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000))
        {
            process.Kill(entireProcessTree: true);
            throw new InvalidOperationException($"{program} did not finish within 2 minutes.");
        }

        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} failed ({process.ExitCode}): {error.Result}{output.Result}");
        }
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public sealed record Instance(string Folder, string AdminConnectionString);
}
