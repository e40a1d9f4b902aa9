using System.Diagnostics;
using System.Globalization;
using System.Text;
using Annex.Server.Features.Organizations;
using Annex.Server.Hosting;
using Annex.Server.Infrastructure.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Annex.Bench;

/// <summary>Writes a synthetic workload straight into the server's SQLite database: the schema and the
/// account through the server's own code, the bulk rows through raw prepared INSERTs (the HTTP API
/// would take far longer than the export being measured).</summary>
public static class Generator
{
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";
    private const int ImageWidth = 1920;
    private const int ImageHeight = 1080;

    internal static readonly string[] LabelNames =
    [
        "car", "truck", "bus", "van", "motorcycle", "bicycle", "person", "rider", "traffic_light", "traffic_sign",
        "pole", "barrier", "traffic_cone", "trailer", "train", "animal", "stroller", "wheelchair", "debris", "parking_meter",
    ];

    // Index into LabelNames of the label that carries keypoints.
    internal const int KeypointLabel = 6;

    internal static readonly string[] Weathers = ["clear", "rain", "fog", "snow"];
    internal static readonly string[] Times = ["day", "night", "dusk"];
    internal static readonly string[] Cameras = ["front", "rear", "left", "right"];
    internal static readonly string[] Splits = ["train", "train", "train", "train", "train", "train", "train", "train", "val", "test"];

    /// <summary>How long the last generation's bulk INSERTs of items and results took (the direct insert the
    /// ingest bench compares the API against).</summary>
    public static TimeSpan LastInsertTime { get; private set; }

    public static async Task<Workload> EnsureAsync(string folder, int tasks, int annotationsPerTask, int datasetCount, TextWriter log, CancellationToken ct)
    {
        if (Workload.TryRead(folder) is { } existing)
        {
            if (existing.Matches(tasks, annotationsPerTask, datasetCount))
            {
                log.WriteLine($"Workload in {folder} is complete ({tasks} tasks x {annotationsPerTask} annotations, {datasetCount} datasets); skipping generation.");
                return existing;
            }

            log.WriteLine($"Workload in {folder} has other parameters; generating it again.");
        }

        Clear(folder);
        return await GenerateAsync(folder, tasks, annotationsPerTask, datasetCount, log, ct);
    }

    /// <summary>Removes a partial or different workload, but refuses to empty a folder that is not one.</summary>
    private static void Clear(string folder)
    {
        if (!Directory.Exists(folder) || !Directory.EnumerateFileSystemEntries(folder).Any())
        {
            return;
        }

        if (!File.Exists(Path.Combine(folder, "annex.db")) && !File.Exists(Path.Combine(folder, Workload.MarkerFileName)))
        {
            throw new BenchException($"{folder} is not empty and holds no bench workload; choose another --data folder.");
        }

        Directory.Delete(folder, recursive: true);
    }

