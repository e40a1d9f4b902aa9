using System.Globalization;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Versions;

/// <summary>
/// Reads a dataset as it was at a version's change epoch. A row belongs to the version when it is live and was last
/// written at or before the epoch, or when it is a history row whose validity range holds the epoch; at most one of
/// a row's states qualifies, so the two parts never overlap and need no anti-join.
/// </summary>
/// <remarks>Only numbers (ids and epochs) are put into the SQL text; no caller value ever is.</remarks>
public static class VersionSql
{
    /// <summary>The exclusive side of the lock every write takes shared while it stamps rows (PostgreSQL).</summary>
    public const int EpochLockKey = 0x414E5856;

    public const string ItemColumns =
        "\"Id\", \"Uid\", \"DatasetId\", \"RefId\", \"Metadata\", \"Width\", \"Height\", \"MediaUrl\", \"MediaKey\", \"MediaContentType\", \"MediaLength\", \"CreatedAt\", \"UpdatedAt\", \"ChangeSeq\"";

    public const string ResultColumns =
        "\"Id\", \"Uid\", \"DatasetItemId\", \"ProjectId\", \"Annotations\", \"AnnotationCount\", \"CreatedAt\", \"UpdatedAt\", \"ChangeSeq\"";

    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The items of <paramref name="datasetId"/> at <paramref name="seq"/>: its parts
    /// (<see cref="ItemParts"/>) as one table. Without history after the epoch (<paramref name="history"/> false) the
    /// version is the live rows that old, read like the live dataset.</summary>
    public static string Items(long datasetId, long seq, bool history) => string.Join(" UNION ALL ", ItemParts(datasetId, seq, history));

    /// <summary>The results on items of <paramref name="datasetId"/> at <paramref name="seq"/>: its parts
    /// (<see cref="ResultParts"/>) as one table. With <paramref name="restrict"/> false the live part is not narrowed
    /// to the dataset (the caller joins it to the version's items anyway, which is cheaper than a second semi-join).</summary>
    public static string Results(long datasetId, long seq, bool history, bool restrict) =>
        string.Join(" UNION ALL ", ResultParts(datasetId, seq, history, restrict).Select(p => p.Sql));

    /// <summary>The parts of a version's items, each read on its own in id order by its own index (a union of the two
    /// would be sorted whole for every batch): the live rows no newer than the epoch, and, when rows changed since
    /// (<paramref name="history"/>), the history rows valid at it. Each is <c>SELECT … FROM table AS x WHERE …</c>, so
    /// a caller adds conditions on <c>x</c>. The unary plus keeps SQLite off the epoch and validity indexes, whose
    /// ranges cover most of the dataset (or of its history), and on the keys: the id order of a batch, and a lookup by
    /// id when a part is joined to a task (as the filter is evaluated) rather than a range scan for each task.</summary>
    public static IReadOnlyList<string> ItemParts(long datasetId, long seq, bool history)
    {
        var live = string.Concat("SELECT ", ItemColumns, " FROM dataset_items AS x WHERE x.\"DatasetId\" = ", N(datasetId), " AND +x.\"ChangeSeq\" <= ", N(seq));
        return history
            ? [live, string.Concat("SELECT ", ItemColumns, " FROM dataset_item_history AS x WHERE +x.\"DatasetId\" = ", N(datasetId), " AND x.\"ChangeSeq\" <= ", N(seq), " AND +x.\"ValidTo\" > ", N(seq))]
            : [live];
    }

    /// <summary>The parts of a version's results, like <see cref="ItemParts"/>: live results no newer than the epoch
    /// on the dataset's items (an item never changes dataset, so its live row tells), and the history rows valid at
    /// the epoch. The second element says which part is the history (its items may be gone from the live table).</summary>
    public static IReadOnlyList<(string Sql, bool History)> ResultParts(long datasetId, long seq, bool history, bool restrict = true)
    {
        var live = string.Concat("SELECT ", ResultColumns, " FROM results AS x WHERE +x.\"ChangeSeq\" <= ", N(seq));
        if (restrict)
        {
            live = string.Concat(live, " AND EXISTS (SELECT 1 FROM dataset_items AS d WHERE d.\"Id\" = x.\"DatasetItemId\" AND d.\"DatasetId\" = ", N(datasetId), ")");
        }

        return history
            ? [(live, false), (string.Concat("SELECT ", ResultColumns, " FROM result_history AS x WHERE +x.\"DatasetId\" = ", N(datasetId), " AND x.\"ChangeSeq\" <= ", N(seq), " AND +x.\"ValidTo\" > ", N(seq)), true)]
            : [(live, false)];
    }

