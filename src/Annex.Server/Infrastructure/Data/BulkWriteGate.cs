using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Infrastructure.Data;

/// <summary>
/// SQLite has one writer at a time. Bulk writes each hold its write lock for a while, so several at once would
/// queue inside SQLite, where a wait longer than the busy timeout fails the request ("database is locked"). They
/// queue here instead, in arrival order, for as long as their request lasts. PostgreSQL writes concurrently and
/// passes straight through.
/// </summary>
public sealed class BulkWriteGate : IDisposable
{
    private readonly SemaphoreSlim _sqlite = new(1, 1);

    public async ValueTask<Entered> EnterAsync(AnnexDbContext db, CancellationToken ct)
    {
        ArgumentNullException.ThrowIfNull(db);
        if (!db.Database.IsSqlite())
        {
            return default;
        }

        await _sqlite.WaitAsync(ct);
        return new Entered(_sqlite);
    }

    public void Dispose() => _sqlite.Dispose();

    /// <summary>Leaves the gate when disposed.</summary>
    public readonly struct Entered(SemaphoreSlim? held) : IDisposable
    {
        public void Dispose() => held?.Release();
    }
}