    private static async Task<Workload> GenerateAsync(string folder, int tasks, int annotationsPerTask, int datasetCount, TextWriter log, CancellationToken ct)
    {
        var total = Stopwatch.StartNew();
        Directory.CreateDirectory(folder);
        var apiKey = await CreateSchemaAndAccountAsync(folder, ct);
        log.WriteLine($"Schema and account ready in {total.Elapsed.TotalSeconds:F1} s.");

        var databasePath = Path.Combine(folder, "annex.db");
        var connectionString = new SqliteConnectionStringBuilder { DataSource = databasePath, Pooling = false }.ToString();
        Guid projectUid;
        List<Guid> datasetUids;
        await using (var connection = new SqliteConnection(connectionString))
        {
            await connection.OpenAsync(ct);

            // A fresh file that is thrown away if generation stops half-way (no marker is written), so
            // durability buys nothing here: no journal, no syncs, a large page cache.
            Execute(connection, "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-262144; PRAGMA temp_store=MEMORY; PRAGMA foreign_keys=OFF;");
            var organizationId = Convert.ToInt64(Scalar(connection, "SELECT Id FROM organizations WHERE Uid = $uid", ("$uid", Text(apiKey.OrganizationUid))), CultureInfo.InvariantCulture);

            var insert = Stopwatch.StartNew();
            using (var transaction = connection.BeginTransaction())
            {
                var now = DateTime.UtcNow;
                (datasetUids, var datasetIds) = InsertDatasets(connection, transaction, organizationId, tasks, datasetCount, now);
                (projectUid, var projectId) = InsertProject(connection, transaction, organizationId, now);
                InsertItemsAndResults(connection, transaction, datasetIds, projectId, tasks, annotationsPerTask, now, log, insert);
                transaction.Commit();
            }

            LastInsertTime = insert.Elapsed;
            log.WriteLine($"Inserted {tasks} items and results in {insert.Elapsed.TotalSeconds:F1} s.");

            // Back to the journal mode the server runs with, so the export reads the file as it would in production.
            Execute(connection, "PRAGMA journal_mode=WAL;");
        }

        total.Stop();
        var workload = new Workload(
            tasks,
            annotationsPerTask,
            datasetCount,
            datasetUids,
            projectUid,
            apiKey.Key,
            DateTime.UtcNow,
            Math.Round(total.Elapsed.TotalSeconds, 1),
            new FileInfo(databasePath).Length);
        workload.Write(folder);
        log.WriteLine($"Generated {tasks} tasks x {annotationsPerTask} annotations in {total.Elapsed.TotalSeconds:F1} s; database {workload.DatabaseBytes / 1_000_000.0:F0} MB.");
        return workload;
    }

    /// <summary>Applies the server's migrations and creates the organization through the server's code,
    /// so the bench never depends on how keys are hashed or accounts are laid out.</summary>
    private static async Task<IssuedApiKey> CreateSchemaAndAccountAsync(string folder, CancellationToken ct)
    {
        await using var app = AnnexApp.Build([$"--Storage:DataPath={folder}", "--Logging:LogLevel:Default=Warning"]);
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AnnexDbContext>().Database.MigrateAsync(ct);
        var issued = await scope.ServiceProvider.GetRequiredService<Accounts>()
            .CreateOrganizationWithAdminAsync("Bench organization", "bench@localhost", ct);
        var keyPath = Path.Combine(folder, "bench-api-key");
        await File.WriteAllTextAsync(keyPath, issued.Key + "\n", ct);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(keyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // The host's pooled connections would otherwise keep the file open while the bulk insert runs.
        SqliteConnection.ClearAllPools();
        return issued;
    }

    private static (List<Guid> Uids, long[] Ids) InsertDatasets(SqliteConnection connection, SqliteTransaction transaction, long organizationId, int tasks, int datasetCount, DateTime now)
    {
        using var command = Prepare(connection, transaction,
            "INSERT INTO datasets (Uid, OrganizationId, Name, Slug, ItemCount, CreatedAt) VALUES ($uid, $org, $name, $slug, $count, $created) RETURNING Id",
            "$uid", "$org", "$name", "$slug", "$count", "$created");
        var uids = new List<Guid>(datasetCount);
        var ids = new long[datasetCount];
        for (var d = 0; d < datasetCount; d++)
        {
            var uid = Guid.CreateVersion7();
            uids.Add(uid);
            // Slugs are unique within an organization.
            Set(command, Text(uid), organizationId, $"Bench drive {d + 1:D2}", $"bench-drive-{d + 1:D2}", ItemsInDataset(d, tasks, datasetCount), Timestamp(now));
            ids[d] = Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture);
        }

        return (uids, ids);
    }

    /// <summary>Items go to datasets in contiguous blocks, as recordings usually arrive.</summary>
    private static int DatasetOf(int item, int tasks, int datasetCount) => (int)((long)item * datasetCount / tasks);

    private static long ItemsInDataset(int dataset, int tasks, int datasetCount)
    {
        // The first item index whose block is `dataset`, by the same arithmetic as DatasetOf.
        static long FirstOf(int d, int n, int count) => ((long)d * n + count - 1) / count;
        return FirstOf(dataset + 1, tasks, datasetCount) - FirstOf(dataset, tasks, datasetCount);
    }

