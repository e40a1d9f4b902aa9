using System.Data.Common;
using System.Globalization;
using System.Runtime.CompilerServices;
using Annex.Server.Features.Versions;
using Annex.Server.Infrastructure.Data;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports;

/// <summary>Opens the rows of an export: its snapshot, its scope and the tasks its filter keeps. A service,
/// so a host can wrap it (to observe or delay the work before writing starts).</summary>
public interface IExportSourceOpener
{
    Task<ExportSource> OpenAsync(Export export, CancellationToken cancellationToken);
}

public sealed class ExportSourceOpener(IDbContextFactory<AnnexDbContext> contexts, IOptions<ExportsOptions> options) : IExportSourceOpener
{
    public Task<ExportSource> OpenAsync(Export export, CancellationToken cancellationToken) =>
        ExportSource.OpenAsync(contexts, export, Math.Max(1, options.Value.BatchSize), cancellationToken);
}

public sealed record SourceDataset(long Id, Guid Uid, string Name);

/// <summary>An item as exports read it. <see cref="MediaKey"/> names the image uploaded to this server (a blob
/// key, with its <see cref="MediaContentType"/>); <see cref="MediaUrl"/> an image that lives elsewhere.</summary>
public sealed record SourceItem(long Id, Guid Uid, string RefId, string Metadata, int? Width, int? Height, string? MediaUrl, string? MediaKey = null, string? MediaContentType = null);

public sealed record SourceProject(long Id, Guid Uid, string Name, string Labels);

public sealed record SourceResult(long Id, Guid Uid, Guid ItemUid, long ProjectId, string Annotations);

/// <summary>An item with every result (task) in scope on it, ordered by result id.</summary>
public sealed record SourceItemWithResults(SourceItem Item, IReadOnlyList<SourceResult> Results);

/// <summary>Consecutive items of one dataset with their results; <see cref="TaskCount"/> is what progress counts.</summary>
public sealed record SourceItemBatch(SourceDataset Dataset, IReadOnlyList<SourceItemWithResults> Items)
{
    public int TaskCount => Items.Sum(i => i.Results.Count);
}

/// <summary>
/// The rows of one export, read from a single database snapshot so that the document is consistent
/// even while clients keep writing (a result never refers to an item the archive does not list).
/// Rows come in keyset-ordered batches; nothing holds more than one batch.
/// </summary>
public sealed class ExportSource : IAsyncDisposable
{
    private readonly AnnexDbContext _db;
    private readonly IDbContextTransaction _snapshot;
    private readonly DbTransaction _transaction;
    private readonly int _batchSize;

    private ExportSource(AnnexDbContext db, IDbContextTransaction snapshot, ExportScope scope, int batchSize, Annex.Formats.RemovedRecord? removed)
    {
        _db = db;
        _snapshot = snapshot;
        _transaction = snapshot.GetDbTransaction();
        Scope = scope;
        _batchSize = batchSize;
        Removed = removed;
    }

    public ExportScope Scope { get; }

    /// <summary>For a delta export, what its base had and it no longer has; null for a full export.</summary>
    public Annex.Formats.RemovedRecord? Removed { get; }

    public static async Task<ExportSource> OpenAsync(IDbContextFactory<AnnexDbContext> contexts, Export export, int batchSize, CancellationToken cancellationToken)
    {
        var db = await contexts.CreateDbContextAsync(cancellationToken);
        try
        {
            var snapshot = await BeginSnapshotAsync(db, cancellationToken);
            var scope = await ExportScope.ResolveAsync(db, export, cancellationToken);
            // Created inside the snapshot transaction, the tables go away when it rolls back.
            (scope, var removed) = await scope.MaterializeDeltaAsync(db, $"delta_items_{export.Id}", cancellationToken);
            scope = await scope.MaterializeFilterAsync(db, $"kept_tasks_{export.Id}", cancellationToken);
            return new ExportSource(db, snapshot, scope, batchSize, removed);
        }
        catch
        {
            await db.DisposeAsync();
            throw;
        }
    }

