using System.Diagnostics;
using System.Globalization;
using Microsoft.Data.Sqlite;

namespace Annex.Bench;

/// <summary>Fills the <c>exports</c> table of a workload with finished exports (mostly <c>exported</c>,
/// some <c>failed</c> or <c>aborted</c>) created over the last 30 days, so the exports API is measured on
/// an organization with a long history. Runs while the server is stopped.</summary>
public static class BulkExports
{
    public const string MarkerFileName = "bench-bulk-exports";
    public const string NamePrefix = "bulk export ";
    private const string TimestampFormat = "yyyy-MM-dd HH:mm:ss.FFFFFFF";

    /// <summary>Inserts rows until the folder holds <paramref name="count"/> bulk exports; the marker file
    /// records how many are there, so a second call with the same count does nothing.</summary>
    public static void Ensure(string folder, int count, TextWriter log)
    {
        var workload = Workload.TryRead(folder)
            ?? throw new BenchException($"{folder} holds no complete workload; run `generate` first.");
        var markerPath = Path.Combine(folder, MarkerFileName);
        var present = File.Exists(markerPath) ? int.Parse(File.ReadAllText(markerPath).Trim(), CultureInfo.InvariantCulture) : 0;
        if (present >= count)
        {
            log.WriteLine($"{present} bulk exports already in the database (marker {MarkerFileName}); none inserted.");
            return;
        }

        var clock = Stopwatch.StartNew();
        using (var connection = Open(folder))
        {
            var organizationId = Convert.ToInt64(Scalar(connection, "SELECT OrganizationId FROM datasets WHERE Uid = $uid", ("$uid", Text(workload.Datasets[0]))), CultureInfo.InvariantCulture);
            using var transaction = connection.BeginTransaction();
            using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText =
                "INSERT INTO exports (Uid, OrganizationId, Name, Format, Status, TotalTaskCount, ExportedTaskCount, Datasets, Projects, Slices, " +
                "FilterQueryString, Error, ArchiveKey, ArchiveSize, LeaseOwner, LeaseExpiresAt, Attempts, CreatedAt, UpdatedAt) VALUES " +
                "($uid, $org, $name, 'avala-json-external', $status, $total, $exported, '[]', '[]', '[]', NULL, $error, $key, $size, NULL, NULL, 0, $created, $updated)";
            string[] names = ["$uid", "$org", "$name", "$status", "$total", "$exported", "$error", "$key", "$size", "$created", "$updated"];
            foreach (var name in names)
            {
                insert.Parameters.Add(new SqliteParameter { ParameterName = name });
            }

            insert.Prepare();
            var random = new Random(20261128 + present);
            var now = DateTime.UtcNow;
            for (var n = present + 1; n <= count; n++)
            {
                var uid = Guid.NewGuid();
                var created = now.AddSeconds(-random.NextDouble() * 30 * 24 * 3600);
                var roll = random.Next(100);
                var status = roll < 90 ? "exported" : roll < 95 ? "failed" : "aborted";
                var total = (long)random.Next(1, 100_000);
                var exported = status == "exported" ? total : total * random.Next(0, 100) / 100;
                object?[] values =
                [
                    Text(uid),
                    organizationId,
                    NamePrefix + n.ToString(CultureInfo.InvariantCulture),
                    status,
                    total,
                    exported,
                    status == "failed" ? "bench: simulated failure" : null,
                    status == "exported" ? $"exports/{uid:D}.zip" : null,
                    status == "exported" ? total * 250 : null,
                    Timestamp(created),
                    Timestamp(created.AddSeconds(1 + random.NextDouble() * 120)),
                ];
                for (var i = 0; i < values.Length; i++)
                {
                    insert.Parameters[i].Value = values[i] ?? DBNull.Value;
                }

                insert.ExecuteNonQuery();
            }

            transaction.Commit();
        }

        File.WriteAllText(markerPath, count.ToString(CultureInfo.InvariantCulture) + "\n");
        log.WriteLine($"Inserted {count - present} bulk exports in {clock.Elapsed.TotalSeconds:F1} s ({count} in the database now).");
    }

    /// <summary>Up to <paramref name="limit"/> random uids of bulk exports.</summary>
    public static List<Guid> SampleUids(string folder, int limit)
    {
        using var connection = Open(folder);
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT Uid FROM exports WHERE Name LIKE 'bulk export %' ORDER BY random() LIMIT $limit";
        command.Parameters.AddWithValue("$limit", limit);
        using var reader = command.ExecuteReader();
        var uids = new List<Guid>();
        while (reader.Read())
        {
            uids.Add(Guid.Parse(reader.GetString(0)));
        }

        return uids;
    }

    private static SqliteConnection Open(string folder)
    {
        var path = Path.Combine(folder, "annex.db");
        var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false, Mode = SqliteOpenMode.ReadWrite }.ToString());
        connection.Open();
        return connection;
    }

    private static object? Scalar(SqliteConnection connection, string sql, params (string Name, object Value)[] parameters)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name, value);
        }

        return command.ExecuteScalar() ?? throw new BenchException($"No row for: {sql}");
    }

    private static string Text(Guid uid) => uid.ToString("D").ToUpperInvariant();

    private static string Timestamp(DateTime utc) => utc.ToString(TimestampFormat, CultureInfo.InvariantCulture);
}
