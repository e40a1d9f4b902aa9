using System.Globalization;
using System.Text.Json;
using Annex.Server.Features.Exports.Filtering;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace Annex.Server.Features.Exports.Preview;

/// <summary>One named source of a previewed export and what it contributes: <c>type</c> is <c>dataset</c>,
/// <c>project</c> or <c>slice</c>. A dataset's or slice's counts are its items in the export and the tasks on them;
/// a project's are its tasks in the export and the items they are on (one task per item and project, so the two
/// are equal).</summary>
public sealed record ExportPreviewSource(string Type, Guid Uid, string Name, long ItemCount, long TaskCount);

/// <summary>What an export with this body would hold: items and tasks in all (sources may overlap, so these are
/// not the sums of the sources' counts) and per named source.</summary>
public sealed record ExportPreviewResponse(long TotalItemCount, long TotalTaskCount, IReadOnlyList<ExportPreviewSource> Sources);

/// <summary>
/// Counts what an export would hold, by the rules of <see cref="ExportScope"/>, without writing anything: the
/// counts run in one read snapshot, as the export reads its rows.
/// </summary>
/// <para>Without a filter every count is an aggregate over indexes: items through <c>(DatasetId, Id)</c> and the
/// slice membership key, tasks by joining those to <c>(DatasetItemId, ProjectId)</c> (or, with projects alone,
/// through <c>(ProjectId, Id)</c>), so no row is read. A filter is evaluated with the export's own SQL, once on each
/// task in scope: with one project and no slice inside the counting query itself; otherwise into a temporary table
/// that the counts then read (see docs/console-api.md).</para>
public static class ExportPreview
{
    public const string Dataset = "dataset";
    public const string Project = "project";
    public const string Slice = "slice";

    private const string KeptTable = "preview_kept_tasks";

    public static async Task<ExportPreviewResponse> CountAsync(AnnexDbContext db, long organizationId, CreateExportRequest request, Split parts, CancellationToken ct)
    {
        await using var snapshot = await ExportSource.BeginSnapshotAsync(db, ct);
        await using var transaction = snapshot.GetDbTransaction();
        try
        {
            var scope = await ExportScope.ResolveAsync(db, organizationId, request.Datasets, request.Slices, request.Projects, request.FilterQueryString, ct);
            // Named projects that are all the organization has narrow nothing, as when none is named.
            var everyProject = scope.AllProjects || scope.ProjectIds.Count == await db.Projects.CountAsync(p => p.OrganizationId == organizationId, ct);
            var counting = new Counting(db, scope, request.Projects.Count > 0, everyProject, parts);
            var tally = scope.Filter is null ? await counting.UnfilteredAsync(ct) : await counting.FilteredAsync(ct);
            return new ExportPreviewResponse(tally.Items, tally.Tasks, await SourcesAsync(db, organizationId, request, tally, ct));
        }
        finally
        {
            // Never committed: the snapshot ends with a rollback, which also drops the filter's temporary table.
            await snapshot.RollbackAsync(CancellationToken.None);
        }
    }

    /// <summary>The named sources in the body's order: datasets, projects, slices.</summary>
    private static async Task<List<ExportPreviewSource>> SourcesAsync(AnnexDbContext db, long organizationId, CreateExportRequest request, Tally tally, CancellationToken ct)
    {
        var datasets = await db.Datasets.AsNoTracking().Where(d => d.OrganizationId == organizationId && request.Datasets.Contains(d.Uid))
            .Select(d => new { d.Id, d.Uid, d.Name }).ToDictionaryAsync(d => d.Uid, ct);
        var projects = await db.Projects.AsNoTracking().Where(p => p.OrganizationId == organizationId && request.Projects.Contains(p.Uid))
            .Select(p => new { p.Id, p.Uid, p.Name }).ToDictionaryAsync(p => p.Uid, ct);
        var slices = await db.Slices.AsNoTracking().Where(s => s.OrganizationId == organizationId && request.Slices.Contains(s.Uid))
            .Select(s => new { s.Id, s.Uid, s.Name }).ToDictionaryAsync(s => s.Uid, ct);
        var sources = new List<ExportPreviewSource>();
        foreach (var uid in request.Datasets)
        {
            var d = datasets[uid];
            var (items, tasks) = tally.Datasets.GetValueOrDefault(d.Id);
            sources.Add(new ExportPreviewSource(Dataset, d.Uid, d.Name, items, tasks));
        }

        foreach (var uid in request.Projects)
        {
            var p = projects[uid];
            var (items, tasks) = tally.Projects.GetValueOrDefault(p.Id);
            sources.Add(new ExportPreviewSource(Project, p.Uid, p.Name, items, tasks));
        }

        foreach (var uid in request.Slices)
        {
            var s = slices[uid];
            var (items, tasks) = tally.Slices.GetValueOrDefault(s.Id);
            sources.Add(new ExportPreviewSource(Slice, s.Uid, s.Name, items, tasks));
        }

        return sources;
    }

