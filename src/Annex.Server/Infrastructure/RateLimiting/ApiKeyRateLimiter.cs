using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Annex.Server.Infrastructure.Auth;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.RateLimiting;

/// <summary>Two fixed windows per API key (the limit and the burst), each starting at the first request
/// after the previous one ended. Unlike the framework's window limiters it can say when a window
/// resets, which the <c>X-RateLimit-Reset</c> header and the 429 message need.</summary>
public sealed class ApiKeyRateLimiter(IOptions<RateLimitOptions> options, TimeProvider time) : PartitionedRateLimiter<HttpContext>
{
    private const int SweepThreshold = 10_000;
    private readonly RateLimitOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    /// <summary>The state of the caller's main window, for the response headers.</summary>
    public RateLimitState Peek(HttpContext context)
    {
        var now = time.GetUtcNow();
        return CounterFor(context).Peek(now, _options);
    }

    public override RateLimiterStatistics? GetStatistics(HttpContext resource)
    {
        var state = Peek(resource);
        return new RateLimiterStatistics { CurrentAvailablePermits = state.Remaining };
    }

    protected override RateLimitLease AttemptAcquireCore(HttpContext resource, int permitCount)
    {
        var now = time.GetUtcNow();
        if (_counters.Count > SweepThreshold)
        {
            Sweep(now);
        }

        var retryAfter = CounterFor(resource).TryAcquire(now, permitCount, _options);
        return retryAfter is null ? Lease.Acquired : new Lease(retryAfter.Value);
    }

    protected override ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken) =>
        ValueTask.FromResult(AttemptAcquireCore(resource, permitCount));

    private Counter CounterFor(HttpContext context) => _counters.GetOrAdd(PartitionKey(context), _ => new Counter());

    /// <summary>The key's uid when the request authenticated, else the client address: an unknown
    /// key cannot be used to get a fresh allowance.</summary>
    private static string PartitionKey(HttpContext context) =>
        context.Features.Get<Caller>() is { } caller
            ? "key:" + caller.ApiKeyUid.ToString("N")
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown");

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, counter) in _counters)
        {
            if (counter.IsIdle(now))
            {
                _counters.TryRemove(key, out _);
            }
        }
    }

    private sealed class Counter
    {
        private readonly Lock _lock = new();
        private Window _main;
        private Window _burst;

        public TimeSpan? TryAcquire(DateTimeOffset now, int permits, RateLimitOptions options)
        {
            lock (_lock)
            {
                _main = _main.Current(now, options.Window);
                _burst = _burst.Current(now, options.BurstWindow);
                var mainFull = _main.Used + permits > options.PermitLimit;
                var burstFull = _burst.Used + permits > options.BurstLimit;
                if (mainFull || burstFull)
                {
                    var mainWait = mainFull ? _main.ResetsAt - now : TimeSpan.Zero;
                    var burstWait = burstFull ? _burst.ResetsAt - now : TimeSpan.Zero;
                    return mainWait > burstWait ? mainWait : burstWait;
                }

                _main = _main with { Used = _main.Used + permits };
                _burst = _burst with { Used = _burst.Used + permits };
                return null;
            }
        }

        public RateLimitState Peek(DateTimeOffset now, RateLimitOptions options)
        {
            lock (_lock)
            {
                var main = _main.Current(now, options.Window);
                var resetsAt = main.Used == 0 ? now + options.Window : main.ResetsAt;
                return new RateLimitState(options.PermitLimit, Math.Max(0, options.PermitLimit - main.Used), resetsAt);
            }
        }

        public bool IsIdle(DateTimeOffset now)
        {
            lock (_lock)
            {
                return _main.ResetsAt <= now;
            }
        }
    }

    /// <summary>A window that started at the first request after the previous one ran out.</summary>
    private readonly record struct Window(DateTimeOffset ResetsAt, int Used)
    {
        public Window Current(DateTimeOffset now, TimeSpan length) => now < ResetsAt ? this : new Window(now + length, 0);
    }

    private sealed class Lease : RateLimitLease
    {
        public static readonly Lease Acquired = new(null);
        private readonly TimeSpan? _retryAfter;

        public Lease(TimeSpan? retryAfter) => _retryAfter = retryAfter;

        public override bool IsAcquired => _retryAfter is null;

        public override IEnumerable<string> MetadataNames => _retryAfter is null ? [] : [MetadataName.RetryAfter.Name];

        public override bool TryGetMetadata(string metadataName, out object? metadata)
        {
            metadata = _retryAfter;
            return _retryAfter is not null && metadataName == MetadataName.RetryAfter.Name;
        }
    }
}

/// <summary>What the <c>X-RateLimit-*</c> headers say.</summary>
public readonly record struct RateLimitState(int Limit, int Remaining, DateTimeOffset ResetsAt);
