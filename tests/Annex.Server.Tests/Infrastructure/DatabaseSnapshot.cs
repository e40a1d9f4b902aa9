using System.Data.Common;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>Every row of every table the server's model maps, read with plain SQL and reduced to one hash
/// per table: two equal snapshots mean no request wrote anything. The idempotency table is left out on
/// purpose: it records the answers to POSTs with an Idempotency-Key, refusals included.</summary>
public sealed class DatabaseSnapshot
{
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "idempotent_requests" };

    private DatabaseSnapshot(IReadOnlyDictionary<string, (int Rows, string Hash)> tables) => Tables = tables;

    public IReadOnlyDictionary<string, (int Rows, string Hash)> Tables { get; }

    public static async Task<DatabaseSnapshot> TakeAsync(IServiceProvider services)
    {
        var contexts = services.GetRequiredService<IDbContextFactory<AnnexDbContext>>();
        await using var db = await contexts.CreateDbContextAsync();
        var tables = db.Model.GetEntityTypes()
            .Select(e => e.GetTableName())
            .OfType<string>()
            .Where(t => !Ignored.Contains(t))
            .Distinct(StringComparer.Ordinal)
            .Order(StringComparer.Ordinal)
            .ToList();

        var connection = db.Database.GetDbConnection();
        await connection.OpenAsync();
        var result = new Dictionary<string, (int, string)>(StringComparer.Ordinal);
        foreach (var table in tables)
        {
            result[table] = await HashTableAsync(connection, table);
        }

        return new DatabaseSnapshot(result);
    }

    /// <summary>The tables whose rows differ, with their row counts before and after; empty when none do.</summary>
    public IReadOnlyList<string> DifferencesFrom(DatabaseSnapshot before) =>
        Tables.Where(t => !before.Tables.TryGetValue(t.Key, out var old) || old != t.Value)
            .Select(t => $"{t.Key} ({(before.Tables.TryGetValue(t.Key, out var old) ? old.Rows : 0)} -> {t.Value.Rows} rows)")
            .ToList();

    private static async Task<(int Rows, string Hash)> HashTableAsync(DbConnection connection, string table)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = $"SELECT * FROM \"{table}\"";
        await using var reader = await command.ExecuteReaderAsync();
        var rows = new List<string>();
        var line = new StringBuilder();
        while (await reader.ReadAsync())
        {
            line.Clear();
            for (var i = 0; i < reader.FieldCount; i++)
            {
                var value = reader.IsDBNull(i) ? "<null>" : reader.GetValue(i) switch
                {
                    byte[] bytes => Convert.ToHexString(bytes),
                    DateTime time => time.ToString("O", CultureInfo.InvariantCulture),
                    var other => Convert.ToString(other, CultureInfo.InvariantCulture),
                };
                line.Append(reader.GetName(i)).Append('=').Append(value).Append('\u001f');
            }

            rows.Add(line.ToString());
        }

        // Row order is whatever the database returns; sorting makes the hash depend on the contents only.
        rows.Sort(StringComparer.Ordinal);
        return (rows.Count, Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(string.Join('\n', rows)))));
    }
}
