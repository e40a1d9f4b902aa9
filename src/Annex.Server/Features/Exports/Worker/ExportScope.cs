using Annex.Server.Features.Datasets;
using Annex.Server.Features.Exports.Filtering;
using Annex.Server.Features.Exports.Formats;
using Annex.Server.Features.AnnotationResults;
using Annex.Server.Features.Versions;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Exports;

/// <summary>
/// What an export covers. Items: those of the named datasets plus those of the named slices; when
/// neither is named, every item that has a result in the named projects. Results (tasks): the results
/// of the named projects on those items; when no project is named, of every project of the
/// organization. A list left empty never narrows.
/// </summary>
/// <para>A filter keeps whole tasks; the items are then those of the tasks it kept.</para>
public sealed record ExportScope(long OrganizationId, IReadOnlyList<long> DatasetIds, IReadOnlyList<long> SliceIds, IReadOnlyList<long> ProjectIds, bool AllProjects, FilterNode? Filter)
{
    public static Task<ExportScope> ResolveAsync(AnnexDbContext db, Export export, CancellationToken cancellationToken) =>
        ResolveAsync(db, export.OrganizationId, UidList.Parse(export.Datasets), UidList.Parse(export.Slices), UidList.Parse(export.Projects), export.FilterQueryString, cancellationToken, UidList.Parse(export.Versions), export.SinceVersion);

    /// <summary>The scope of an export with these sources and filter, whether or not it was created (a preview
    /// resolves the body it was sent).</summary>
    public static async Task<ExportScope> ResolveAsync(
        AnnexDbContext db, long organizationId, IReadOnlyCollection<Guid> datasetUids, IReadOnlyCollection<Guid> sliceUids, IReadOnlyCollection<Guid> projectUids, string? filterText, CancellationToken cancellationToken,
        IReadOnlyCollection<Guid>? versionUids = null, Guid? sinceVersion = null)
    {
        versionUids ??= [];
        var versions = await db.DatasetVersions.AsNoTracking().Where(v => versionUids.Contains(v.Uid) && v.OrganizationId == organizationId).OrderBy(v => v.DatasetId).ToListAsync(cancellationToken);
        if (versions.Count != versionUids.Count)
        {
            throw new ExportFailedException("A version named by this export no longer exists.");
        }

        if (projectUids.Count == 0 && versions.Count > 0 && versions.All(v => UidList.Parse(v.Projects).Count > 0))
        {
            // The versions name the projects they freeze; an export that names none takes theirs.
            projectUids = [.. versions.SelectMany(v => UidList.Parse(v.Projects)).Distinct()];
        }

        var datasets = await db.Datasets.Where(d => datasetUids.Contains(d.Uid) && d.OrganizationId == organizationId).OrderBy(d => d.Id).Select(d => d.Id).ToListAsync(cancellationToken);
        var slices = await db.Slices.Where(s => sliceUids.Contains(s.Uid) && s.OrganizationId == organizationId).Select(s => s.Id).ToListAsync(cancellationToken);
        var projects = await db.Projects.Where(p => projectUids.Contains(p.Uid) && p.OrganizationId == organizationId).OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(cancellationToken);
        if (datasets.Count != datasetUids.Count || slices.Count != sliceUids.Count || projects.Count != projectUids.Count)
        {
            throw new ExportFailedException("A dataset, project or slice named by this export no longer exists.");
        }

        var cuts = new List<VersionCut>();
        if (versions.Count > 0)
        {
            datasets = [.. versions.Select(v => v.DatasetId)];
            foreach (var version in versions)
            {
                cuts.Add(new VersionCut(version.DatasetId, version.Seq, await VersionSql.HasHistoryAfterAsync(db, version.DatasetId, version.Seq, cancellationToken)));
            }
        }

        long? baseSeq = null;
        long targetSeq = versions.Count == 1 ? versions[0].Seq : long.MaxValue;
        if (sinceVersion is { } sinceUid)
        {
            baseSeq = await db.DatasetVersions.Where(v => v.Uid == sinceUid && v.OrganizationId == organizationId).Select(v => (long?)v.Seq).SingleOrDefaultAsync(cancellationToken)
                ?? throw new ExportFailedException("The version this delta export is based on no longer exists.");
        }

        var allProjects = projects.Count == 0;
        if (allProjects)
        {
            projects = await db.Projects.Where(p => p.OrganizationId == organizationId).OrderBy(p => p.Id).Select(p => p.Id).ToListAsync(cancellationToken);
        }

        FilterNode? filter = null;
        if (filterText is { } text && !FilterParser.TryParse(text, out filter, out var error))
        {
            throw new ExportFailedException($"The filter no longer parses: {error!.Message}");
        }

        return new ExportScope(organizationId, datasets, slices, projects, allProjects, filter)
        {
            VersionCuts = cuts,
            BaseSeq = baseSeq,
            TargetSeq = targetSeq,
            Postgres = db.Database.IsNpgsql(),
        };
    }

