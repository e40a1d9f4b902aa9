using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Http;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.RateLimiting;

/// <summary>Two fixed windows per API key and kind of request (the limit and the burst), each starting at the
/// first request after the previous one ended. Unlike the framework's window limiters it can say when a window
/// resets, which the <c>X-RateLimit-Reset</c> header and the 429 message need. With
/// <see cref="RateLimitOptions.Shared"/> the main window is counted in the database for all replicas, which
/// each take permits from it a block at a time.</summary>
public sealed class ApiKeyRateLimiter(IOptions<RateLimitOptions> options, TimeProvider time, SharedRateLimitCounters shared, ILogger<ApiKeyRateLimiter> logger)
    : PartitionedRateLimiter<HttpContext>
{
    private const int SweepThreshold = 10_000;
    private readonly RateLimitOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Counter> _counters = new(StringComparer.Ordinal);

    /// <summary>Uploads are the requests to endpoints that read a file body under a limit of their own.</summary>
    public static RateLimitKind KindOf(HttpContext context)
    {
        var method = context.Request.Method;
        if (HttpMethods.IsGet(method) || HttpMethods.IsHead(method) || HttpMethods.IsOptions(method))
        {
            return RateLimitKind.Reads;
        }

        return context.GetEndpoint()?.Metadata.GetMetadata<OwnBodyLimit>() is not null ? RateLimitKind.Uploads : RateLimitKind.Writes;
    }

    /// <summary>The state of the caller's main window for this kind of request, for the response headers.</summary>
    public RateLimitState Peek(HttpContext context)
    {
        var kind = KindOf(context);
        return CounterFor(context, kind).Peek(time.GetUtcNow(), _options.For(kind), _options.Shared);
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

        var kind = KindOf(resource);
        var counter = CounterFor(resource, kind);
        var rule = _options.For(kind);
        return _options.Shared ? counter.TryAcquireShared(now, permitCount, rule) : counter.TryAcquire(now, permitCount, rule);
    }

    /// <summary>Called by the middleware when <see cref="AttemptAcquireCore"/> refused: in shared mode that is
    /// when the replica's block ran out, and this takes a new one from the database.</summary>
    protected override async ValueTask<RateLimitLease> AcquireAsyncCore(HttpContext resource, int permitCount, CancellationToken cancellationToken)
    {
        var first = AttemptAcquireCore(resource, permitCount);
        if (first != Lease.NeedsReservation)
        {
            return first;
        }

        var kind = KindOf(resource);
        var key = PartitionKey(resource, kind);
        var counter = CounterFor(resource, kind);
        var rule = _options.For(kind);

        // One reservation at a time per key and kind: requests that queue behind it take from the block it got.
        await counter.Reserving.WaitAsync(cancellationToken);
        try
        {
            var lease = counter.TryAcquireShared(time.GetUtcNow(), permitCount, rule);
            if (lease != Lease.NeedsReservation)
            {
                return lease;
            }

            var block = Math.Max(permitCount, Math.Min(_options.SharedBlockSize, rule.PermitLimit));
            SharedRateLimitReservation reservation;
            try
            {
                reservation = await shared.ReserveAsync(key, block, rule.PermitLimit, rule.Window, time.GetUtcNow(), cancellationToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A database that cannot count must not take the API down with it: the request goes through.
                logger.LogWarning(ex, "Could not reserve rate limit permits for {Partition}; letting the request through", key);
                return Lease.Acquired;
            }

            counter.AddBlock(reservation);
            lease = counter.TryAcquireShared(time.GetUtcNow(), permitCount, rule);
            return lease == Lease.NeedsReservation ? new Lease(TimeSpan.FromSeconds(1)) : lease;
        }
        finally
        {
            counter.Reserving.Release();
        }
    }

    private Counter CounterFor(HttpContext context, RateLimitKind kind) => _counters.GetOrAdd(PartitionKey(context, kind), _ => new Counter());

    /// <summary>The key's uid when the request authenticated, else the client address (an unknown key cannot be
    /// used to get a fresh allowance), and the kind of request.</summary>
    private static string PartitionKey(HttpContext context, RateLimitKind kind) =>
        (context.Features.Get<Caller>() is { } caller
            ? "key:" + caller.ApiKeyUid.ToString("N")
            : "ip:" + (context.Connection.RemoteIpAddress?.ToString() ?? "unknown"))
        + ":" + kind.ToString().ToLowerInvariant();

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

        // Shared mode: the block of permits this replica took from the database, and what the database said
        // everyone had used of the window when it did.
        private DateTimeOffset _blockResetsAt;
        private int _blockLeft;
        private int _sharedUsed;

        public SemaphoreSlim Reserving { get; } = new(1, 1);

        public Lease TryAcquire(DateTimeOffset now, int permits, EffectiveRateLimit rule)
        {
            lock (_lock)
            {
                _main = _main.Current(now, rule.Window);
                _burst = _burst.Current(now, rule.BurstWindow);
                var mainFull = _main.Used + permits > rule.PermitLimit;
                var burstFull = _burst.Used + permits > rule.BurstLimit;
                if (mainFull || burstFull)
                {
                    var mainWait = mainFull ? _main.ResetsAt - now : TimeSpan.Zero;
                    var burstWait = burstFull ? _burst.ResetsAt - now : TimeSpan.Zero;
                    return new Lease(mainWait > burstWait ? mainWait : burstWait);
                }

                _main = _main with { Used = _main.Used + permits };
                _burst = _burst with { Used = _burst.Used + permits };
                return Lease.Acquired;
            }
        }

        public Lease TryAcquireShared(DateTimeOffset now, int permits, EffectiveRateLimit rule)
        {
            lock (_lock)
            {
                _burst = _burst.Current(now, rule.BurstWindow);
                if (_burst.Used + permits > rule.BurstLimit)
                {
                    return new Lease(_burst.ResetsAt - now);
                }

                if (now < _blockResetsAt && _blockLeft >= permits)
                {
                    _blockLeft -= permits;
                    _burst = _burst with { Used = _burst.Used + permits };
                    return Lease.Acquired;
                }

                // The window is spent by all replicas together: no need to ask the database until it resets.
                return now < _blockResetsAt && _sharedUsed >= rule.PermitLimit
                    ? new Lease(_blockResetsAt - now)
                    : Lease.NeedsReservation;
            }
        }

        public void AddBlock(SharedRateLimitReservation reservation)
        {
            lock (_lock)
            {
                _blockLeft = reservation.ResetsAt == _blockResetsAt ? _blockLeft + reservation.Granted : reservation.Granted;
                _blockResetsAt = reservation.ResetsAt;
                _sharedUsed = reservation.Used;
            }
        }

        public RateLimitState Peek(DateTimeOffset now, EffectiveRateLimit rule, bool shared)
        {
            lock (_lock)
            {
                if (shared)
                {
                    return now < _blockResetsAt
                        ? new RateLimitState(rule.PermitLimit, Math.Max(0, rule.PermitLimit - _sharedUsed) + _blockLeft, _blockResetsAt)
                        : new RateLimitState(rule.PermitLimit, rule.PermitLimit, now + rule.Window);
                }

                var main = _main.Current(now, rule.Window);
                var resetsAt = main.Used == 0 ? now + rule.Window : main.ResetsAt;
                return new RateLimitState(rule.PermitLimit, Math.Max(0, rule.PermitLimit - main.Used), resetsAt);
            }
        }

        public bool IsIdle(DateTimeOffset now)
        {
            lock (_lock)
            {
                return _main.ResetsAt <= now && _blockResetsAt <= now && _burst.ResetsAt <= now && Reserving.CurrentCount == 1;
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

        /// <summary>Refused for now: the replica's block ran out and only the database can say whether the
        /// window has more (see <see cref="AcquireAsyncCore"/>).</summary>
        public static readonly Lease NeedsReservation = new(null, acquired: false);

        private readonly TimeSpan? _retryAfter;
        private readonly bool _acquired;

        public Lease(TimeSpan? retryAfter, bool? acquired = null)
        {
            _retryAfter = retryAfter;
            _acquired = acquired ?? retryAfter is null;
        }

        public override bool IsAcquired => _acquired;

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
