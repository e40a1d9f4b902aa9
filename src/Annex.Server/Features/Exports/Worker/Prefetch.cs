using System.Runtime.CompilerServices;
using System.Threading.Channels;

namespace Annex.Server.Features.Exports;

/// <summary>Reads ahead of a consumer on another thread, a bounded number of items deep, so that reading
/// the next batch from the database overlaps writing (and compressing) the current one.</summary>
public static class Prefetch
{
    public static async IAsyncEnumerable<T> AheadAsync<T>(
        Func<CancellationToken, IAsyncEnumerable<T>> source,
        int depth,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var channel = Channel.CreateBounded<T>(new BoundedChannelOptions(depth) { SingleReader = true, SingleWriter = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var producer = Task.Run(
            async () =>
            {
                try
                {
                    await foreach (var item in source(stop.Token).WithCancellation(stop.Token))
                    {
                        await channel.Writer.WriteAsync(item, stop.Token);
                    }

                    channel.Writer.Complete();
                }
                catch (Exception ex)
                {
                    channel.Writer.Complete(ex);
                }
            },
            CancellationToken.None);

        try
        {
            await foreach (var item in channel.Reader.ReadAllAsync(cancellationToken))
            {
                yield return item;
            }
        }
        finally
        {
            // The source holds the export's database connection: it must be finished before anyone else uses it.
            await stop.CancelAsync();
            await producer;
        }
    }
}
