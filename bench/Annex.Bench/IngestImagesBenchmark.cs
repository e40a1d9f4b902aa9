using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Text;
using Annex.Server.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Annex.Bench;

/// <summary>
/// <c>ingest-images</c>: a YOLO folder of small PNG photos-to-be (a gradient, a little noise and the boxes
/// drawn in, so each file is a real image of its own), imported per run through the <c>annex datasets import</c>
/// command's own code into a fresh in-process server on default settings, rate limits included. Times the
/// whole command: items, results and the images' bulk uploads.
/// </summary>
public static class IngestImagesBenchmark
{
    private const int Width = 320;
    private const int Height = 240;
    private static readonly string[] Labels = ["car", "person", "bicycle", "traffic light"];

    public sealed record Run(int Number, double Seconds, int ExitCode, string Summary);

    public static async Task<List<Run>> RunAsync(string folder, int images, int runs, TextWriter log, CancellationToken ct)
    {
        var source = Path.Combine(folder, "yolo");
        var bytes = EnsureFolder(source, images, log);
        log.WriteLine($"{images} images, {bytes / 1024.0 / 1024.0:F1} MiB in {source}");
        var results = new List<Run>();
        for (var run = 1; run <= runs; run++)
        {
            var data = Path.Combine(folder, $"server-{run}");
            if (Directory.Exists(data))
            {
                Directory.Delete(data, recursive: true);
            }

            try
            {
                results.Add(await RunOnceAsync(run, source, data, ct));
                log.WriteLine($"run {run}: {results[^1].Seconds:F2} s, {results[^1].Summary}");
            }
            finally
            {
                Directory.Delete(data, recursive: true);
            }
        }

        return results;
    }

    public static string Table(IReadOnlyList<Run> runs, int images)
    {
        var builder = new StringBuilder();
        builder.AppendLine("| run | wall s | images/s | exit |");
        builder.AppendLine("|--:|--:|--:|--:|");
        foreach (var run in runs)
        {
            builder.AppendLine(CultureInfo.InvariantCulture, $"| {run.Number} | {run.Seconds:F2} | {images / run.Seconds:F0} | {run.ExitCode} |");
        }

        var median = runs.Select(r => r.Seconds).Order().ElementAt(runs.Count / 2);
        builder.AppendLine(CultureInfo.InvariantCulture, $"| median | {median:F2} | {images / median:F0} | |");
        return builder.ToString();
    }

    private static async Task<Run> RunOnceAsync(int number, string source, string data, CancellationToken ct)
    {
        // Default settings: only where the data lives, the loopback address and quiet logs differ.
        var app = AnnexApp.Build(
        [
            $"--Storage:DataPath={data}",
            "--urls=http://127.0.0.1:0",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.Hosting.Lifetime=Warning",
        ]);
        await using (app)
        {
            await app.StartAsync(ct);
            try
            {
                var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
                var key = (await File.ReadAllTextAsync(Path.Combine(data, "admin-api-key"), ct)).Trim();
                using var output = new StringWriter();
                using var error = new StringWriter();
                var environment = new Annex.Cli.CliEnvironment
                {
                    Out = output,
                    Error = error,
                    Variable = name => name switch
                    {
                        "ANNEX_SERVER" => address,
                        "AVALA_API_KEY" => key,
                        _ => null,
                    },
                    WorkingDirectory = Path.GetDirectoryName(source)!,
                };
                var clock = Stopwatch.StartNew();
                var exit = await Annex.Cli.AnnexCli.RunAsync(["datasets", "import", source, "--name", $"Ingest {number}"], environment, ct);
                var seconds = clock.Elapsed.TotalSeconds;
                if (exit != 0)
                {
                    throw new BenchException($"annex datasets import exited {exit}: {error}");
                }

                return new Run(number, seconds, exit, output.ToString().Trim());
            }
            finally
            {
                await app.StopAsync(CancellationToken.None);
            }
        }
    }