    private sealed class Tally
    {
        public long Items { get; set; }

        public long Tasks { get; set; }

        public Dictionary<long, (long Items, long Tasks)> Datasets { get; } = [];

        public Dictionary<long, (long Items, long Tasks)> Slices { get; } = [];

        public Dictionary<long, (long Items, long Tasks)> Projects { get; } = [];
    }

    /// <summary>The smallest and largest id of a source; null when it has none.</summary>
    private sealed class Bounds
    {
        public long? First { get; set; }

        public long? Last { get; set; }
    }

    /// <summary>One row of a grouped count. <see cref="Project"/> is 0 when the query does not group by project.</summary>
    private sealed class GroupCount
    {
        public long Key { get; set; }

        public long Project { get; set; }

        public long Items { get; set; }

        public long Tasks { get; set; }
    }

    /// <summary>How a one-pass count is spread over cores: SQLite runs a query on one core, so a big source is cut into id
    /// ranges of at least <see cref="PartSize"/> ids, counted on up to <see cref="Connections"/> connections at once (the
    /// preview's own and more from <see cref="Contexts"/>). Each extra connection reads its own snapshot, taken as the
    /// count starts; a write that commits in those milliseconds may be counted in one range and not in another, which a
    /// preview (an estimate of an export made later) can afford. PostgreSQL counts in one query.</summary>
    public sealed record Split(IDbContextFactory<AnnexDbContext> Contexts, int Connections, int PartSize)
    {
        public static Split From(IDbContextFactory<AnnexDbContext> contexts, ExportsOptions options) => new(
            contexts,
            options.PreviewParallelism > 0 ? options.PreviewParallelism : Math.Min(Environment.ProcessorCount, 4),
            Math.Max(1, options.PreviewPartSize));
    }

    /// <summary>A range of ids of one source: the items of a dataset, or the tasks of a project.</summary>
    private readonly record struct IdRange(long Source, long First, long Last);

    private sealed class Counting(AnnexDbContext db, ExportScope scope, bool projectsNamed, bool everyProject, Split split)
    {
        private readonly bool _postgres = db.Database.IsNpgsql();

        private bool ItemsNamed => scope.DatasetIds.Count > 0 || scope.SliceIds.Count > 0;