    /// <summary>A transaction that reads one snapshot of the database and writes nothing to it (a preview counts in one too).</summary>
    internal static async Task<IDbContextTransaction> BeginSnapshotAsync(AnnexDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        var connection = db.Database.GetDbConnection();
        if (connection is SqliteConnection sqlite)
        {
            // A deferred transaction takes no write lock: writers go on while the export reads its WAL snapshot.
            DbTransaction transaction = sqlite.BeginTransaction(deferred: true);
            return await db.Database.UseTransactionAsync(transaction, cancellationToken) ?? throw new InvalidOperationException("No snapshot transaction.");
        }

        return await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.RepeatableRead, cancellationToken);
    }

    public async Task<long> CountTasksAsync(CancellationToken cancellationToken)
    {
        if (!Scope.ReadsVersionParts)
        {
            return await Scope.Results(_db).LongCountAsync(cancellationToken);
        }

        long count = 0;
        foreach (var datasetId in Scope.DatasetIds)
        {
            foreach (var (sql, _) in Scope.VersionResultParts(_db, datasetId))
            {
                count += await _db.Results.FromSqlRaw(sql).LongCountAsync(cancellationToken);
            }
        }

        return count;
    }

    public async Task<List<SourceDataset>> DatasetsAsync(CancellationToken cancellationToken) =>
        await Scope.Datasets(_db).Select(d => new SourceDataset(d.Id, d.Uid, d.Name)).ToListAsync(cancellationToken);

    public async Task<List<SourceProject>> ProjectsAsync(CancellationToken cancellationToken) =>
        [.. (await Scope.ProjectsAsync(_db, cancellationToken)).Select(p => new SourceProject(p.Id, p.Uid, p.Name, p.Labels))];

    /// <summary>The dataset's items in scope, in batches ordered by id; the next batch is read while the
    /// caller works on the current one.</summary>
    public IAsyncEnumerable<IReadOnlyList<SourceItem>> ItemBatchesAsync(long datasetId, CancellationToken cancellationToken) =>
        Prefetch.AheadAsync(token => ReadItemBatchesAsync(datasetId, token), depth: 2, cancellationToken);

    /// <summary>The results (tasks) in scope, in batches ordered by id; read ahead like the items.</summary>
    public IAsyncEnumerable<IReadOnlyList<SourceResult>> ResultBatchesAsync(CancellationToken cancellationToken) =>
        Prefetch.AheadAsync(ReadResultBatchesAsync, depth: 2, cancellationToken);

    /// <summary>Every item in scope, dataset by dataset, in batches ordered by id, each item with its results in
    /// scope: one query for a batch's items, one for their results. Every task in scope is on exactly one item,
    /// so the batches' <see cref="SourceItemBatch.TaskCount"/> add up to <see cref="CountTasksAsync"/>. One batch is read
    /// ahead: the training formats parse on a stage of their own after this one, and every batch waiting between stages
    /// outlives a gen-0 collection and is copied into gen 1 (two deep, that was most of an export's heap).</summary>
    public IAsyncEnumerable<SourceItemBatch> ItemsWithResultsAsync(CancellationToken cancellationToken) =>
        Prefetch.AheadAsync(ReadItemsWithResultsAsync, depth: 1, cancellationToken);

    private async IAsyncEnumerable<SourceItemBatch> ReadItemsWithResultsAsync([EnumeratorCancellation] CancellationToken cancellationToken)
    {
        foreach (var dataset in await DatasetsAsync(cancellationToken))
        {
            await foreach (var items in ReadItemBatchesAsync(dataset.Id, cancellationToken))
            {
                var first = items[0].Id;
                var last = items[^1].Id;
                var results = Scope.ReadsVersionParts
                    ? await VersionResultsOnItemsAsync(dataset.Id, first, last, cancellationToken)
                    : await LiveResultsOnItemsAsync(dataset.Id, first, last, cancellationToken);

                // Results of range items that are out of scope (slices can name some of a dataset's items) are never
                // looked up below.
                var byItem = results.OrderBy(r => r.Id).ToLookup(r => r.DatasetItemId);
                yield return new SourceItemBatch(dataset, [.. items.Select(i => new SourceItemWithResults(
                    i, [.. byItem[i.Id].Select(r => new SourceResult(r.Id, r.Uid, i.Uid, r.ProjectId, r.Annotations))]))]);
            }
        }
    }

    private sealed record ResultRow(long Id, Guid Uid, long DatasetItemId, long ProjectId, string Annotations);

    private Task<List<ResultRow>> LiveResultsOnItemsAsync(long datasetId, long first, long last, CancellationToken cancellationToken)
    {
        // Results are looked up through the dataset's items in the batch's id range, which leads SQLite to the
        // (item, project) index. Conditions on the results alone let it walk every result of the project for each
        // batch instead; a list of the batch's ids as parameters did the same.
        var itemRange = Scope.ItemRows(_db).Where(i => i.DatasetId == datasetId && i.Id >= first && i.Id <= last).Select(i => i.Id);
        return Scope.Results(_db).Where(r => itemRange.Contains(r.DatasetItemId))
            .Select(r => new ResultRow(r.Id, r.Uid, r.DatasetItemId, r.ProjectId, r.Annotations))
            .ToListAsync(cancellationToken);
    }

    /// <summary>A version's results on the items in an id range, from each part (live and history) through its item
    /// index; the project condition is kept off the index (unary plus) for the reason given above.</summary>
    private async Task<List<ResultRow>> VersionResultsOnItemsAsync(long datasetId, long first, long last, CancellationToken cancellationToken)
    {
        var range = string.Concat(" AND x.\"DatasetItemId\" BETWEEN ", first.ToString(CultureInfo.InvariantCulture), " AND ", last.ToString(CultureInfo.InvariantCulture));
        var rows = new List<ResultRow>();
        foreach (var (sql, _) in Scope.VersionResultParts(_db, datasetId))
        {
            rows.AddRange(await _db.Results.FromSqlRaw(string.Concat(sql, range)).AsNoTracking()
                .Select(r => new ResultRow(r.Id, r.Uid, r.DatasetItemId, r.ProjectId, r.Annotations))
                .ToListAsync(cancellationToken));
        }

        return rows;
    }

    private IAsyncEnumerable<IReadOnlyList<SourceItem>> ReadItemBatchesAsync(long datasetId, CancellationToken cancellationToken)
    {
        if (Scope.ReadsVersionParts)
        {
            return MergeByIdAsync(
                [.. Scope.VersionItemParts(_db, datasetId).Select(sql => KeysetBatchesAsync(
                    after => _db.DatasetItems.FromSqlRaw(AfterInOrder(sql, after)).AsNoTracking()
                        .Select(i => new SourceItem(i.Id, i.Uid, i.RefId, i.Metadata, i.Width, i.Height, i.MediaUrl, i.MediaKey, i.MediaContentType)),
                    item => item.Id,
                    cancellationToken))],
                item => item.Id,
                cancellationToken);
        }

        var items = Scope.Items(_db).Where(i => i.DatasetId == datasetId);
        return KeysetBatchesAsync(
            after => items.Where(i => i.Id > after).OrderBy(i => i.Id).Take(_batchSize)
                .Select(i => new SourceItem(i.Id, i.Uid, i.RefId, i.Metadata, i.Width, i.Height, i.MediaUrl, i.MediaKey, i.MediaContentType)),
            item => item.Id,
            cancellationToken);
    }

    private IAsyncEnumerable<IReadOnlyList<SourceResult>> ReadResultBatchesAsync(CancellationToken cancellationToken)
    {
        if (Scope.ReadsVersionParts)
        {
            return MergeByIdAsync([.. Scope.DatasetIds.SelectMany(d => Scope.VersionResultParts(_db, d)).Select(part => VersionResultBatchesAsync(part.Sql, part.History, cancellationToken))], result => result.Id, cancellationToken);
        }

        var results = Scope.Results(_db, byKeptOrder: true);

        // The item's uid is joined before the limit, not after it. Joined to a limited subquery, PostgreSQL hashed the
        // whole items table for every batch (a sequential scan of every item per batch of results) and SQLite
        // materialized and sorted the batch again; joined inside it, both follow the results' id order and look each
        // item up by its key. A version's result may be on an item that is only in the history now: its uid then
        // comes from the version's items.
        var itemRows = Scope.VersionItemsSql is null ? _db.DatasetItems.AsNoTracking() : Scope.ItemRows(_db);
        return KeysetBatchesAsync(
            after => results.Where(r => r.Id > after)
                .Join(itemRows, r => r.DatasetItemId, i => i.Id, (r, i) => new { Result = r, ItemUid = i.Uid })
                .OrderBy(x => x.Result.Id).Take(_batchSize)
                .Select(x => new SourceResult(x.Result.Id, x.Result.Uid, x.ItemUid, x.Result.ProjectId, x.Result.Annotations)),
            result => result.Id,
            cancellationToken);
    }

    /// <summary>One part of a version's results in id order, each with its item's uid: through the live item for live
    /// results, looked up for history results (whose item may be only in the history now).</summary>
    private IAsyncEnumerable<IReadOnlyList<SourceResult>> VersionResultBatchesAsync(string sql, bool history, CancellationToken cancellationToken)
    {
        if (!history)
        {
            // The item is joined inside the batch's limit, as in the live reading above: outside it, PostgreSQL hashed
            // every item for every batch.
            var part = _db.Results.FromSqlRaw(sql).AsNoTracking();
            var itemRows = _db.DatasetItems.AsNoTracking();
            return KeysetBatchesAsync(
                after => part.Where(r => r.Id > after)
                    .Join(itemRows, r => r.DatasetItemId, i => i.Id, (r, i) => new { Result = r, ItemUid = i.Uid })
                    .OrderBy(x => x.Result.Id).Take(_batchSize)
                    .Select(x => new SourceResult(x.Result.Id, x.Result.Uid, x.ItemUid, x.Result.ProjectId, x.Result.Annotations)),
                result => result.Id,
                cancellationToken);
        }

        return KeysetBatchesAsync<SourceResult>(
            async (after, token) =>
            {
                var rows = await _db.Results.FromSqlRaw(AfterInOrder(sql, after)).AsNoTracking()
                    .Select(r => new ResultRow(r.Id, r.Uid, r.DatasetItemId, r.ProjectId, r.Annotations))
                    .ToListAsync(token);
                var uids = await VersionSql.ItemUidsAsync(_db, [.. rows.Select(r => r.DatasetItemId).Distinct()], token);
                return [.. rows.Select(r => new SourceResult(r.Id, r.Uid, uids[r.DatasetItemId], r.ProjectId, r.Annotations))];
            },
            result => result.Id,
            cancellationToken);
    }

    /// <summary>A part's next batch: its rows after an id, in id order, at most a batch of them.</summary>
    private string AfterInOrder(string partSql, long after) =>
        string.Concat(
            partSql,
            // long.MinValue as SQL text would be read as a negated literal that overflows to a float.
            after == long.MinValue ? string.Empty : string.Concat(" AND x.\"Id\" > ", after.ToString(CultureInfo.InvariantCulture)),
            " ORDER BY x.\"Id\" LIMIT ",
            _batchSize.ToString(CultureInfo.InvariantCulture));

    /// <summary>Merges parts that are each in id order (and share no id) into batches in id order. Each part keeps its
    /// own keyset, so every row is read once whatever the parts' sizes.</summary>
    private async IAsyncEnumerable<IReadOnlyList<T>> MergeByIdAsync<T>(IReadOnlyList<IAsyncEnumerable<IReadOnlyList<T>>> parts, Func<T, long> idOf, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        if (parts.Count == 1)
        {
            await foreach (var batch in parts[0].WithCancellation(cancellationToken))
            {
                yield return batch;
            }

            yield break;
        }

        var cursors = new List<PartCursor<T>>();
        try
        {
            foreach (var part in parts)
            {
                var cursor = new PartCursor<T>(part.GetAsyncEnumerator(cancellationToken));
                cursors.Add(cursor);
                if (!await cursor.NextBatchAsync())
                {
                    cursors.Remove(cursor);
                    await cursor.Batches.DisposeAsync();
                }
            }

            var output = new List<T>(_batchSize);
            while (cursors.Count > 0)
            {
                var next = cursors[0];
                foreach (var cursor in cursors)
                {
                    if (idOf(cursor.Current) < idOf(next.Current))
                    {
                        next = cursor;
                    }
                }

                output.Add(next.Current);
                if (++next.Index == next.Batch.Count && !await next.NextBatchAsync())
                {
                    cursors.Remove(next);
                    await next.Batches.DisposeAsync();
                }

                if (output.Count == _batchSize)
                {
                    yield return output;
                    output = new List<T>(_batchSize);
                }
            }

            if (output.Count > 0)
            {
                yield return output;
            }
        }
        finally
        {
            foreach (var cursor in cursors)
            {
                await cursor.Batches.DisposeAsync();
            }
        }
    }

    private sealed class PartCursor<T>(IAsyncEnumerator<IReadOnlyList<T>> batches)
    {
        public IAsyncEnumerator<IReadOnlyList<T>> Batches { get; } = batches;

        public IReadOnlyList<T> Batch { get; private set; } = [];

        public int Index { get; set; }

        public T Current => Batch[Index];

        public async Task<bool> NextBatchAsync()
        {
            while (await Batches.MoveNextAsync())
            {
                if (Batches.Current.Count > 0)
                {
                    Batch = Batches.Current;
                    Index = 0;
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>Batches of rows ordered by id: each query starts after the last id of the one before.</summary>
    private IAsyncEnumerable<IReadOnlyList<T>> KeysetBatchesAsync<T>(Func<long, IQueryable<T>> batchAfter, Func<T, long> idOf, CancellationToken cancellationToken) =>
        KeysetBatchesAsync((after, token) => batchAfter(after).ToListAsync(token), idOf, cancellationToken);

    private async IAsyncEnumerable<IReadOnlyList<T>> KeysetBatchesAsync<T>(Func<long, CancellationToken, Task<List<T>>> batchAfter, Func<T, long> idOf, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var after = long.MinValue;
        while (true)
        {
            var batch = await batchAfter(after, cancellationToken);
            if (batch.Count > 0)
            {
                yield return batch;
            }

            if (batch.Count < _batchSize)
            {
                yield break;
            }

            after = idOf(batch[^1]);
        }
    }

    public async ValueTask DisposeAsync()
    {
        // Never committed: disposing rolls the snapshot back, which also drops the filter's temp table.
        await _snapshot.DisposeAsync();
        await _transaction.DisposeAsync();
        await _db.DisposeAsync();
    }
}
