using System.Data.Common;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Metadata;
using Microsoft.EntityFrameworkCore.Storage;

namespace Annex.Server.Infrastructure.Data;

/// <summary>
/// Writes many new rows of one entity with multi-row <c>INSERT ... VALUES (...), (...)</c> statements on the
/// request's connection and transaction, bypassing the change tracker: EF Core's per-entity bookkeeping costs far
/// more than the database does for bulk imports. Column names, parameter types and value conversions come from
/// the EF model, so the rows read back exactly as if EF Core had written them, on SQLite and on PostgreSQL.
/// Database-generated keys are left to the database and not read back.
/// </summary>
public static class BulkInsert
{
    /// <summary>Bound parameters one statement may carry: SQLite's limit since 3.32 is 32,766, PostgreSQL's
    /// wire protocol allows 65,535.</summary>
    private const int SqliteMaxParameters = 32_766;

    private const int PostgresMaxParameters = 65_535;

    /// <summary>SQLite finds each bound parameter by name with a linear search of the statement's parameters, so
    /// binding a statement costs the square of its parameter count: 1,000 rows of 12 columns took seconds per
    /// statement. A short statement, prepared once and run many times, binds in microseconds.</summary>
    private const int SqliteParametersPerStatement = 128;

    /// <summary>Rows per statement beyond which a longer statement no longer saves time, and its SQL text
    /// (parsed once and reused for every full chunk) only grows.</summary>
    private const int MaxRowsPerStatement = 1_000;

    /// <summary>
    /// Inserts <paramref name="rows"/> and returns how many were written. With <paramref name="skipConflictsOn"/>
    /// (the columns of a unique index), a row that would break that index is left out instead of failing the
    /// statement (<c>ON CONFLICT (...) DO NOTHING</c>, on both providers); any other violation still throws.
    /// Call inside a transaction for all-or-nothing.
    /// </summary>
    public static async Task<int> InsertAsync<T>(AnnexDbContext db, IReadOnlyList<T> rows, CancellationToken ct, params string[] skipConflictsOn)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            return 0;
        }

        var entity = db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not an entity.");
        var table = StoreObjectIdentifier.Table(entity.GetTableName()!, entity.GetSchema());
        var sql = db.GetService<ISqlGenerationHelper>();
        var columns = entity.GetProperties()
            .Where(p => p.ValueGenerated != ValueGenerated.OnAdd)
            .Select(p => new Column(sql.DelimitIdentifier(p.GetColumnName(table)!), p.GetRelationalTypeMapping(), p.GetGetter(), p.IsNullable))
            .ToArray();
        var maxParameters = db.Database.IsNpgsql() ? PostgresMaxParameters : SqliteMaxParameters;
        var rowsPerStatement = db.Database.IsNpgsql()
            ? Math.Min(MaxRowsPerStatement, maxParameters / columns.Length)
            : Math.Max(1, SqliteParametersPerStatement / columns.Length);
        var conflict = skipConflictsOn.Length == 0
            ? string.Empty
            : $" ON CONFLICT ({string.Join(", ", skipConflictsOn.Select(name => sql.DelimitIdentifier(entity.FindProperty(name)!.GetColumnName(table)!)))}) DO NOTHING";
        var insert = $"INSERT INTO {sql.DelimitIdentifier(table.Name, table.Schema)} ({string.Join(", ", columns.Select(c => c.Name))}) VALUES ";

        var connection = db.Database.GetDbConnection();
        var transaction = db.Database.CurrentTransaction?.GetDbTransaction();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            var written = 0;
            DbCommand? command = null;
            try
            {
                for (var start = 0; start < rows.Count; start += rowsPerStatement)
                {
                    var count = Math.Min(rowsPerStatement, rows.Count - start);
                    if (command is null || command.Parameters.Count != count * columns.Length)
                    {
                        // Full chunks share one command, so SQLite prepares its statement once.
                        if (command is not null)
                        {
                            await command.DisposeAsync();
                        }

                        command = CreateCommand(connection, transaction, insert, conflict, columns, count);
                    }

                    var parameter = 0;
                    for (var row = start; row < start + count; row++)
                    {
                        foreach (var column in columns)
                        {
                            var value = column.Getter.GetClrValueUsingContainingEntity(rows[row]);
                            var target = command.Parameters[parameter++];
                            target.Value = column.Mapping.Converter is { } converter && value is not null
                                ? converter.ConvertToProvider(value)
                                : value;
                            target.Value ??= DBNull.Value;
                        }
                    }

                    written += await command.ExecuteNonQueryAsync(ct);
                }
            }
            finally
            {
                if (command is not null)
                {
                    await command.DisposeAsync();
                }
            }

            return written;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static DbCommand CreateCommand(DbConnection connection, DbTransaction? transaction, string insert, string conflict, Column[] columns, int rowCount)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        var text = new System.Text.StringBuilder(insert, insert.Length + (rowCount * columns.Length * 8) + conflict.Length);
        var index = 0;
        for (var row = 0; row < rowCount; row++)
        {
            text.Append(row == 0 ? "(" : ", (");
            for (var c = 0; c < columns.Length; c++)
            {
                var name = string.Create(System.Globalization.CultureInfo.InvariantCulture, $"@p{index++}");
                text.Append(c == 0 ? name : ", " + name);

                // The mapping sets the provider type (e.g. PostgreSQL's timestamptz, SQLite's text for a Guid);
                // the value is set per chunk.
                command.Parameters.Add(columns[c].Mapping.CreateParameter(command, name, null, columns[c].Nullable));
            }

            text.Append(')');
        }

        text.Append(conflict);
        command.CommandText = text.ToString();
        return command;
    }

    private sealed record Column(string Name, RelationalTypeMapping Mapping, IClrPropertyGetter Getter, bool Nullable);
}