        public async Task<Tally> UnfilteredAsync(CancellationToken ct)
        {
            var tally = new Tally();
            if (!ItemsNamed)
            {
                // Only projects: their tasks, through the (ProjectId, Id) index. A task is one item in one project, so a
                // project's items are as many as its tasks.
                var q = new Query(this);
                var perProject = await QueryAsync(
                    q,
                    "SELECT r.\"ProjectId\" AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(*) AS \"Items\", COUNT(*) AS \"Tasks\" FROM results AS r WHERE r.\"ProjectId\"" + q.In(scope.ProjectIds) + " GROUP BY r.\"ProjectId\"",
                    ct);
                foreach (var row in perProject)
                {
                    tally.Projects[row.Key] = (row.Tasks, row.Tasks);
                    tally.Tasks += row.Tasks;
                }

                if (scope.ProjectIds.Count == 1)
                {
                    tally.Items = tally.Tasks;
                }
                else
                {
                    q = new Query(this);
                    tally.Items = await ScalarAsync(q, "SELECT COUNT(*) AS \"Value\" FROM (SELECT DISTINCT r.\"DatasetItemId\" FROM results AS r WHERE r.\"ProjectId\"" + q.In(scope.ProjectIds) + ") AS u", ct);
                }

                return tally;
            }

            var byProject = projectsNamed && scope.ProjectIds.Count > 1;
            var projectColumn = byProject ? "r.\"ProjectId\"" : "CAST(0 AS BIGINT)";
            var projectGroup = byProject ? ", r.\"ProjectId\"" : string.Empty;

            // The project condition is left out when the export takes every project of the organization: a result
            // only ever joins an item and a project of the same organization, so it would hold for every task, and
            // without it the join is one index seek per item rather than one per item and project.
            string ProjectCondition(Query q) => everyProject ? string.Empty : " AND r.\"ProjectId\"" + q.In(scope.ProjectIds);

            if (scope.DatasetIds.Count > 0)
            {
                var q = new Query(this);
                foreach (var row in await QueryAsync(
                    q,
                    "SELECT i.\"DatasetId\" AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(*) AS \"Items\", CAST(0 AS BIGINT) AS \"Tasks\" FROM dataset_items AS i WHERE i.\"DatasetId\"" + q.In(scope.DatasetIds) + " GROUP BY i.\"DatasetId\"",
                    ct))
                {
                    tally.Datasets[row.Key] = (row.Items, 0);
                    tally.Items += row.Items;
                }

                // SQLite keeps a CROSS JOIN's order: the dataset's item index first, then one seek per item into the
                // covering (DatasetItemId, ProjectId) index; no table row is read.
                q = new Query(this);
                var tasks = await QueryAsync(
                    q,
                    "SELECT i.\"DatasetId\" AS \"Key\", " + projectColumn + " AS \"Project\", CAST(0 AS BIGINT) AS \"Items\", COUNT(*) AS \"Tasks\" FROM dataset_items AS i CROSS JOIN results AS r WHERE i.\"DatasetId\"" + q.In(scope.DatasetIds)
                        + " AND r.\"DatasetItemId\" = i.\"Id\"" + ProjectCondition(q) + " GROUP BY i.\"DatasetId\"" + projectGroup,
                    ct);
                AddTasks(tally, tasks, tally.Datasets);
            }

            if (scope.SliceIds.Count > 0)
            {
                var q = new Query(this);
                foreach (var row in await QueryAsync(
                    q,
                    "SELECT si.\"SliceId\" AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(*) AS \"Items\", CAST(0 AS BIGINT) AS \"Tasks\" FROM slice_items AS si WHERE si.\"SliceId\"" + q.In(scope.SliceIds) + " GROUP BY si.\"SliceId\"",
                    ct))
                {
                    tally.Slices[row.Key] = (row.Items, 0);
                }

                q = new Query(this);
                var sliceTasks = await QueryAsync(
                    q,
                    "SELECT si.\"SliceId\" AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", CAST(0 AS BIGINT) AS \"Items\", COUNT(*) AS \"Tasks\" FROM slice_items AS si CROSS JOIN results AS r WHERE si.\"SliceId\"" + q.In(scope.SliceIds)
                        + " AND r.\"DatasetItemId\" = si.\"DatasetItemId\"" + ProjectCondition(q) + " GROUP BY si.\"SliceId\"",
                    ct);
                foreach (var row in sliceTasks)
                {
                    tally.Slices[row.Key] = (tally.Slices.GetValueOrDefault(row.Key).Items, row.Tasks);
                }

                // Items the slices add to the named datasets: each once, however many of the slices hold it.
                string Added(Query q) => "SELECT x.\"Id\" FROM dataset_items AS x WHERE x.\"Id\" IN (SELECT si.\"DatasetItemId\" FROM slice_items AS si WHERE si.\"SliceId\"" + q.In(scope.SliceIds) + ")"
                    + (scope.DatasetIds.Count > 0 ? " AND " + q.NotIn("x.\"DatasetId\"", scope.DatasetIds) : string.Empty);
                q = new Query(this);
                tally.Items += await ScalarAsync(q, "SELECT COUNT(*) AS \"Value\" FROM (" + Added(q) + ") AS a", ct);
                q = new Query(this);
                var addedTasks = await QueryAsync(
                    q,
                    "SELECT CAST(0 AS BIGINT) AS \"Key\", " + projectColumn + " AS \"Project\", CAST(0 AS BIGINT) AS \"Items\", COUNT(*) AS \"Tasks\" FROM results AS r WHERE r.\"DatasetItemId\" IN (" + Added(q) + ")"
                        + ProjectCondition(q) + (byProject ? " GROUP BY r.\"ProjectId\"" : string.Empty),
                    ct);
                AddTasks(tally, addedTasks, null);
            }

            foreach (var (id, (_, tasks)) in tally.Projects)
            {
                // One task per item and project.
                tally.Projects[id] = (tasks, tasks);
            }

            return tally;
        }