    /// <summary>The versions exported: each one's dataset, epoch and whether rows of it changed since.</summary>
    public IReadOnlyList<VersionCut> VersionCuts { get; init; } = [];

    /// <summary>The items of the versions exported (a SELECT of every item column), or null for live data.</summary>
    public string? VersionItemsSql => VersionCuts.Count == 0
        ? null
        : ForDatabase(string.Join(" UNION ALL ", VersionCuts.Select(c => VersionSql.Items(c.DatasetId, c.Seq, c.History))));

    /// <summary>The results of the versions exported, or null for live data.</summary>
    public string? VersionResultsSql => VersionCuts.Count == 0
        ? null
        : ForDatabase(string.Join(" UNION ALL ", VersionCuts.Select(c => VersionSql.Results(c.DatasetId, c.Seq, c.History, restrict: VersionCuts.Count > 1))));

    /// <summary>Whether the export reads PostgreSQL (set when the scope is resolved).</summary>
    public bool Postgres { get; init; }

    /// <summary>The version SQL for this database. The unary plus on the live parts' epoch and on the project keeps SQLite
    /// off their indexes; PostgreSQL gives such an expression a fixed guess instead of the column's statistics (1 in 200
    /// rows for an equality), so it expected a batch's rows to be rare and sorted every remaining result for each early
    /// batch (a parallel sequential scan, 240 ms a batch at 100,000 results, against 7 ms through the keys). PostgreSQL
    /// reads those two bare. The history part keeps its plus on both databases: without it PostgreSQL scanned the
    /// dataset's history for every task as the filter was evaluated, instead of looking the task up by its key.</summary>
    private string ForDatabase(string sql) => Postgres
        ? sql.Replace("+x.\"ChangeSeq\"", "x.\"ChangeSeq\"", StringComparison.Ordinal).Replace("+x.\"ProjectId\"", "x.\"ProjectId\"", StringComparison.Ordinal)
        : sql;

    /// <summary>Whether the rows are read part by part (<see cref="VersionItemParts"/>, <see cref="VersionResultParts"/>):
    /// for versions whose rows changed since, where the union of live and history rows would be sorted whole for every
    /// batch. Slices named next to versions change nothing here: the scope's datasets are then the versions' own, which
    /// already hold every item of the versions, so a slice can add none (and the parts read the same rows).</summary>
    public bool ReadsVersionParts => VersionCuts.Any(c => c.History);

    /// <summary>The parts of the dataset's items in scope (<see cref="VersionSql.ItemParts"/>), narrowed to a delta's
    /// items and to the filter's tasks; each <c>SELECT … FROM table AS x WHERE …</c>.</summary>
    public IReadOnlyList<string> VersionItemParts(AnnexDbContext db, long datasetId)
    {
        var narrowing = ItemNarrowing(db, "x.\"Id\"");
        if (KeptTasksTable is not null)
        {
            narrowing = string.Concat(narrowing, " AND ", KeptCheck(db, "x", "DatasetItemId"));
        }

        return [.. VersionCuts.Where(c => c.DatasetId == datasetId).SelectMany(c => VersionSql.ItemParts(c.DatasetId, c.Seq, c.History)).Select(sql => string.Concat(ForDatabase(sql), narrowing))];
    }

