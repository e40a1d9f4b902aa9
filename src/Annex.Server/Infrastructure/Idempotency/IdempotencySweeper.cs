using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Infrastructure.Idempotency;

/// <summary>Deletes remembered keys after their retention, once an hour.</summary>
public sealed class IdempotencySweeper(IServiceScopeFactory scopes, TimeProvider time, ILogger<IdempotencySweeper> logger) : PeriodicWork(time, logger)
{
    protected override TimeSpan Interval => TimeSpan.FromHours(1);

    protected override string Description => "Sweeping expired idempotency keys";

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        var now = Clock.UtcNow(Time);
        var deleted = await db.IdempotentRequests.Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(cancellationToken);
        if (deleted > 0)
        {
            logger.LogInformation("Forgot {Count} expired idempotency keys", deleted);
        }
    }
}