        /// <summary>Adds tasks counted per source (and per project when grouped so) to the totals.</summary>
        private void AddTasks(Tally tally, List<GroupCount> rows, Dictionary<long, (long Items, long Tasks)>? perSource)
        {
            foreach (var row in rows)
            {
                tally.Tasks += row.Tasks;
                if (perSource is not null)
                {
                    var current = perSource.GetValueOrDefault(row.Key);
                    perSource[row.Key] = (current.Items, current.Tasks + row.Tasks);
                }

                if (projectsNamed)
                {
                    // With one named project every task is its; with several the rows are grouped by project.
                    var project = scope.ProjectIds.Count == 1 ? scope.ProjectIds[0] : row.Project;
                    tally.Projects[project] = (0, tally.Projects.GetValueOrDefault(project).Tasks + row.Tasks);
                }
            }
        }

        public async Task<Tally> FilteredAsync(CancellationToken ct)
        {
            if (scope.SliceIds.Count == 0 && scope.ProjectIds.Count == 1)
            {
                return await OneProjectFilteredAsync(ct);
            }

            // The export's own evaluation: the filter runs once on each task in scope and the tasks it keeps go to a
            // temporary table; each count below reads that table.
            var kept = await scope.MaterializeFilterAsync(db, KeptTable, ct);
            var table = (_postgres ? "pg_temp.\"" : "temp.\"") + kept.KeptTasksTable + "\"";
            var tally = new Tally();
            var totals = await QueryAsync(
                new Query(this),
                "SELECT CAST(0 AS BIGINT) AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(DISTINCT k.\"DatasetItemId\") AS \"Items\", COUNT(*) AS \"Tasks\" FROM " + table + " AS k",
                ct);
            tally.Items = totals[0].Items;
            tally.Tasks = totals[0].Tasks;
            if (scope.DatasetIds.Count > 0)
            {
                var q = new Query(this);
                foreach (var row in await QueryAsync(
                    q,
                    "SELECT i.\"DatasetId\" AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(DISTINCT k.\"DatasetItemId\") AS \"Items\", COUNT(*) AS \"Tasks\" FROM " + table
                        + " AS k CROSS JOIN dataset_items AS i WHERE i.\"Id\" = k.\"DatasetItemId\" AND i.\"DatasetId\"" + q.In(scope.DatasetIds) + " GROUP BY i.\"DatasetId\"",
                    ct))
                {
                    tally.Datasets[row.Key] = (row.Items, row.Tasks);
                }
            }

            if (scope.SliceIds.Count > 0)
            {
                var q = new Query(this);
                foreach (var row in await QueryAsync(
                    q,
                    "SELECT si.\"SliceId\" AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(DISTINCT k.\"DatasetItemId\") AS \"Items\", COUNT(*) AS \"Tasks\" FROM " + table
                        + " AS k CROSS JOIN slice_items AS si WHERE si.\"DatasetItemId\" = k.\"DatasetItemId\" AND si.\"SliceId\"" + q.In(scope.SliceIds) + " GROUP BY si.\"SliceId\"",
                    ct))
                {
                    tally.Slices[row.Key] = (row.Items, row.Tasks);
                }
            }

            if (projectsNamed)
            {
                foreach (var row in await QueryAsync(
                    new Query(this),
                    "SELECT r.\"ProjectId\" AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(*) AS \"Items\", COUNT(*) AS \"Tasks\" FROM " + table
                        + " AS k CROSS JOIN results AS r WHERE r.\"Id\" = k.\"Id\" GROUP BY r.\"ProjectId\"",
                    ct))
                {
                    tally.Projects[row.Key] = (row.Items, row.Tasks);
                }
            }

            return tally;
        }

