using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Infrastructure.Idempotency;

/// <summary>Deletes remembered keys after their retention, once an hour.</summary>
public sealed class IdempotencySweeper(IServiceScopeFactory scopes, TimeProvider time, ILogger<IdempotencySweeper> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
                var now = Clock.UtcNow(time);
                var deleted = await db.Set<IdempotentRequest>().Where(r => r.ExpiresAt <= now).ExecuteDeleteAsync(stoppingToken);
                if (deleted > 0)
                {
                    logger.LogInformation("Forgot {Count} expired idempotency keys", deleted);
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Sweeping expired idempotency keys failed; trying again in an hour");
            }
        }
    }
}
