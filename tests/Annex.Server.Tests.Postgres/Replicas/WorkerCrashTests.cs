using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Amazon.S3;
using Amazon.S3.Model;
using Annex.Server.Tests.Infrastructure;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace Annex.Server.Tests.Replicas;

/// <summary>Runs alone: it starts three server processes and measures nothing, but a machine busy with other
/// tests would only make it slower.</summary>
[CollectionDefinition(nameof(WorkerCrashCollection), DisableParallelization = true)]
public sealed class WorkerCrashCollection;

/// <summary>
/// Three Annex worker processes (the built server, started with <c>dotnet</c>) on one PostgreSQL database
/// and one S3 bucket; one of them is killed with SIGKILL in the middle of writing an archive. Every export
/// must still be exported exactly once, completely, and nothing partial may be left in the bucket.
/// Only in the PostgreSQL test project: the queue shared by several processes is PostgreSQL's.
/// </summary>
[Collection(nameof(WorkerCrashCollection))]
public sealed partial class WorkerCrashTests(ITestOutputHelper output)
{
    private const int ExportCount = 30;
    private static readonly TimeSpan LeaseDuration = TimeSpan.FromSeconds(5);

    [SkippableFact]
    public async Task Thirty_exports_on_three_workers_survive_one_worker_killed_while_writing()
    {
        PostgresServer.Require();
        using var bucket = await MotoServer.CreateBucketAsync(prefix: "annex/");
        // Every completed upload (and every delete) of a key becomes a version: an archive written twice shows.
        await bucket.Client.PutBucketVersioningAsync(new PutBucketVersioningRequest
        {
            BucketName = bucket.Name,
            VersioningConfig = new S3BucketVersioningConfig { Status = VersionStatus.Enabled },
        });
        var connectionString = PostgresServer.CreateDatabase();
        var workers = new List<WorkerProcess>();
        try
        {
            var shared = new Dictionary<string, string?>(bucket.Settings())
            {
                ["Database:Provider"] = "Postgres",
                ["Database:ConnectionString"] = connectionString,
                ["Exports:LeaseDuration"] = LeaseDuration.ToString("c", CultureInfo.InvariantCulture),
                ["Exports:HeartbeatInterval"] = "00:00:00.100",
                ["Exports:PollInterval"] = "00:00:00.200",
                // Small batches stretch the writing of each archive over many round trips, so there is a
                // moment to kill a worker in the middle of one.
                ["Exports:BatchSize"] = "25",
                ["Storage:S3:SweepInterval"] = "00:00:01",
            };

            // The API (in this process, no worker) migrates the database; the data goes in through it.
            using var api = new AnnexFactory(settings: new Dictionary<string, string?>(shared) { ["Server:Role"] = "Api" });
            var tenant = await api.CreateTenantAsync();
            var project = await Seed.ProjectAsync(tenant.Http);
            var small = await Seed.DatasetAsync(tenant.Http, "Small");
            var large = await Seed.DatasetAsync(tenant.Http, "Large");
            await Seed.ResultsAsync(tenant.Http, project, await Seed.ItemsAsync(tenant.Http, small, 2000), perItem: 1);
            await Seed.ResultsAsync(tenant.Http, project, await Seed.ItemsAsync(tenant.Http, large, 3000, prefix: "large_"), perItem: 1);

            // The one to be killed writes one export at a time, so it dies in the middle of that one and not
            // in the instant between publishing another and recording it.
            for (var i = 0; i < 3; i++)
            {
                var settings = new Dictionary<string, string?>(shared) { ["Exports:Workers"] = i == 0 ? "1" : "2" };
                workers.Add(WorkerProcess.Start($"worker{i}", settings));
            }

            foreach (var worker in workers)
            {
                await worker.WaitUntilStartedAsync(TimeSpan.FromMinutes(2));
            }

            var victim = workers[0];
            var expected = new Dictionary<Guid, int>();
            for (var i = 0; i < ExportCount; i++)
            {
                var large3000 = i % 2 == 1;
                var created = await Seed.ExportAsync(tenant.Http, $"Crash {i}", datasets: [large3000 ? large : small], projects: [project]);
                expected[Guid.Parse(created["uid"]!.GetValue<string>())] = large3000 ? 3000 : 2000;
            }

            var interrupted = await KillWhileWritingAsync(victim, connectionString);
            output.WriteLine($"killed {victim.Name} (pid {victim.Pid}) while it wrote {interrupted}");

            var finished = new Dictionary<Guid, System.Text.Json.Nodes.JsonNode>();
            foreach (var uid in expected.Keys)
            {
                finished[uid] = await Seed.WaitForAsync(tenant.Http, uid.ToString(), ["exported", "failed", "aborted"], TimeSpan.FromMinutes(3));
            }

            Assert.All(finished, pair => Assert.True(pair.Value["status"]!.GetValue<string>() == "exported", pair.Value.ToJsonString()));

            // Complete and valid: each archive downloads through its presigned link and holds every task.
            using var plain = new HttpClient();
            foreach (var (uid, tasks) in expected)
            {
                Assert.Equal(tasks, finished[uid]["total_task_count"]!.GetValue<long>());
                Assert.Equal(tasks, finished[uid]["exported_task_count"]!.GetValue<long>());
                using var response = await plain.GetAsync(new Uri(finished[uid]["download_url"]!.GetValue<string>()));
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                using var document = Archives.ReadSingleJson(await response.Content.ReadAsByteArrayAsync());
                Assert.Empty(Annex.Formats.AvalaJsonSchema.Validate(document));
                Assert.Equal(tasks, document.RootElement.GetProperty("results").GetArrayLength());
                Assert.Equal(tasks, Assert.Single(document.RootElement.GetProperty("datasets").EnumerateArray()).GetProperty("items").GetArrayLength());
            }

            // Written once: one version of each archive (the key of the attempt that completed) in the bucket, no
            // other object, no delete marker.
            var versions = await AllVersionsAsync(bucket);
            Assert.DoesNotContain(versions, v => v.IsDeleteMarker == true);
            var archiveKeys = await ArchiveKeysAsync(connectionString);
            Assert.All(archiveKeys, pair => Assert.StartsWith($"exports/{pair.Key:D}.", pair.Value, StringComparison.Ordinal));
            Assert.Equal(
                expected.Keys.Select(uid => $"annex/{archiveKeys[uid]}").Order(StringComparer.Ordinal),
                versions.Select(v => v.Key).Order(StringComparer.Ordinal));

            // Claimed once, except the interrupted export, claimed again by a survivor once its lease ran out.
            var attempts = await AttemptsAsync(connectionString);
            Assert.Equal(expected.Keys.Order(), attempts.Keys.Order());
            Assert.All(attempts, pair => Assert.Equal(pair.Key == interrupted ? 2 : 1, pair.Value));

            // The workers' own accounts agree: each export reported exported by exactly one process, the
            // interrupted one by a survivor that took it over.
            foreach (var uid in expected.Keys)
            {
                var reporters = workers.Where(w => w.Reported(uid)).Select(w => w.Name).ToList();
                Assert.True(reporters.Count == 1, $"Export {uid} reported exported by [{string.Join(", ", reporters)}].");
            }

            Assert.False(victim.Reported(interrupted));
            Assert.Contains(workers.Skip(1), w => w.TookOver(interrupted));

            // The killed worker's multipart upload is left open; a sweeper aborts it once its export is done.
            var deadline = DateTime.UtcNow.AddMinutes(1);
            List<MultipartUpload> open;
            while ((open = await bucket.OpenUploadsAsync()).Count > 0 && DateTime.UtcNow < deadline)
            {
                await Task.Delay(200);
            }

            Assert.True(open.Count == 0, $"Uploads still open: {string.Join(", ", open.Select(u => u.Key))}");
        }
        finally
        {
            foreach (var worker in workers)
            {
                worker.Dispose();
                output.WriteLine($"--- {worker.Name} ---");
                output.WriteLine(worker.Log);
            }

            PostgresServer.DropDatabase(connectionString);
        }
    }