        /// <summary>A filter on the tasks of one project, on named datasets or on the whole project: an item has at most one
        /// task in it, so the items kept are as many as the tasks kept, and each count is one pass that evaluates the filter
        /// once per task in scope, with no table written. The tasks are reached through indexes (the dataset's items, then
        /// <c>(DatasetItemId, ProjectId)</c>; or <c>(ProjectId, Id)</c>), and a row is read only when the filter reads one
        /// of its columns: a label or type condition reads <c>result_labels</c> by its key, most attribute conditions
        /// <c>result_attributes</c>, and the item is joined only when the filter reads it.</summary>
        private async Task<Tally> OneProjectFilteredAsync(CancellationToken ct)
        {
            var tally = new Tally();
            var ranges = await RangesAsync(ct);
            var rows = ranges.Count <= 1
                ? await QueryAsync(db, OneProjectQuery(range: null), ct)
                : await QuerySplitAsync(ranges, ct);
            foreach (var row in rows)
            {
                if (scope.DatasetIds.Count > 0)
                {
                    var current = tally.Datasets.GetValueOrDefault(row.Key);
                    tally.Datasets[row.Key] = (current.Items + row.Items, current.Tasks + row.Tasks);
                }

                tally.Items += row.Items;
                tally.Tasks += row.Tasks;
            }

            if (projectsNamed)
            {
                tally.Projects[scope.ProjectIds[0]] = (tally.Tasks, tally.Tasks);
            }

            return tally;
        }

        /// <summary>The one-pass count, of every task in scope or (<paramref name="range"/>) of the items of one dataset, or
        /// the tasks of the project, in an id range.</summary>
        private (Query Query, string Sql) OneProjectQuery(IdRange? range)
        {
            var q = new Query(this);
            string sql;
            if (scope.DatasetIds.Count > 0)
            {
                // SQLite keeps a CROSS JOIN's order: the named datasets' items, then their task in the project.
                var items = range is { } r ? " = " + Literal(r.Source) + " AND i.\"Id\" BETWEEN " + Literal(r.First) + " AND " + Literal(r.Last) : q.In(scope.DatasetIds);
                sql = "SELECT i.\"DatasetId\" AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(*) AS \"Items\", COUNT(*) AS \"Tasks\" FROM dataset_items AS i CROSS JOIN results AS r WHERE i.\"DatasetId\""
                    + items + " AND r.\"DatasetItemId\" = i.\"Id\"" + (everyProject ? string.Empty : " AND r.\"ProjectId\"" + q.In(scope.ProjectIds));
            }
            else
            {
                var item = FilterSql.ReadsItem(scope.Filter!);
                var tasks = range is { } r ? " = " + Literal(r.Source) + " AND r.\"Id\" BETWEEN " + Literal(r.First) + " AND " + Literal(r.Last) : q.In(scope.ProjectIds);
                sql = "SELECT CAST(0 AS BIGINT) AS \"Key\", CAST(0 AS BIGINT) AS \"Project\", COUNT(*) AS \"Items\", COUNT(*) AS \"Tasks\" FROM results AS r"
                    + (item ? " CROSS JOIN dataset_items AS i" : string.Empty) + " WHERE r.\"ProjectId\"" + tasks + (item ? " AND i.\"Id\" = r.\"DatasetItemId\"" : string.Empty);
            }

            var (condition, parameters) = FilterSql.For(scope.Filter!, _postgres, firstParameter: q.Parameters.Count, liveResults: true);
            q.Parameters.AddRange(parameters);
            return (q, sql + " AND " + condition + (scope.DatasetIds.Count > 0 ? " GROUP BY i.\"DatasetId\"" : string.Empty));
        }