    /// <summary>The parts of the dataset's results in scope (<see cref="VersionSql.ResultParts"/>): of the scope's
    /// projects, narrowed like the items.</summary>
    public IReadOnlyList<(string Sql, bool History)> VersionResultParts(AnnexDbContext db, long datasetId)
    {
        var narrowing = string.Concat(
            ProjectIds.Count == 0 ? " AND 1 = 0" : ForDatabase(string.Concat(" AND +x.\"ProjectId\" IN (", string.Join(",", ProjectIds.Select(id => id.ToString(System.Globalization.CultureInfo.InvariantCulture))), ")")),
            ItemNarrowing(db, "x.\"DatasetItemId\""));
        if (KeptTasksTable is not null)
        {
            narrowing = string.Concat(narrowing, " AND ", KeptCheck(db, "x", "Id"));
        }

        return [.. VersionCuts.Where(c => c.DatasetId == datasetId).SelectMany(c => VersionSql.ResultParts(c.DatasetId, c.Seq, c.History)).Select(p => (string.Concat(ForDatabase(p.Sql), narrowing), p.History))];
    }

    /// <summary>Whether the row aliased <paramref name="alias"/> is one the filter kept: its id among the kept table's
    /// <paramref name="keptColumn"/> (<c>Id</c> for a task, <c>DatasetItemId</c> for an item). The unary plus keeps it a
    /// membership check: were the kept list to drive the query, every batch would walk it from its start.</summary>
    private string KeptCheck(AnnexDbContext db, string alias, string keptColumn) =>
        string.Concat("+", alias, ".\"Id\" IN (SELECT \"", keptColumn, "\" FROM ", TempTable(db, KeptTasksTable!), ")");

    private string ItemNarrowing(AnnexDbContext db, string itemId) =>
        DeltaTable is null ? string.Empty : string.Concat(" AND ", itemId, " IN (SELECT \"Id\" FROM ", TempTable(db, DeltaTable), ")");

    /// <summary>The change epoch of a delta export's base; null for a full export.</summary>
    public long? BaseSeq { get; init; }

    /// <summary>The change epoch exported: the version's, or <see cref="long.MaxValue"/> for live data.</summary>
    public long TargetSeq { get; init; } = long.MaxValue;

    /// <summary>A temporary table holding the ids of a delta's items (added or changed since the base).</summary>
    public string? DeltaTable { get; init; }

    /// <summary>The items read, as SQL: a version's, narrowed to a delta's; null for the live table as it is.</summary>
    private string? ItemSourceSql(AnnexDbContext db)
    {
        if (DeltaTable is null)
        {
            return VersionItemsSql;
        }

        return string.Concat(
            "SELECT * FROM ", VersionItemsSql is null ? "dataset_items" : string.Concat("(", VersionItemsSql, ")"), " AS x WHERE x.\"Id\" IN (SELECT \"Id\" FROM ",
            TempTable(db, DeltaTable), ")");
    }

    /// <summary>The item rows as a table expression for hand-written SQL.</summary>
    private string ItemsTable(AnnexDbContext db) => ItemSourceSql(db) is { } sql ? string.Concat("(", sql, ")") : "dataset_items";

    private string ResultsTable => VersionResultsSql is null ? "results" : string.Concat("(", VersionResultsSql, ")");

    /// <summary>Every item the export reads from, before datasets, slices and the filter narrow them.</summary>
    public IQueryable<DatasetItem> ItemRows(AnnexDbContext db) =>
        ItemSourceSql(db) is { } sql ? db.DatasetItems.FromSqlRaw(sql).AsNoTracking() : db.DatasetItems.AsNoTracking();

    private IQueryable<Result> ResultRows(AnnexDbContext db) =>
        VersionResultsSql is { } sql ? db.Results.FromSqlRaw(sql).AsNoTracking() : db.Results.AsNoTracking();

