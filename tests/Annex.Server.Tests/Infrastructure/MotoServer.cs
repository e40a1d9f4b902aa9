using System.Diagnostics;
using System.Globalization;
using System.Net.Sockets;
using Amazon.S3;
using Amazon.S3.Model;
using Annex.Server.Infrastructure.Storage;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>
/// A private S3-compatible server for this test run: <c>moto_server</c> (the Python package moto in
/// server mode) on a free loopback port, stopped when the test process exits. Each test gets a bucket
/// of its own. Where moto is not installed, <see cref="Require"/> skips (or, in CI, fails) the test.
/// </summary>
public static class MotoServer
{
    public const string AccessKey = "annex-test";
    public const string SecretKey = "annex-test-secret";
    public const string Region = "us-east-1";

    private static readonly Lazy<Instance?> Shared = new(Start, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary><c>ANNEX_MOTO_SERVER</c>, or moto_server on PATH.</summary>
    public static string? FindProgram()
    {
        var configured = Environment.GetEnvironmentVariable("ANNEX_MOTO_SERVER");
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured) ? configured : null;
        }

        return (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator)
            .Where(d => d.Length > 0)
            .Select(d => Path.Combine(d, "moto_server"))
            .FirstOrDefault(File.Exists);
    }

    public static Instance Require()
    {
        Requirements.Require(FindProgram() is not null, "moto_server (the Python package moto with its server extra: pip install 'moto[server]')");
        return Shared.Value ?? throw new InvalidOperationException("moto_server is installed but could not be started; see the test output.");
    }

    /// <summary>A new, empty bucket on the shared server, and the settings that point a server at it.</summary>
    public static async Task<TestBucket> CreateBucketAsync(string? prefix = null)
    {
        var instance = Require();
        var options = new S3StorageOptions
        {
            ServiceUrl = instance.ServiceUrl,
            Region = Region,
            Bucket = "annex-" + Guid.NewGuid().ToString("N")[..20],
            ForcePathStyle = true,
            Prefix = prefix,
            AccessKey = AccessKey,
            SecretKey = SecretKey,
            PartSize = S3StorageOptions.MinPartSize,
        };
        var client = S3BlobStore.CreateClient(options);
        await client.PutBucketAsync(new PutBucketRequest { BucketName = options.Bucket });
        return new TestBucket(options, client);
    }

    private static Instance? Start()
    {
        var program = FindProgram();
        if (program is null)
        {
            return null;
        }

        var port = PostgresServer.FreePort();
        // moto runs under a small shell watchdog that holds our end of a pipe on its stdin: when this test
        // process ends in any way (even killed, when no exit handler runs), the pipe closes, `read` returns
        // and the watchdog stops moto, so no server outlives the test run.
        const string Watchdog = "\"$@\" </dev/null & child=$!; read -r _; kill $child 2>/dev/null; wait $child";
        var start = new ProcessStartInfo("/bin/sh", ["-c", Watchdog, "sh", program, "-H", "127.0.0.1", "-p", port.ToString(CultureInfo.InvariantCulture)])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start moto_server.");
        // Its request log is not needed, but the pipes must be drained or the server blocks on a full one.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                process.StandardInput.Close();
                if (!process.WaitForExit(TimeSpan.FromSeconds(5)))
                {
                    process.Kill(entireProcessTree: true);
                }
            }
            catch (Exception e) when (e is InvalidOperationException or IOException or System.ComponentModel.Win32Exception)
            {
            }
        };

        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                throw new InvalidOperationException($"moto_server exited with code {process.ExitCode} at start-up.");
            }

            try
            {
                using var probe = new TcpClient();
                probe.Connect("127.0.0.1", port);
                return new Instance($"http://127.0.0.1:{port}", process);
            }
            catch (SocketException)
            {
                Thread.Sleep(100);
            }
        }

        process.Kill(entireProcessTree: true);
        throw new InvalidOperationException("moto_server did not accept connections within 60 seconds.");
    }

    public sealed record Instance(string ServiceUrl, Process Process);
}

/// <summary>A bucket of one test, with a client for looking into it from outside the server.</summary>
public sealed record TestBucket(S3StorageOptions Options, IAmazonS3 Client) : IDisposable
{
    public string Name => Options.Bucket!;

    /// <summary>Server settings that store archives in this bucket.</summary>
    public Dictionary<string, string?> Settings() => new()
    {
        ["Storage:Provider"] = "S3",
        ["Storage:S3:ServiceUrl"] = Options.ServiceUrl,
        ["Storage:S3:Region"] = Options.Region,
        ["Storage:S3:Bucket"] = Options.Bucket,
        ["Storage:S3:ForcePathStyle"] = "true",
        ["Storage:S3:Prefix"] = Options.Prefix,
        ["Storage:S3:AccessKey"] = Options.AccessKey,
        ["Storage:S3:SecretKey"] = Options.SecretKey,
        ["Storage:S3:PartSize"] = Options.PartSize.ToString(CultureInfo.InvariantCulture),
    };

    public async Task<List<string>> KeysAsync()
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = Name };
        while (true)
        {
            var page = await Client.ListObjectsV2Async(request);
            keys.AddRange((page.S3Objects ?? []).Select(o => o.Key));
            if (page.IsTruncated != true)
            {
                return keys;
            }

            request.ContinuationToken = page.NextContinuationToken;
        }
    }

    public async Task<List<MultipartUpload>> OpenUploadsAsync()
    {
        var page = await Client.ListMultipartUploadsAsync(new ListMultipartUploadsRequest { BucketName = Name });
        return page.MultipartUploads ?? [];
    }

    public void Dispose() => Client.Dispose();
}
