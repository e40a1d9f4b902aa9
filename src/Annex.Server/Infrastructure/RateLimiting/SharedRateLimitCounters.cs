using System.Data.Common;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Infrastructure.RateLimiting;

/// <summary>One row per API key (or client address) and kind of request: the window all replicas count
/// against, and how much of it they have taken.</summary>
public sealed class RateLimitCounter
{
    /// <summary>e.g. <c>key:3f2a...:writes</c>.</summary>
    public required string Key { get; set; }

    /// <summary>When the window ends, in Unix milliseconds.</summary>
    public long ResetsAt { get; set; }

    /// <summary>Permits handed out in the window, to all replicas together.</summary>
    public int Used { get; set; }

    /// <summary>What the last reservation got, so one statement can both take permits and say how many.</summary>
    public int Granted { get; set; }
}

/// <summary>What a reservation got: <see cref="Granted"/> permits of the window ending at
/// <see cref="ResetsAt"/>, of which all replicas have now taken <see cref="Used"/>.</summary>
public readonly record struct SharedRateLimitReservation(DateTimeOffset ResetsAt, int Used, int Granted);

/// <summary>Takes blocks of permits from the <c>rate_limit_counters</c> table in one atomic statement (an
/// upsert that starts a new window when the old one ended), so replicas never hand out more than the limit
/// between them.</summary>
public sealed class SharedRateLimitCounters(IServiceScopeFactory scopes)
{
    // Both providers take this upsert; the row lock (PostgreSQL) or the write lock (SQLite) orders concurrent
    // reservations, and every expression on the right reads the row as it was before the statement.
    private const string Reserve = """
        INSERT INTO "rate_limit_counters" ("Key", "ResetsAt", "Used", "Granted") VALUES (@key, @newResetsAt, @first, @first)
        ON CONFLICT ("Key") DO UPDATE SET
          "Granted" = CASE
            WHEN "rate_limit_counters"."ResetsAt" <= @now THEN @first
            WHEN @limit - "rate_limit_counters"."Used" <= 0 THEN 0
            WHEN @limit - "rate_limit_counters"."Used" < @wanted THEN @limit - "rate_limit_counters"."Used"
            ELSE @wanted END,
          "Used" = CASE
            WHEN "rate_limit_counters"."ResetsAt" <= @now THEN @first
            WHEN @limit - "rate_limit_counters"."Used" <= 0 THEN "rate_limit_counters"."Used"
            WHEN @limit - "rate_limit_counters"."Used" < @wanted THEN @limit
            ELSE "rate_limit_counters"."Used" + @wanted END,
          "ResetsAt" = CASE WHEN "rate_limit_counters"."ResetsAt" <= @now THEN @newResetsAt ELSE "rate_limit_counters"."ResetsAt" END
        RETURNING "ResetsAt", "Used", "Granted"
        """;

    public async Task<SharedRateLimitReservation> ReserveAsync(string key, int wanted, int limit, TimeSpan window, DateTimeOffset now, CancellationToken ct)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var connection = db.Database.GetDbConnection();
        await db.Database.OpenConnectionAsync(ct);
        try
        {
            await using var command = connection.CreateCommand();
            command.CommandText = Reserve;
            var nowMs = now.ToUnixTimeMilliseconds();
            Add(command, "key", key);
            Add(command, "now", nowMs);
            Add(command, "newResetsAt", nowMs + (long)window.TotalMilliseconds);
            Add(command, "first", Math.Min(wanted, limit));
            Add(command, "wanted", wanted);
            Add(command, "limit", limit);
            await using var reader = await command.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
            {
                throw new InvalidOperationException("The rate limit counter upsert returned no row.");
            }

            return new SharedRateLimitReservation(
                DateTimeOffset.FromUnixTimeMilliseconds(reader.GetInt64(0)), reader.GetInt32(1), reader.GetInt32(2));
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    private static void Add(DbCommand command, string name, object value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        command.Parameters.Add(parameter);
    }
}