    /// <summary>For a delta: fills <paramref name="table"/> with the ids of the items added or changed (the item or one
    /// of its results) since the base, and returns what the base had and the export no longer has.</summary>
    public async Task<(ExportScope Scope, Annex.Formats.RemovedRecord? Removed)> MaterializeDeltaAsync(AnnexDbContext db, string table, CancellationToken cancellationToken)
    {
        if (BaseSeq is not { } baseSeq)
        {
            return (this, null);
        }

        var postgres = db.Database.IsNpgsql();
        var datasetId = DatasetIds.Single();
        var diff = new VersionDiff(datasetId, baseSeq, TargetSeq);
        var temp = TempTable(db, table);
        await db.Database.ExecuteSqlRawAsync(
            string.Concat("DROP TABLE IF EXISTS ", temp, "; CREATE TEMP TABLE \"", table, "\" (\"Id\" ", postgres ? "BIGINT" : "INTEGER", " PRIMARY KEY)"), cancellationToken);
        await db.Database.ExecuteSqlRawAsync(string.Concat("INSERT INTO ", temp, " (\"Id\") SELECT x.\"Id\" FROM (", diff.RowsSql(), ") AS x WHERE x.\"State\" >= 2"), cancellationToken);
        if (postgres)
        {
            await db.Database.ExecuteSqlRawAsync(string.Concat("ANALYZE ", temp), cancellationToken);
        }

        var removedItems = await db.Database.SqlQueryRaw<Guid>(string.Concat("SELECT x.\"Uid\" AS \"Value\" FROM (", diff.RowsSql(), ") AS x WHERE x.\"State\" = 1 ORDER BY x.\"Id\""))
            .ToListAsync(cancellationToken);
        var removedResults = await db.Database.SqlQueryRaw<Guid>(diff.RemovedResultsSql(ProjectIds)).ToListAsync(cancellationToken);
        return (this with { DeltaTable = table }, new Annex.Formats.RemovedRecord(removedItems, removedResults));
    }

    private bool ItemsNamed => DatasetIds.Count > 0 || SliceIds.Count > 0;

    /// <summary>A temporary table (on the export's own connection) holding the ids of the tasks the
    /// filter kept, so the filter is evaluated once per export rather than once per query.</summary>
    public string? KeptTasksTable { get; init; }

    /// <summary>Fills <paramref name="table"/> with the ids of the tasks in scope that pass the filter; returns
    /// the scope reading from it. The filter is evaluated on the export's own tasks alone, so its cost follows
    /// the export, not the size of the organization: first the tasks in scope are found through indexes
    /// (projects, datasets, slices; no filter yet), then the filter runs once on each of them.</summary>
    public async Task<ExportScope> MaterializeFilterAsync(AnnexDbContext db, string table, CancellationToken cancellationToken)
    {
        if (Filter is null)
        {
            return this;
        }

        // Table names are built by the caller from numbers only; user values stay parameters.
        var postgres = db.Database.IsNpgsql();
        var scopeTable = table + "_scope";
        var kept = TempTable(db, table);
        var scoped = TempTable(db, scopeTable);
        foreach (var name in new[] { table, scopeTable })
        {
            await db.Database.ExecuteSqlRawAsync(
                // On SQLite, INTEGER PRIMARY KEY makes the id the row's own key (no separate index to fill).
                string.Concat("DROP TABLE IF EXISTS ", TempTable(db, name), "; CREATE TEMP TABLE \"", name, "\" (\"Id\" ", postgres ? "BIGINT" : "INTEGER", " PRIMARY KEY, \"DatasetItemId\" BIGINT NOT NULL)"),
                cancellationToken);
        }

        await db.Database.ExecuteSqlRawAsync(string.Concat("INSERT INTO ", scoped, " (\"Id\", \"DatasetItemId\") ", ScopedTasksSql(db, postgres)), ScopedTasksParameters(postgres), cancellationToken);

        var (condition, parameters) = FilterSql.For(Filter, postgres, liveResults: VersionResultsSql is null);
        // Each task in scope is joined to its result and item by primary key and the filter is evaluated on that
        // row: SQLite keeps the order of a CROSS JOIN, and on PostgreSQL the LATERAL subquery (OFFSET 0 keeps it
        // from being merged into the outer query) runs once per task, so no plan can evaluate the filter on a
        // scan of the whole results table.
        var filterSql = postgres
            ? string.Concat(
                "INSERT INTO ", kept, " (\"Id\", \"DatasetItemId\") SELECT s.\"Id\", s.\"DatasetItemId\" FROM ", scoped, " AS s CROSS JOIN LATERAL (",
                "SELECT 1 FROM ", ResultsTable, " AS r INNER JOIN ", ItemsTable(db), " AS i ON i.\"Id\" = r.\"DatasetItemId\" WHERE r.\"Id\" = s.\"Id\" AND i.\"Id\" = s.\"DatasetItemId\" AND ",
                condition,
                " OFFSET 0) AS f")
            : string.Concat(
                "INSERT INTO ", kept, " (\"Id\", \"DatasetItemId\") SELECT s.\"Id\", s.\"DatasetItemId\" FROM ", scoped,
                " AS s CROSS JOIN ", ResultsTable, " AS r CROSS JOIN ", ItemsTable(db), " AS i WHERE r.\"Id\" = s.\"Id\" AND i.\"Id\" = s.\"DatasetItemId\" AND ",
                condition);
        await db.Database.ExecuteSqlRawAsync(filterSql, parameters, cancellationToken);
        await db.Database.ExecuteSqlRawAsync(string.Concat("DROP TABLE ", scoped), cancellationToken);
        // Item batches keep the items "IN (SELECT DatasetItemId FROM kept)": without an index on that column the
        // database builds the whole list again for every batch, which is quadratic in the tasks kept.
        await db.Database.ExecuteSqlRawAsync(
            postgres
                ? string.Concat("CREATE INDEX \"", table, "_item\" ON ", kept, " (\"DatasetItemId\")")
                : string.Concat("CREATE INDEX temp.\"", table, "_item\" ON \"", table, "\" (\"DatasetItemId\")"),
            cancellationToken);
        if (postgres)
        {
            // PostgreSQL never analyzes temporary tables by itself; without statistics it guesses their size.
            await db.Database.ExecuteSqlRawAsync(string.Concat("ANALYZE ", kept), cancellationToken);
        }

        return this with { KeptTasksTable = table };
    }