    /// <summary>Waits until <paramref name="victim"/> holds an export it has written part of (less than half,
    /// so it is far from publishing), kills it with SIGKILL and returns that export's uid.</summary>
    private static async Task<Guid> KillWhileWritingAsync(WorkerProcess victim, string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        var deadline = DateTime.UtcNow.AddMinutes(2);
        while (DateTime.UtcNow < deadline)
        {
            await using (var query = new NpgsqlCommand(
                """
                SELECT "Uid" FROM exports
                WHERE "Status" = 'exporting' AND "LeaseOwner" = @owner
                  AND "ExportedTaskCount" > 0 AND "ExportedTaskCount" * 2 < "TotalTaskCount"
                """,
                connection))
            {
                query.Parameters.AddWithValue("owner", victim.WorkerId!);
                if (await query.ExecuteScalarAsync() is Guid writing)
                {
                    victim.Kill();
                    // Dead, its lease stands until it expires: the row says what it was writing.
                    await using var check = new NpgsqlCommand("""SELECT "Uid" FROM exports WHERE "Status" = 'exporting' AND "LeaseOwner" = @owner""", connection);
                    check.Parameters.AddWithValue("owner", victim.WorkerId!);
                    var held = new List<Guid>();
                    await using (var reader = await check.ExecuteReaderAsync())
                    {
                        while (await reader.ReadAsync())
                        {
                            held.Add(reader.GetGuid(0));
                        }
                    }

                    Assert.Equal([writing], held);
                    return writing;
                }
            }

            await Task.Delay(10);
        }

        throw new TimeoutException($"{victim.Name} was never seen writing an export.");
    }

