using Annex.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Exports.Worker;

/// <summary>Claims and runs exports, <see cref="ExportsOptions.Workers"/> at a time.</summary>
public sealed class ExportWorker(ExportQueue queue, ExportRunner runner, ExportSignal signal, IOptions<ExportsOptions> options, IOptions<ServerOptions> server, ILogger<ExportWorker> logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!server.Value.RunsWorker)
        {
            logger.LogInformation("Role {Role}: this process runs no export worker", server.Value.Role);
            return Task.CompletedTask;
        }

        logger.LogInformation("Export worker {WorkerId} started with {Slots} slots", queue.WorkerId, options.Value.Workers);
        return Task.WhenAll(Enumerable.Range(0, Math.Max(1, options.Value.Workers)).Select(_ => RunSlotAsync(stoppingToken)));
    }

    private async Task RunSlotAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var claimed = await queue.TryClaimAsync(stoppingToken);
                if (claimed is null)
                {
                    await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
                    continue;
                }

                await runner.RunAsync(claimed, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // The database may be briefly unavailable; keep the worker alive and try again shortly.
                logger.LogError(ex, "Export worker: claiming failed; retrying");
                await Task.Delay(options.Value.PollInterval, stoppingToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }
    }
}
