namespace Annex.Server.Infrastructure;

/// <summary>A background loop that runs one pass at start-up and then every <see cref="Interval"/>. A
/// failed pass (a database or store briefly unreachable) is logged and the next pass tries again.</summary>
public abstract class PeriodicWork(TimeProvider time, ILogger logger) : BackgroundService
{
    /// <summary>The clock the loop runs on, for the passes too.</summary>
    protected TimeProvider Time { get; } = time;

    protected abstract TimeSpan Interval { get; }

    /// <summary>What the pass does, for the log line when it fails.</summary>
    protected abstract string Description { get; }

    /// <summary>False where this process should not do the work (e.g. an API-only role).</summary>
    protected virtual bool Enabled => true;

    protected abstract Task RunOnceAsync(CancellationToken cancellationToken);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, Time);
        try
        {
            do
            {
                try
                {
                    await RunOnceAsync(stoppingToken);
                }
                catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
                {
                    logger.LogWarning(ex, "{Work} failed; trying again in {Interval}", Description, Interval);
                }
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }
}