    /// <summary>The ids of the tasks in scope and of their items, the same set <see cref="Results"/> reads without a
    /// filter: results of the scope's projects ({0}) on items of the named datasets ({1}) or slices ({2}), or on
    /// any item when neither is named.</summary>
    private string ScopedTasksSql(AnnexDbContext db, bool postgres)
    {
        string InList(int parameter) => postgres
            ? string.Concat(" = ANY({", parameter.ToString(System.Globalization.CultureInfo.InvariantCulture), "})")
            : string.Concat(" IN (SELECT value FROM json_each({", parameter.ToString(System.Globalization.CultureInfo.InvariantCulture), "}))");
        var sql = string.Concat("SELECT r.\"Id\", r.\"DatasetItemId\" FROM ", ResultsTable, " AS r WHERE r.\"ProjectId\"", InList(0));
        if (!ItemsNamed)
        {
            return sql;
        }

        return string.Concat(
            sql,
            " AND r.\"DatasetItemId\" IN (SELECT i.\"Id\" FROM ", ItemsTable(db), " AS i WHERE i.\"DatasetId\"", InList(1),
            " UNION ALL SELECT si.\"DatasetItemId\" FROM slice_items AS si WHERE si.\"SliceId\"", InList(2), ")");
    }

    private object[] ScopedTasksParameters(bool postgres)
    {
        object Ids(IReadOnlyList<long> ids) => postgres ? ids.ToArray() : System.Text.Json.JsonSerializer.Serialize(ids);
        return ItemsNamed ? [Ids(ProjectIds), Ids(DatasetIds), Ids(SliceIds)] : [Ids(ProjectIds)];
    }

    /// <summary>The connection's temporary schema is <c>temp</c> on SQLite and <c>pg_temp</c> on PostgreSQL.</summary>
    private static string TempTable(AnnexDbContext db, string table) => string.Concat(db.Database.IsNpgsql() ? "pg_temp.\"" : "temp.\"", table, "\"");

    /// <summary>The items in scope: with a filter, only those of the tasks it kept.</summary>
    public IQueryable<DatasetItem> Items(AnnexDbContext db)
    {
        if (KeptTasksTable is not null)
        {
            // The items of the kept tasks, checked through the kept table's item index while the items' own order drives.
            return NamedItems(db, db.DatasetItems.FromSqlRaw(string.Concat("SELECT * FROM ", ItemsTable(db), " AS k WHERE ", KeptCheck(db, "k", "DatasetItemId"))));
        }

        var items = NamedItems(db);
        if (Filter is null)
        {
            return items;
        }

        // An uncorrelated IN: the database builds the set of kept items once, rather than looking for a
        // kept task item by item.
        var keptItemIds = Results(db).Select(r => r.DatasetItemId);
        return items.Where(i => keptItemIds.Contains(i.Id));
    }

