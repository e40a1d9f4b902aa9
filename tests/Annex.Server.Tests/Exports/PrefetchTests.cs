using System.Runtime.CompilerServices;
using Annex.Server.Features.Exports;
using Xunit;

namespace Annex.Server.Tests.Exports;

public sealed class PrefetchTests
{
    private static async IAsyncEnumerable<int> Numbers(int count, Action? onFinally = null, int failAt = -1, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        try
        {
            for (var i = 0; i < count; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (i == failAt)
                {
                    throw new InvalidOperationException("source failed");
                }

                await Task.Yield();
                yield return i;
            }
        }
        finally
        {
            onFinally?.Invoke();
        }
    }

    [Fact]
    public async Task Yields_every_item_in_order()
    {
        var seen = new List<int>();
        await foreach (var n in Prefetch.AheadAsync(token => Numbers(1000, cancellationToken: token), depth: 2, CancellationToken.None))
        {
            seen.Add(n);
        }

        Assert.Equal(Enumerable.Range(0, 1000), seen);
    }

    [Fact]
    public async Task A_failing_source_fails_the_consumer()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(async () =>
        {
            await foreach (var _ in Prefetch.AheadAsync(token => Numbers(100, failAt: 10, cancellationToken: token), depth: 2, CancellationToken.None))
            {
            }
        });
        Assert.Equal("source failed", error.Message);
    }

    [Fact]
    public async Task Stopping_early_finishes_the_source_before_returning()
    {
        var finished = false;
        await foreach (var n in Prefetch.AheadAsync(token => Numbers(1_000_000, onFinally: () => finished = true, cancellationToken: token), depth: 2, CancellationToken.None))
        {
            if (n == 5)
            {
                break;
            }
        }

        // The source owns the export's database connection: nothing may still be reading once the loop is left.
        Assert.True(finished);
    }
}