    private static async Task<Dictionary<Guid, int>> AttemptsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""SELECT "Uid", "Attempts" FROM exports""", connection);
        await using var reader = await query.ExecuteReaderAsync();
        var attempts = new Dictionary<Guid, int>();
        while (await reader.ReadAsync())
        {
            attempts[reader.GetGuid(0)] = reader.GetInt32(1);
        }

        return attempts;
    }

    private static async Task<Dictionary<Guid, string>> ArchiveKeysAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var query = new NpgsqlCommand("""SELECT "Uid", "ArchiveKey" FROM exports WHERE "ArchiveKey" IS NOT NULL""", connection);
        await using var reader = await query.ExecuteReaderAsync();
        var keys = new Dictionary<Guid, string>();
        while (await reader.ReadAsync())
        {
            keys[reader.GetGuid(0)] = reader.GetString(1);
        }

        return keys;
    }

    private static async Task<List<S3ObjectVersion>> AllVersionsAsync(TestBucket bucket)
    {
        var versions = new List<S3ObjectVersion>();
        var request = new ListVersionsRequest { BucketName = bucket.Name };
        while (true)
        {
            var page = await bucket.Client.ListVersionsAsync(request);
            versions.AddRange(page.Versions ?? []);
            if (page.IsTruncated != true)
            {
                return versions;
            }

            request.KeyMarker = page.NextKeyMarker;
            request.VersionIdMarker = page.NextVersionIdMarker;
        }
    }

    /// <summary>
    /// One server process with <c>--role worker</c> on a free loopback port and a data folder of its own.
    /// It runs under a shell watchdog holding our end of a pipe on its stdin: when the test process ends in
    /// any way, even killed, the pipe closes and the watchdog stops the server, so none outlives the test.
    /// </summary>
    private sealed partial class WorkerProcess : IDisposable
    {
        private const string Watchdog = "\"$@\" </dev/null & child=$!; read -r _; kill $child 2>/dev/null; wait $child";

        private readonly Process _process;
        private readonly string _dataPath;
        private readonly ConcurrentQueue<string> _lines = new();
        private readonly TaskCompletionSource<string> _started = new(TaskCreationOptions.RunContinuationsAsynchronously);

        private WorkerProcess(string name, Process process, string dataPath)
        {
            Name = name;
            _process = process;
            _dataPath = dataPath;
        }

        public string Name { get; }

        /// <summary>The lease owner this worker writes into the exports it claims, from its start-up log line.</summary>
        public string? WorkerId { get; private set; }

        /// <summary>The server's own process id (not the watchdog's), the last part of its worker id.</summary>
        public int Pid => int.Parse(WorkerId![(WorkerId!.LastIndexOf(':') + 1)..], CultureInfo.InvariantCulture);

        public string Log => string.Join('\n', _lines);

        public static WorkerProcess Start(string name, IReadOnlyDictionary<string, string?> settings)
        {
            var server = Path.Combine(AppContext.BaseDirectory, "Annex.Server.dll");
            var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host ? host : "dotnet";
            var dataPath = AnnexFactory.NewDataPath();
            var port = PostgresServer.FreePort();
            List<string> arguments =
            [
                "-c", Watchdog, "sh", dotnet, server,
                "--role", "worker",
                "--urls", $"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}",
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
            var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the server.");
            var worker = new WorkerProcess(name, process, dataPath);
            process.OutputDataReceived += (_, e) => worker.OnLine(e.Data);
            process.ErrorDataReceived += (_, e) => worker.OnLine(e.Data);
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();
            return worker;
        }

        public async Task WaitUntilStartedAsync(TimeSpan timeout)
        {
            var exited = _process.WaitForExitAsync();
            var first = await Task.WhenAny(_started.Task, exited, Task.Delay(timeout));
            if (first != _started.Task)
            {
                throw new InvalidOperationException($"{Name} did not start its export worker ({(first == exited ? "it exited" : "timed out")}):\n{Log}");
            }

            WorkerId = await _started.Task;
        }

        public bool Reported(Guid export) => _lines.Any(l => l.Contains($"Export {export:D}: exported ", StringComparison.Ordinal));

        public bool TookOver(Guid export) => _lines.Any(l => l.Contains($"Export {export:D}: took over", StringComparison.Ordinal));

        /// <summary>SIGKILL to the server itself: no shutdown code runs, its lease and its upload stay behind.</summary>
        public void Kill()
        {
            // No waiting for it to go: it is not our child, and the signal cannot be caught or delayed.
            using var server = Process.GetProcessById(Pid);
            server.Kill();
        }

        private void OnLine(string? line)
        {
            if (line is null)
            {
                return;
            }

            _lines.Enqueue(line);
            if (StartedLine().Match(line) is { Success: true } match)
            {
                _started.TrySetResult(match.Groups["id"].Value);
            }
        }

        public void Dispose()
        {
            try
            {
                // Closing the watchdog's stdin stops the server (SIGTERM); a server that does not stop in time
                // is killed with the watchdog.
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
            AnnexFactory.TryDelete(_dataPath);
        }

        [GeneratedRegex(@"Export worker (?<id>\S+) started with")]
        private static partial Regex StartedLine();
    }
}