    /// <summary>The items the export names through datasets and slices (or through projects when it names neither).</summary>
    private IQueryable<DatasetItem> NamedItems(AnnexDbContext db, IQueryable<DatasetItem>? source = null)
    {
        var datasetIds = DatasetIds;
        var sliceIds = SliceIds;
        var projectIds = ProjectIds;
        var items = (source ?? ItemRows(db)).AsNoTracking();
        if (!ItemsNamed)
        {
            return items.Where(i => db.Results.Any(r => r.DatasetItemId == i.Id && projectIds.Contains(r.ProjectId)));
        }

        if (sliceIds.Count == 0)
        {
            return items.Where(i => datasetIds.Contains(i.DatasetId));
        }

        return items.Where(i => datasetIds.Contains(i.DatasetId) || db.SliceItems.Any(si => si.DatasetItemId == i.Id && sliceIds.Contains(si.SliceId)));
    }

    /// <summary>The datasets that hold items in scope, oldest first.</summary>
    public IQueryable<Dataset> Datasets(AnnexDbContext db)
    {
        var organizationId = OrganizationId;
        var datasetIds = DatasetIds;
        var items = Items(db);
        return db.Datasets.AsNoTracking()
            .Where(d => d.OrganizationId == organizationId && (datasetIds.Contains(d.Id) || items.Any(i => i.DatasetId == d.Id)))
            .OrderBy(d => d.Id);
    }

    /// <summary>The results (tasks) in scope, narrowed by the filter in the database. <paramref name="byKeptOrder"/>:
    /// for reading them in id order a batch at a time, which the kept tasks' table then drives.</summary>
    public IQueryable<Result> Results(AnnexDbContext db, bool byKeptOrder = false)
    {
        var projectIds = ProjectIds;
        var results = ResultRows(db);
        if (KeptTasksTable is not null)
        {
            results = byKeptOrder
                // Driven by the kept table, whose id is the one such batches page on: each batch is a range of its key
                // and a lookup of each result by id. A membership test on the results let the database walk the whole
                // kept list for every batch, or sort each project's remaining results.
                ? db.Results.FromSqlRaw(string.Concat("SELECT t.\"Id\" AS \"Id\", ", KeptResultColumns, " FROM ", TempTable(db, KeptTasksTable), " AS t CROSS JOIN ", ResultsTable, " AS k WHERE k.\"Id\" = t.\"Id\"")).AsNoTracking()
                // A membership test, so that other conditions (a batch's item range) drive.
                : db.Results.FromSqlRaw(string.Concat("SELECT * FROM ", ResultsTable, " AS k WHERE ", KeptCheck(db, "k", "Id"))).AsNoTracking();
        }
        else if (Filter is not null)
        {
            var (condition, parameters) = FilterSql.For(Filter, db.Database.IsNpgsql(), liveResults: VersionResultsSql is null);
            // Only fixed SQL fragments are concatenated here; every user value is one of the parameters.
            results = db.Results.FromSqlRaw(string.Concat("SELECT r.* FROM ", ResultsTable, " AS r INNER JOIN ", ItemsTable(db), " AS i ON i.\"Id\" = r.\"DatasetItemId\" WHERE ", condition), parameters).AsNoTracking();
        }

        results = results.Where(r => projectIds.Contains(r.ProjectId));
        if (!ItemsNamed)
        {
            return results;
        }

        var items = NamedItems(db);
        return results.Where(r => items.Any(i => i.Id == r.DatasetItemId));
    }

    /// <summary>Every result column but the id, of the results table aliased <c>k</c>.</summary>
    private static readonly string KeptResultColumns = string.Join(", ", VersionSql.ResultColumns.Split(", ").Skip(1).Select(c => "k." + c));

    /// <summary>The projects listed in the export: those named, or, when none is named, those with a result in scope.</summary>
    public async Task<List<Features.Projects.Project>> ProjectsAsync(AnnexDbContext db, CancellationToken cancellationToken)
    {
        var projectIds = ProjectIds;
        var projects = db.Projects.AsNoTracking().Where(p => projectIds.Contains(p.Id));
        if (AllProjects)
        {
            var results = Results(db);
            projects = projects.Where(p => results.Any(r => r.ProjectId == p.Id));
        }

        return await projects.OrderBy(p => p.Id).ToListAsync(cancellationToken);
    }
}

/// <summary>A version as an export reads it: its dataset, its change epoch, and whether rows of it changed since.</summary>
public sealed record VersionCut(long DatasetId, long Seq, bool History);
