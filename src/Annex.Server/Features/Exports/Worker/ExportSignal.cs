namespace Annex.Server.Features.Exports.Worker;

/// <summary>Wakes idle workers in this process as soon as an export is created, so queue latency is not
/// bounded by the poll interval (which only matters for exports created by other processes).</summary>
public sealed class ExportSignal : IDisposable
{
    private readonly SemaphoreSlim _semaphore = new(0);

    public void Notify()
    {
        if (_semaphore.CurrentCount < 64)
        {
            _semaphore.Release();
        }
    }

    public async Task WaitAsync(TimeSpan timeout, CancellationToken cancellationToken) =>
        await _semaphore.WaitAsync(timeout, cancellationToken);

    public void Dispose() => _semaphore.Dispose();
}