    private static (Guid Uid, long Id) InsertProject(SqliteConnection connection, SqliteTransaction transaction, long organizationId, DateTime now)
    {
        // The taxonomy as the projects API stores it: name, color, attributes, keypoints, skeleton.
        var labels = new StringBuilder("[");
        for (var i = 0; i < LabelNames.Length; i++)
        {
            var hue = i * 360.0 / LabelNames.Length;
            labels.Append(i == 0 ? "" : ",")
                .Append(CultureInfo.InvariantCulture, $"{{\"name\":\"{LabelNames[i]}\",\"color\":\"{Color(hue)}\",")
                .Append("\"attributes\":[{\"name\":\"occluded\",\"type\":\"boolean\"},{\"name\":\"truncated\",\"type\":\"boolean\"}]");
            if (i == KeypointLabel)
            {
                labels.Append(",\"keypoints\":[\"head\",\"left_hand\",\"right_hand\"],\"skeleton\":[[1,2],[1,3]]");
            }

            labels.Append('}');
        }

        labels.Append(']');
        var uid = Guid.CreateVersion7();
        using var command = Prepare(connection, transaction,
            "INSERT INTO projects (Uid, OrganizationId, Name, Labels, CreatedAt) VALUES ($uid, $org, $name, $labels, $created) RETURNING Id",
            "$uid", "$org", "$name", "$labels", "$created");
        Set(command, Text(uid), organizationId, "Bench detection", labels.ToString(), Timestamp(now));
        return (uid, Convert.ToInt64(command.ExecuteScalar(), CultureInfo.InvariantCulture));
    }

    internal static string Color(double hue)
    {
        // Fully saturated colors spread around the hue circle: distinct, and valid #RRGGBB.
        var x = 1 - Math.Abs((hue / 60 % 2) - 1);
        var (r, g, b) = (int)(hue / 60) switch
        {
            0 => (1.0, x, 0.0),
            1 => (x, 1.0, 0.0),
            2 => (0.0, 1.0, x),
            3 => (0.0, x, 1.0),
            4 => (x, 0.0, 1.0),
            _ => (1.0, 0.0, x),
        };
        return string.Create(CultureInfo.InvariantCulture, $"#{(int)(r * 255):X2}{(int)(g * 255):X2}{(int)(b * 255):X2}");
    }

    private static void InsertItemsAndResults(SqliteConnection connection, SqliteTransaction transaction, long[] datasetIds, long projectId, int tasks, int annotationsPerTask, DateTime now, TextWriter log, Stopwatch elapsed)
    {
        using var items = Prepare(connection, transaction,
            "INSERT INTO dataset_items (Id, Uid, DatasetId, RefId, Metadata, Width, Height, MediaUrl, CreatedAt, UpdatedAt) VALUES ($id, $uid, $dataset, $ref, $meta, $w, $h, $url, $created, $updated)",
            "$id", "$uid", "$dataset", "$ref", "$meta", "$w", "$h", "$url", "$created", "$updated");
        using var results = Prepare(connection, transaction,
            "INSERT INTO results (Id, Uid, DatasetItemId, ProjectId, Annotations, AnnotationCount, CreatedAt, UpdatedAt) VALUES ($id, $uid, $item, $project, $annotations, $count, $created, $updated)",
            "$id", "$uid", "$item", "$project", "$annotations", "$count", "$created", "$updated");

        // A fixed seed: the same parameters always give the same annotations, so runs compare.
        var random = new Random(20250121);
        var annotations = new StringBuilder(annotationsPerTask * 200);
        var start = now.AddSeconds(-tasks);
        long annotationIndex = 0;
        var step = Math.Max(tasks / 10, 1);
        for (var i = 0; i < tasks; i++)
        {
            long id = i + 1;
            var refId = string.Create(CultureInfo.InvariantCulture, $"frame_{id:D6}");
            var metadata = string.Create(CultureInfo.InvariantCulture,
                $"{{\"weather\":\"{Weathers[i % Weathers.Length]}\",\"time\":\"{Times[i / 7 % Times.Length]}\",\"camera\":\"{Cameras[i / 3 % Cameras.Length]}\",\"split\":\"{Splits[i % Splits.Length]}\"}}");
            // Items a second apart, so created_at filters select proportional ranges.
            var created = Timestamp(start.AddSeconds(i));
            Set(items, id, Text(Guid.CreateVersion7()), datasetIds[DatasetOf(i, tasks, datasetIds.Length)], refId, metadata,
                ImageWidth, ImageHeight, $"https://media.example.com/bench/{refId}.jpg", created, created);
            items.ExecuteNonQuery();

            annotations.Clear().Append('[');
            for (var a = 0; a < annotationsPerTask; a++, annotationIndex++)
            {
                if (a > 0)
                {
                    annotations.Append(',');
                }

                AppendAnnotation(annotations, random, annotationIndex);
            }

            annotations.Append(']');
            Set(results, id, Text(Guid.CreateVersion7()), id, projectId, annotations.ToString(), annotationsPerTask, created, created);
            results.ExecuteNonQuery();

            if ((i + 1) % step == 0)
            {
                log.WriteLine($"  {i + 1,10} tasks  {elapsed.Elapsed.TotalSeconds,6:F1} s");
            }
        }
    }

