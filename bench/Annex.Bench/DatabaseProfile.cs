using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Annex.Bench;

/// <summary>Sums the time EF Core spends in each kind of query, from its DiagnosticListener events, so a
/// run can be split into database reads and the rest (JSON, compression, disk) without touching the
/// server's code. A reader's duration runs from execution to disposal, which for the export's batches
/// (materialised with ToListAsync) is the time to fetch and build one batch.</summary>
public sealed class DatabaseProfile : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    private readonly ConcurrentDictionary<string, (long Ticks, int Count)> _totals = new();
    private readonly List<IDisposable> _subscriptions = [];
    private readonly IDisposable _all;

    public DatabaseProfile() => _all = DiagnosticListener.AllListeners.Subscribe(this);

    public void Reset() => _totals.Clear();

    public IReadOnlyDictionary<string, (TimeSpan Time, int Count)> Snapshot() =>
        _totals.ToDictionary(p => p.Key, p => (TimeSpan.FromTicks(p.Value.Ticks), p.Value.Count));

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        if (listener.Name == DbLoggerCategory.Name)
        {
            lock (_subscriptions)
            {
                _subscriptions.Add(listener.Subscribe(this));
            }
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        // Readers are timed at disposal (fetching included); scalar and non-query commands when executed.
        var (sql, duration) = value.Value switch
        {
            DataReaderDisposingEventData reader => (reader.Command.CommandText, reader.Duration),
            CommandExecutedEventData executed when executed.Result is not System.Data.Common.DbDataReader => (executed.Command.CommandText, executed.Duration),
            _ => (null, TimeSpan.Zero),
        };
        if (value.Key == CoreEventId.QueryCompilationStarting.Name)
        {
            // A compilation per batch would mean the query cache misses; counted, not timed.
            _totals.AddOrUpdate("query compilations", (0, 1), (_, t) => (t.Ticks, t.Count + 1));
        }

        if (sql is not null)
        {
            _totals.AddOrUpdate(Classify(sql), (duration.Ticks, 1), (_, t) => (t.Ticks + duration.Ticks, t.Count + 1));
        }
    }

    private static string Classify(string sql)
    {
        if (sql.Contains("UPDATE \"exports\"", StringComparison.Ordinal) || sql.Contains("FROM \"exports\"", StringComparison.Ordinal))
        {
            return "queue";
        }

        if (sql.Contains("COUNT(", StringComparison.Ordinal))
        {
            return "count";
        }

        if (sql.Contains("FROM \"results\"", StringComparison.Ordinal))
        {
            return "result batches";
        }

        return sql.Contains("FROM \"dataset_items\"", StringComparison.Ordinal) ? "item batches" : "other";
    }

    void IObserver<DiagnosticListener>.OnCompleted()
    {
    }

    void IObserver<DiagnosticListener>.OnError(Exception error)
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted()
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error)
    {
    }

    public void Dispose()
    {
        _all.Dispose();
        lock (_subscriptions)
        {
            _subscriptions.ForEach(s => s.Dispose());
        }
    }
}