    /// <summary>Writes the folder once (a marker file says it is complete); returns the images' bytes.</summary>
    private static long EnsureFolder(string folder, int images, TextWriter log)
    {
        var marker = Path.Combine(folder, ".complete");
        if (!File.Exists(marker) || File.ReadAllText(marker).Trim() != images.ToString(CultureInfo.InvariantCulture))
        {
            if (Directory.Exists(folder))
            {
                Directory.Delete(folder, recursive: true);
            }

            log.WriteLine($"writing {images} images to {folder}");
            var imageFolder = Directory.CreateDirectory(Path.Combine(folder, "images", "train")).FullName;
            var labelFolder = Directory.CreateDirectory(Path.Combine(folder, "labels", "train")).FullName;
            File.WriteAllText(Path.Combine(folder, "data.yaml"), $"names: [{string.Join(", ", Labels.Select(l => $"'{l}'"))}]\n");
            var random = new Random(20261205);
            Parallel.For(0, images, new ParallelOptions { MaxDegreeOfParallelism = 2 }, i =>
            {
                Random local;
                lock (random)
                {
                    local = new Random(random.Next());
                }

                var name = i.ToString("D5", CultureInfo.InvariantCulture);
                var boxes = Enumerable.Range(0, 1 + local.Next(5)).Select(_ => RandomBox(local)).ToList();
                File.WriteAllBytes(Path.Combine(imageFolder, name + ".png"), Png(boxes, local));
                File.WriteAllText(Path.Combine(labelFolder, name + ".txt"), string.Concat(boxes.Select(b => string.Create(
                    CultureInfo.InvariantCulture,
                    $"{b.Label} {(b.X + (b.W / 2.0)) / Width:F6} {(b.Y + (b.H / 2.0)) / Height:F6} {(double)b.W / Width:F6} {(double)b.H / Height:F6}\n"))));
            });
            File.WriteAllText(marker, images.ToString(CultureInfo.InvariantCulture));
        }

        return Directory.EnumerateFiles(Path.Combine(folder, "images", "train")).Sum(f => new FileInfo(f).Length);
    }

    private readonly record struct Box(int Label, int X, int Y, int W, int H);

    private static Box RandomBox(Random random)
    {
        var w = 16 + random.Next(Width / 3);
        var h = 16 + random.Next(Height / 3);
        return new Box(random.Next(Labels.Length), random.Next(Width - w), random.Next(Height - h), w, h);
    }

    /// <summary>An RGB PNG: a diagonal gradient with a little noise, and each box filled in its label's colour.</summary>
    private static byte[] Png(List<Box> boxes, Random random)
    {
        byte[][] colours = [[200, 40, 40], [40, 180, 60], [50, 80, 210], [230, 200, 40]];
        var rows = new byte[Height * ((Width * 3) + 1)];
        var p = 0;
        for (var y = 0; y < Height; y++)
        {
            rows[p++] = 0;
            for (var x = 0; x < Width; x++)
            {
                var box = boxes.FindLast(b => x >= b.X && x < b.X + b.W && y >= b.Y && y < b.Y + b.H);
                var noise = random.Next(-6, 7);
                for (var c = 0; c < 3; c++)
                {
                    var value = box.W > 0 ? colours[box.Label][c] : ((x * (c + 1)) + (y * (3 - c))) / 4;
                    rows[p++] = (byte)Math.Clamp(value + noise, 0, 255);
                }
            }
        }

        using var idat = new MemoryStream();
        using (var zlib = new ZLibStream(idat, CompressionLevel.Optimal, leaveOpen: true))
        {
            zlib.Write(rows);
        }

        using var png = new MemoryStream();
        png.Write([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]);
        var header = new byte[13];
        BinaryPrimitives.WriteInt32BigEndian(header, Width);
        BinaryPrimitives.WriteInt32BigEndian(header.AsSpan(4), Height);
        header[8] = 8; // bits per channel
        header[9] = 2; // RGB
        Chunk(png, "IHDR", header);
        Chunk(png, "IDAT", idat.ToArray());
        Chunk(png, "IEND", []);
        return png.ToArray();
    }

    private static void Chunk(Stream png, string type, byte[] data)
    {
        Span<byte> four = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(four, data.Length);
        png.Write(four);
        var typeBytes = Encoding.ASCII.GetBytes(type);
        png.Write(typeBytes);
        png.Write(data);
        BinaryPrimitives.WriteUInt32BigEndian(four, Crc32([.. typeBytes, .. data]));
        png.Write(four);
    }

    private static readonly uint[] CrcTable = Enumerable.Range(0, 256).Select(n =>
    {
        var c = (uint)n;
        for (var k = 0; k < 8; k++)
        {
            c = (c & 1) != 0 ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        }

        return c;
    }).ToArray();

    private static uint Crc32(byte[] bytes)
    {
        var crc = 0xFFFFFFFFu;
        foreach (var b in bytes)
        {
            crc = CrcTable[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc ^ 0xFFFFFFFFu;
    }
}