    /// <summary>One annotation in the canonical form the results API stores: label, type, coordinates,
    /// attributes. Types cycle 7:2:1 (bounding box, polygon, keypoints) so the mix is exact.</summary>
    internal static void AppendAnnotation(StringBuilder json, Random random, long index)
    {
        var kind = index % 10;
        var label = kind == 9 ? LabelNames[KeypointLabel] : LabelNames[PickBoxLabel(random)];
        var type = kind switch { < 7 => "bounding_box", < 9 => "polygon", _ => "keypoints" };
        json.Append(CultureInfo.InvariantCulture, $"{{\"label\":\"{label}\",\"type\":\"{type}\",\"coordinates\":");
        var width = random.Next(20, 400);
        var height = random.Next(20, 300);
        var x = random.Next(0, ImageWidth - width);
        var y = random.Next(0, ImageHeight - height);
        if (kind < 7)
        {
            json.Append(CultureInfo.InvariantCulture, $"{{\"x\":{x},\"y\":{y},\"width\":{width},\"height\":{height}}}");
        }
        else if (kind < 9)
        {
            // A convex outline inside the box, with sub-pixel vertices as annotation tools produce.
            var vertices = random.Next(4, 9);
            json.Append("{\"vertices\":[");
            for (var v = 0; v < vertices; v++)
            {
                var angle = 2 * Math.PI * v / vertices;
                var vx = Math.Round(x + (width / 2.0 * (1 + Math.Cos(angle))), 1);
                var vy = Math.Round(y + (height / 2.0 * (1 + Math.Sin(angle))), 1);
                json.Append(v == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"[{vx},{vy}]");
            }

            json.Append("]}");
        }
        else
        {
            // head, left hand, right hand of a standing person.
            json.Append(CultureInfo.InvariantCulture,
                $"{{\"points\":[{{\"x\":{x + (width / 2)},\"y\":{y}}},{{\"x\":{x},\"y\":{y + (height / 2)}}},{{\"x\":{x + width},\"y\":{y + (height / 2)}}}]}}");
        }

        var occluded = random.Next(4) == 0 ? "true" : "false";
        var truncated = random.Next(10) == 0 ? "true" : "false";
        json.Append(CultureInfo.InvariantCulture, $",\"attributes\":{{\"occluded\":{occluded},\"truncated\":{truncated}}}}}");
    }

    /// <summary>Cars dominate driving data; the rest share what is left.</summary>
    private static int PickBoxLabel(Random random)
    {
        var roll = random.Next(100);
        if (roll < 40)
        {
            return 0;
        }

        var other = random.Next(LabelNames.Length - 2) + 1;
        return other >= KeypointLabel ? other + 1 : other;
    }

    private static string Text(Guid uid) => uid.ToString("D").ToUpperInvariant();

    private static string Timestamp(DateTime utc) => utc.ToString(TimestampFormat, CultureInfo.InvariantCulture);

    private static SqliteCommand Prepare(SqliteConnection connection, SqliteTransaction transaction, string sql, params string[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var name in parameters)
        {
            command.Parameters.Add(new SqliteParameter { ParameterName = name });
        }

        command.Prepare();
        return command;
    }

    private static void Set(SqliteCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static object? Scalar(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar();
    }
}

public sealed class BenchException(string message) : Exception(message);