    /// <summary>The uids of items by id, live or only in the history (an item's uid never changes).</summary>
    public static async Task<Dictionary<long, Guid>> ItemUidsAsync(AnnexDbContext db, IReadOnlyCollection<long> ids, CancellationToken cancellationToken)
    {
        if (ids.Count == 0)
        {
            return [];
        }

        var list = string.Join(",", ids.Select(N));
        var rows = await db.Database.SqlQueryRaw<ItemUid>(string.Concat(
                "SELECT \"Id\", \"Uid\" FROM dataset_items WHERE \"Id\" IN (", list, ") UNION SELECT \"Id\", \"Uid\" FROM dataset_item_history WHERE \"Id\" IN (", list, ")"))
            .ToListAsync(cancellationToken);
        var uids = new Dictionary<long, Guid>(rows.Count);
        foreach (var row in rows)
        {
            uids[row.Id] = row.Uid;
        }

        return uids;
    }

    public sealed record ItemUid(long Id, Guid Uid);

    /// <summary>Whether any row of the dataset visible at <paramref name="seq"/> was changed or deleted since; when
    /// none was, the version reads as the live rows no newer than the epoch.</summary>
    public static async Task<bool> HasHistoryAfterAsync(AnnexDbContext db, long datasetId, long seq, CancellationToken cancellationToken)
    {
        var sql = string.Concat(
            "SELECT CASE WHEN EXISTS (SELECT 1 FROM dataset_item_history WHERE \"DatasetId\" = ", N(datasetId), " AND \"ValidTo\" > ", N(seq),
            ") OR EXISTS (SELECT 1 FROM result_history WHERE \"DatasetId\" = ", N(datasetId), " AND \"ValidTo\" > ", N(seq), ") THEN 1 ELSE 0 END AS \"Value\"");
        return (await db.Database.SqlQueryRaw<int>(sql).ToListAsync(cancellationToken)).Single() == 1;
    }

    /// <summary>Takes the next change epoch for a new version: every write committed so far is at or below the
    /// returned epoch and every later one above it. Call inside a transaction; on PostgreSQL the exclusive epoch
    /// lock waits for writes in flight (they hold it shared from their first stamped row to their commit), on
    /// SQLite the update itself takes the single write lock.</summary>
    public static async Task<long> TakeEpochAsync(AnnexDbContext db, CancellationToken cancellationToken)
    {
        await LockEpochAsync(db, cancellationToken);
        var rows = await db.Database.SqlQueryRaw<long>("UPDATE change_epoch SET \"Value\" = \"Value\" + 1 WHERE \"Id\" = 1 RETURNING \"Value\" - 1 AS \"Value\"")
            .ToListAsync(cancellationToken);
        return rows.Single();
    }

    public static async Task LockEpochAsync(AnnexDbContext db, CancellationToken cancellationToken)
    {
        if (db.Database.IsNpgsql())
        {
            await db.Database.ExecuteSqlRawAsync(string.Concat("SELECT pg_advisory_xact_lock(", N(EpochLockKey), ", 1)"), cancellationToken);
        }
    }

    /// <summary>Deletes the history rows no remaining version of the dataset can see.</summary>
    public static async Task PruneHistoryAsync(AnnexDbContext db, long datasetId, CancellationToken cancellationToken)
    {
        foreach (var table in new[] { "dataset_item_history", "result_history" })
        {
            await db.Database.ExecuteSqlRawAsync(
                string.Concat(
                    "DELETE FROM ", table, " WHERE \"DatasetId\" = ", N(datasetId),
                    " AND NOT EXISTS (SELECT 1 FROM dataset_versions AS v WHERE v.\"DatasetId\" = ", N(datasetId),
                    " AND v.\"Seq\" >= ", table, ".\"ChangeSeq\" AND v.\"Seq\" < ", table, ".\"ValidTo\")"),
                cancellationToken);
        }
    }

    /// <summary>Deletes every version of a dataset and its history, before the dataset's rows go (so the triggers
    /// keep nothing for them).</summary>
    public static async Task DeleteAllAsync(AnnexDbContext db, long datasetId, CancellationToken cancellationToken)
    {
        await db.DatasetVersions.Where(v => v.DatasetId == datasetId).ExecuteDeleteAsync(cancellationToken);
        await db.Database.ExecuteSqlRawAsync(string.Concat("DELETE FROM dataset_item_history WHERE \"DatasetId\" = ", N(datasetId)), cancellationToken);
        await db.Database.ExecuteSqlRawAsync(string.Concat("DELETE FROM result_history WHERE \"DatasetId\" = ", N(datasetId)), cancellationToken);
    }

    /// <summary>Whether a version's history still holds this media key (so its blob must stay).</summary>
    public static async Task<bool> MediaKeptAsync(AnnexDbContext db, string key, CancellationToken cancellationToken) =>
        (await db.Database.SqlQueryRaw<int>("SELECT CASE WHEN EXISTS (SELECT 1 FROM dataset_item_history WHERE \"MediaKey\" = {0}) THEN 1 ELSE 0 END AS \"Value\"", key)
            .ToListAsync(cancellationToken)).Single() == 1;
}