        /// <summary>The id ranges a one-pass count is cut into on SQLite (see <see cref="Split"/>): each named dataset's items,
        /// or the project's tasks, in up to as many equal spans of ids as there are connections. One range or none means one
        /// query.</summary>
        private async Task<List<IdRange>> RangesAsync(CancellationToken ct)
        {
            var ranges = new List<IdRange>();
            if (_postgres || split.Connections <= 1)
            {
                return ranges;
            }

            var (table, column, sources) = scope.DatasetIds.Count > 0
                ? ("dataset_items", "DatasetId", scope.DatasetIds)
                : ("results", "ProjectId", scope.ProjectIds);
            foreach (var source in sources)
            {
                // Two subqueries, so that each is one seek at an end of the (source, Id) index. Only fixed names are concatenated.
                var sql = "SELECT (SELECT MIN(\"Id\") FROM " + table + " WHERE \"" + column + "\" = {0}) AS \"First\", (SELECT MAX(\"Id\") FROM " + table + " WHERE \"" + column + "\" = {0}) AS \"Last\"";
                var bounds = await db.Database.SqlQueryRaw<Bounds>(sql, source).SingleAsync(ct);
                if (bounds.First is not { } first || bounds.Last is not { } last)
                {
                    continue;
                }

                var span = last - first + 1;
                var pieces = (int)Math.Clamp(span / split.PartSize, 1, split.Connections);
                for (var k = 0; k < pieces; k++)
                {
                    ranges.Add(new IdRange(source, first + (span * k / pieces), first + (span * (k + 1) / pieces) - 1));
                }
            }

            return ranges;
        }

        /// <summary>Counts the ranges on up to <see cref="Split.Connections"/> connections at once: this preview's, and
        /// others each in a read snapshot of their own.</summary>
        private async Task<List<GroupCount>> QuerySplitAsync(List<IdRange> ranges, CancellationToken ct)
        {
            var pending = new System.Collections.Concurrent.ConcurrentQueue<IdRange>(ranges);
            async Task<List<GroupCount>> DrainAsync(AnnexDbContext context)
            {
                var rows = new List<GroupCount>();
                while (pending.TryDequeue(out var range))
                {
                    rows.AddRange(await QueryAsync(context, OneProjectQuery(range), ct));
                }

                return rows;
            }

            async Task<List<GroupCount>> OnAnotherConnectionAsync()
            {
                await using var context = await split.Contexts.CreateDbContextAsync(ct);
                await using var snapshot = await ExportSource.BeginSnapshotAsync(context, ct);
                try
                {
                    return await DrainAsync(context);
                }
                finally
                {
                    await snapshot.RollbackAsync(CancellationToken.None);
                }
            }

            // Awaited together, so that a failure on one connection still waits for the others to let theirs go.
            var drains = Enumerable.Range(0, Math.Min(split.Connections, ranges.Count) - 1).Select(_ => Task.Run(OnAnotherConnectionAsync, ct)).Prepend(DrainAsync(db));
            return [.. (await Task.WhenAll(drains)).SelectMany(rows => rows)];
        }

        private static string Literal(long id) => id.ToString(CultureInfo.InvariantCulture);

        // Only fixed SQL fragments are concatenated; ids always travel as parameters (see Query).
        private Task<List<GroupCount>> QueryAsync(Query query, string sql, CancellationToken ct) => QueryAsync(db, (query, sql), ct);

        private static Task<List<GroupCount>> QueryAsync(AnnexDbContext context, (Query Query, string Sql) statement, CancellationToken ct) =>
            context.Database.SqlQueryRaw<GroupCount>(statement.Sql, [.. statement.Query.Parameters]).ToListAsync(ct);

        private async Task<long> ScalarAsync(Query query, string sql, CancellationToken ct) =>
            (await db.Database.SqlQueryRaw<long>(sql, [.. query.Parameters]).ToListAsync(ct)).Single();

        /// <summary>The parameters of one statement, numbered as they are added.</summary>
        private sealed class Query(Counting counting)
        {
            public List<object> Parameters { get; } = [];

            /// <summary>" IN (these ids)", as PostgreSQL takes an array and SQLite a JSON list.</summary>
            public string In(IReadOnlyList<long> ids) => counting._postgres
                ? string.Concat(" = ANY(", Add(ids), ")")
                : string.Concat(" IN (SELECT value FROM json_each(", Add(ids), "))");

            public string NotIn(string column, IReadOnlyList<long> ids) => counting._postgres
                ? string.Concat("NOT (", column, " = ANY(", Add(ids), "))")
                : string.Concat(column, " NOT IN (SELECT value FROM json_each(", Add(ids), "))");

            private string Add(IReadOnlyList<long> ids)
            {
                Parameters.Add(counting._postgres ? ids.ToArray() : JsonSerializer.Serialize(ids));
                return "{" + (Parameters.Count - 1).ToString(CultureInfo.InvariantCulture) + "}";
            }
        }
    }
}
