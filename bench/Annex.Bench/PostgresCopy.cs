using System.Diagnostics;
using System.Globalization;
using Annex.Server.Hosting;
using Annex.Server.Infrastructure.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Npgsql;
using NpgsqlTypes;

namespace Annex.Bench;

/// <summary>
/// Puts a generated workload into a PostgreSQL database, row for row the same as in its SQLite file, so
/// both databases export the same data: the schema through the server's own PostgreSQL migrations, the
/// rows with binary COPY, then the identity sequences moved past the copied ids and VACUUM ANALYZE, as a
/// database that had been filled through the API and maintained would be.
/// </summary>
public static class PostgresCopy
{
    // Parents before children. Exports are left out: the SQLite file also holds those of earlier bench
    // runs, and each measured run creates its own.
    private static readonly string[] Tables = ["organizations", "users", "api_keys", "datasets", "dataset_items", "projects", "results", "slices", "slice_items"];

    public static async Task EnsureAsync(string folder, Workload workload, string connectionString, TextWriter log, CancellationToken ct)
    {
        await using (var probe = new NpgsqlConnection(connectionString))
        {
            await probe.OpenAsync(ct);
            var tables = Convert.ToInt64(await Scalar(probe, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'", ct), CultureInfo.InvariantCulture);
            if (tables > 0)
            {
                if (await HoldsWorkloadAsync(probe, workload, ct))
                {
                    log.WriteLine("The PostgreSQL database already holds this workload; skipping the copy.");
                    return;
                }

                throw new BenchException("The PostgreSQL database is not empty and does not hold this workload; give the bench an empty database of its own.");
            }
        }

        var clock = Stopwatch.StartNew();
        await MigrateAsync(folder, connectionString, ct);
        log.WriteLine($"PostgreSQL schema migrated in {clock.Elapsed.TotalSeconds:F1} s.");

        var sqlite = new SqliteConnectionStringBuilder { DataSource = Path.Combine(folder, "annex.db"), Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString();
        await using var source = new SqliteConnection(sqlite);
        await source.OpenAsync(ct);
        await using var target = new NpgsqlConnection(connectionString);
        await target.OpenAsync(ct);
        foreach (var table in Tables)
        {
            var (copied, hasId) = await CopyTableAsync(source, target, table, ct);
            log.WriteLine($"  {table}: {copied:N0} rows ({clock.Elapsed.TotalSeconds:F1} s)");
            if (!hasId)
            {
                continue;
            }

            await Scalar(target, $"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'Id'), COALESCE((SELECT MAX(\"Id\") FROM \"{table}\"), 0) + 1, false)", ct);
        }

        await Scalar(target, "VACUUM ANALYZE", ct);
        log.WriteLine($"Copied the workload to PostgreSQL in {clock.Elapsed.TotalSeconds:F1} s.");
    }

    private static async Task<bool> HoldsWorkloadAsync(NpgsqlConnection connection, Workload workload, CancellationToken ct)
    {
        try
        {
            await using var command = new NpgsqlCommand("SELECT (SELECT COUNT(*) FROM results), (SELECT COUNT(*) FROM projects WHERE \"Uid\" = @project)", connection);
            command.Parameters.AddWithValue("project", workload.Project);
            await using var reader = await command.ExecuteReaderAsync(ct);
            await reader.ReadAsync(ct);
            return reader.GetInt64(0) == workload.Tasks && reader.GetInt64(1) == 1;
        }
        catch (PostgresException)
        {
            return false;
        }
    }

    private static async Task MigrateAsync(string folder, string connectionString, CancellationToken ct)
    {
        await using var app = AnnexApp.Build([
            $"--Storage:DataPath={folder}",
            "--Database:Provider=Postgres",
            $"--Database:ConnectionString={connectionString}",
            "--Logging:LogLevel:Default=Warning",
        ]);
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AnnexDbContext>().Database.MigrateAsync(ct);
    }

    private static async Task<(long Rows, bool HasId)> CopyTableAsync(SqliteConnection source, NpgsqlConnection target, string table, CancellationToken ct)
    {
        // The PostgreSQL column types decide how each SQLite value (text, integer, real) is converted.
        var columns = new List<(string Name, string Type)>();
        await using (var describe = new NpgsqlCommand("SELECT column_name, udt_name FROM information_schema.columns WHERE table_schema = 'public' AND table_name = @table ORDER BY ordinal_position", target))
        {
            describe.Parameters.AddWithValue("table", table);
            await using var reader = await describe.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                columns.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        // Only the columns both schemas have; a column the other lacks keeps its default.
        var present = new HashSet<string>(StringComparer.Ordinal);
        await using (var info = source.CreateCommand())
        {
            info.CommandText = $"SELECT name FROM pragma_table_info('{table}')";
            await using var reader = await info.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                present.Add(reader.GetString(0));
            }
        }

        columns.RemoveAll(c => !present.Contains(c.Name));
        var quoted = string.Join(", ", columns.Select(c => $"\"{c.Name}\""));
        await using var select = source.CreateCommand();
        select.CommandText = $"SELECT {quoted} FROM \"{table}\" ORDER BY rowid";
        await using var rows = await select.ExecuteReaderAsync(ct);
        await using var copy = await target.BeginBinaryImportAsync($"COPY \"{table}\" ({quoted}) FROM STDIN (FORMAT BINARY)", ct);
        long count = 0;
        while (await rows.ReadAsync(ct))
        {
            await copy.StartRowAsync(ct);
            for (var i = 0; i < columns.Count; i++)
            {
                if (rows.IsDBNull(i))
                {
                    await copy.WriteNullAsync(ct);
                    continue;
                }

                await WriteAsync(copy, rows, i, columns[i].Type, ct);
            }

            count++;
        }

        await copy.CompleteAsync(ct);
        return (count, columns.Any(c => c.Name == "Id"));
    }

    private static Task WriteAsync(NpgsqlBinaryImporter copy, SqliteDataReader row, int i, string type, CancellationToken ct) => type switch
    {
        "uuid" => copy.WriteAsync(Guid.Parse(row.GetString(i)), NpgsqlDbType.Uuid, ct),
        "timestamptz" => copy.WriteAsync(DateTime.SpecifyKind(DateTime.Parse(row.GetString(i), CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal), DateTimeKind.Utc), NpgsqlDbType.TimestampTz, ct),
        "timestamp" => copy.WriteAsync(DateTime.Parse(row.GetString(i), CultureInfo.InvariantCulture), NpgsqlDbType.Timestamp, ct),
        "bool" => copy.WriteAsync(row.GetInt64(i) != 0, NpgsqlDbType.Boolean, ct),
        "int2" => copy.WriteAsync((short)row.GetInt64(i), NpgsqlDbType.Smallint, ct),
        "int4" => copy.WriteAsync((int)row.GetInt64(i), NpgsqlDbType.Integer, ct),
        "int8" => copy.WriteAsync(row.GetInt64(i), NpgsqlDbType.Bigint, ct),
        "float8" => copy.WriteAsync(row.GetDouble(i), NpgsqlDbType.Double, ct),
        "jsonb" => copy.WriteAsync(row.GetString(i), NpgsqlDbType.Jsonb, ct),
        "json" => copy.WriteAsync(row.GetString(i), NpgsqlDbType.Json, ct),
        "bytea" => copy.WriteAsync(row.GetFieldValue<byte[]>(i), NpgsqlDbType.Bytea, ct),
        "text" or "varchar" or "bpchar" => copy.WriteAsync(row.GetString(i), NpgsqlDbType.Text, ct),
        _ => throw new BenchException($"The bench cannot copy a PostgreSQL column of type {type}."),
    };

    private static async Task<object?> Scalar(NpgsqlConnection connection, string sql, CancellationToken ct)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        command.CommandTimeout = 0;
        return await command.ExecuteScalarAsync(ct);
    }
}
