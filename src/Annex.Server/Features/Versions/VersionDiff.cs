using System.Globalization;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Versions;

/// <summary>A row of a diff as the query returns it: bit 1 set when the item exists at the earlier epoch, bit 2
/// when at the later one.</summary>
public sealed class DiffRow
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public int State { get; set; }
}

public sealed class DiffCount
{
    public int State { get; set; }
    public long Count { get; set; }
}

/// <summary>
/// The items of a dataset that differ between two change epochs. Every difference is made by a write between the
/// two, so only rows written in that range (live rows newer than the earlier epoch, history rows that ended in it)
/// are looked at, each then checked for existence at both ends through primary keys: the cost follows the number
/// of changes, not the size of the dataset.
/// </summary>
public sealed class VersionDiff(long datasetId, long low, long high)
{
    private static string N(long value) => value.ToString(CultureInfo.InvariantCulture);

    /// <summary>The ids of the items touched between the two epochs: the item itself, or one of its results.</summary>
    private string Candidates()
    {
        var d = N(datasetId);
        var l = N(low);
        var h = N(high);
        return string.Concat(
            "SELECT \"Id\" FROM dataset_items WHERE \"DatasetId\" = ", d, " AND \"ChangeSeq\" > ", l, " AND \"ChangeSeq\" <= ", h,
            " UNION SELECT \"Id\" FROM dataset_item_history WHERE \"DatasetId\" = ", d, " AND \"ChangeSeq\" > ", l, " AND \"ChangeSeq\" <= ", h, " AND \"ValidTo\" > ", h,
            " UNION SELECT \"Id\" FROM dataset_item_history WHERE \"DatasetId\" = ", d, " AND \"ChangeSeq\" <= ", l, " AND \"ValidTo\" > ", l, " AND \"ValidTo\" <= ", h,
            " UNION SELECT \"DatasetItemId\" FROM results WHERE \"ChangeSeq\" > ", l, " AND \"ChangeSeq\" <= ", h,
            " AND \"DatasetItemId\" IN (SELECT \"Id\" FROM dataset_items WHERE \"DatasetId\" = ", d, ")",
            " UNION SELECT \"DatasetItemId\" FROM result_history WHERE \"DatasetId\" = ", d, " AND \"ChangeSeq\" > ", l, " AND \"ChangeSeq\" <= ", h, " AND \"ValidTo\" > ", h,
            " UNION SELECT \"DatasetItemId\" FROM result_history WHERE \"DatasetId\" = ", d, " AND \"ChangeSeq\" <= ", l, " AND \"ValidTo\" > ", l, " AND \"ValidTo\" <= ", h);
    }

    private static string ExistsAt(long seq) => string.Concat(
        "(EXISTS (SELECT 1 FROM dataset_items AS i WHERE i.\"Id\" = c.\"Id\" AND i.\"ChangeSeq\" <= ", N(seq),
        ") OR EXISTS (SELECT 1 FROM dataset_item_history AS h WHERE h.\"Id\" = c.\"Id\" AND h.\"ChangeSeq\" <= ", N(seq), " AND h.\"ValidTo\" > ", N(seq), "))");

    /// <summary>The differing items as rows (Id, Uid, State).</summary>
    public string RowsSql() => string.Concat(
        "SELECT * FROM (SELECT c.\"Id\" AS \"Id\", COALESCE((SELECT i.\"Uid\" FROM dataset_items AS i WHERE i.\"Id\" = c.\"Id\"), ",
        "(SELECT h.\"Uid\" FROM dataset_item_history AS h WHERE h.\"Id\" = c.\"Id\" ORDER BY h.\"ChangeSeq\" DESC LIMIT 1)) AS \"Uid\", ",
        "(CASE WHEN ", ExistsAt(low), " THEN 1 ELSE 0 END) + (CASE WHEN ", ExistsAt(high), " THEN 2 ELSE 0 END) AS \"State\" ",
        "FROM (", Candidates(), ") AS c) AS d WHERE d.\"State\" > 0");

    public async Task<Dictionary<int, long>> CountsAsync(AnnexDbContext db, CancellationToken cancellationToken) =>
        (await db.Database.SqlQueryRaw<DiffCount>(string.Concat("SELECT x.\"State\" AS \"State\", COUNT(*) AS \"Count\" FROM (", RowsSql(), ") AS x GROUP BY x.\"State\""))
            .ToListAsync(cancellationToken))
        .ToDictionary(c => c.State, c => c.Count);

    /// <summary>Up to <paramref name="take"/> rows after (or, reversed, before) an item id, in id order of the walk.</summary>
    public async Task<List<DiffRow>> PageAsync(AnnexDbContext db, long? after, bool reverse, int take, CancellationToken cancellationToken)
    {
        var sql = string.Concat(
            "SELECT x.\"Id\", x.\"Uid\", x.\"State\" FROM (", RowsSql(), ") AS x",
            after is { } id ? string.Concat(" WHERE x.\"Id\" ", reverse ? "<" : ">", " ", N(id)) : string.Empty,
            " ORDER BY x.\"Id\"", reverse ? " DESC" : string.Empty, " LIMIT ", N(take));
        return await db.Database.SqlQueryRaw<DiffRow>(sql).ToListAsync(cancellationToken);
    }

    /// <summary>The uids (as <c>Value</c>) of the results of <paramref name="projectIds"/> that existed at the earlier
    /// epoch and do not at the later one.</summary>
    public string RemovedResultsSql(IReadOnlyList<long> projectIds)
    {
        var d = N(datasetId);
        var l = N(low);
        var h = N(high);
        var projects = projectIds.Count == 0 ? "NULL" : string.Join(", ", projectIds.Select(N));
        return string.Concat(
            "SELECT r.\"Uid\" AS \"Value\" FROM result_history AS r WHERE r.\"DatasetId\" = ", d, " AND r.\"ChangeSeq\" <= ", l,
            " AND r.\"ValidTo\" > ", l, " AND r.\"ValidTo\" <= ", h, " AND r.\"ProjectId\" IN (", projects, ")",
            " AND NOT EXISTS (SELECT 1 FROM results AS n WHERE n.\"Id\" = r.\"Id\" AND n.\"ChangeSeq\" <= ", h, ")",
            " AND NOT EXISTS (SELECT 1 FROM result_history AS n WHERE n.\"Id\" = r.\"Id\" AND n.\"ChangeSeq\" <= ", h, " AND n.\"ValidTo\" > ", h, ")",
            " ORDER BY r.\"Id\"");
    }

    public async Task<bool> AnyAsync(AnnexDbContext db, long id, bool before, CancellationToken cancellationToken) =>
        (await PageAsync(db, id, before, 1, cancellationToken)).Count > 0;
}
