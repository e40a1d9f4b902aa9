using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.Builder;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Annex.Bench;

/// <summary>Marks on one request's way through the server, in <see cref="Stopwatch"/> ticks (0: not seen).</summary>
internal sealed class RequestTiming
{
    public long Start;
    public long RouteMatched;
    public long AuthEnd;
    public long AuthTicks;
    public long LeaseStart;
    public long EndpointStart;
    public long EndpointEnd;
    public long End;
    public long LastQueryEnd;
    public long QueryTicksBeforeEndpoint;
    public long QueryTicksInEndpoint;
    public int Queries;
    public long RequestId = -1;
}

/// <summary>Where one request's time went, in milliseconds; the parts add up to <see cref="Client"/>.</summary>
public sealed record LayerTimes(
    double Routing, double Authentication, double RateLimiting, double OtherMiddleware, double Database, double Handler, double Serialization, double Outside, double Client, double KeyLookup)
{
    public static readonly string[] Names =
    [
        "routing (and the middleware before it)",
        "authentication (without its query)",
        "rate limiting",
        "other middleware (body limits, CSRF, authorization, idempotency, response end)",
        "database (every query: key lookup and endpoint)",
        "endpoint code between queries",
        "serialization (answer built and written after the last query)",
        "outside the server (client, sockets, Kestrel, waiting for a thread)",
    ];

    public double[] Parts => [Routing, Authentication, RateLimiting, OtherMiddleware, Database, Handler, Serialization, Outside];
}

/// <summary>
/// Server-side timing of each request, per layer, from the hooks ASP.NET Core and EF Core already offer, read in
/// this process (the bench hosts the server); nothing in the server changes:
/// <list type="bullet">
/// <item>the hosting activity (<c>Microsoft.AspNetCore</c> activity source): the request's start and end;</item>
/// <item>the routing diagnostic event <c>Microsoft.AspNetCore.Routing.EndpointMatched</c>: routing done;</item>
/// <item>the metrics <c>aspnetcore.authentication.authenticate.duration</c> (authentication's span) and
/// <c>aspnetcore.rate_limiting.request_lease.duration</c> (its lease starts when rate limiting let the request through);</item>
/// <item>EF Core's command events: each query's duration, reading included;</item>
/// <item>a middleware the bench appends after the server's own (<see cref="Install"/>), so it runs right before
/// the endpoint: the endpoint's start and end, and the bench's request id (header <see cref="RequestHeader"/>).</item>
/// </list>
/// Requests are matched to the client's measurements by that id.
/// </summary>
public sealed class ServerTiming : IObserver<DiagnosticListener>, IObserver<KeyValuePair<string, object?>>, IDisposable
{
    public const string RequestHeader = "X-Bench-Request";
    private const string Property = "annex.bench.timing";
    private const string EndpointMatched = "Microsoft.AspNetCore.Routing.EndpointMatched";
    private const string AuthenticateDuration = "aspnetcore.authentication.authenticate.duration";
    private const string LeaseDuration = "aspnetcore.rate_limiting.request_lease.duration";

    private readonly ActivityListener _activities;
    private readonly MeterListener _meters;
    private readonly IDisposable _all;
    private readonly List<IDisposable> _subscriptions = [];
    private readonly ConcurrentDictionary<long, RequestTiming> _completed = new();

    public ServerTiming()
    {
        _activities = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStarted = activity =>
            {
                if (activity.Parent is null)
                {
                    activity.SetCustomProperty(Property, new RequestTiming { Start = Stopwatch.GetTimestamp() });
                }
            },
            ActivityStopped = activity =>
            {
                if (activity.GetCustomProperty(Property) is RequestTiming timing)
                {
                    timing.End = Stopwatch.GetTimestamp();
                    if (timing.RequestId >= 0)
                    {
                        _completed[timing.RequestId] = timing;
                    }
                }
            },
        };
        ActivitySource.AddActivityListener(_activities);

        _meters = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (instrument.Name is AuthenticateDuration or LeaseDuration)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            },
        };
        _meters.SetMeasurementEventCallback<double>(OnMeasurement);
        _meters.Start();
        _all = DiagnosticListener.AllListeners.Subscribe(this);
    }

    /// <summary>Appends the endpoint marks to the server's pipeline; call after <c>AnnexApp.Build</c>, before start.</summary>
    public static void Install(WebApplication app) => app.Use(async (context, next) =>
    {
        if (Current() is not { } timing)
        {
            await next(context);
            return;
        }

        if (context.Request.Headers.TryGetValue(RequestHeader, out var id) && long.TryParse(id.ToString(), System.Globalization.CultureInfo.InvariantCulture, out var requestId))
        {
            timing.RequestId = requestId;
        }

        timing.EndpointStart = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            timing.EndpointEnd = Stopwatch.GetTimestamp();
        }
    });

    /// <summary>The server's timing of the request the client sent with this id, once the request has ended.</summary>
    internal RequestTiming? Take(long requestId) => _completed.TryRemove(requestId, out var timing) ? timing : null;

    /// <summary>Splits one request's time; <paramref name="clientMs"/> is what the client measured for it.</summary>
    internal static LayerTimes? Layers(RequestTiming t, double clientMs)
    {
        if (t.RouteMatched == 0 || t.EndpointStart == 0 || t.EndpointEnd == 0 || t.End == 0)
        {
            return null;
        }

        static double Ms(long ticks) => Math.Max(0, ticks) * 1000.0 / Stopwatch.Frequency;
        var server = Ms(t.End - t.Start);
        var routing = Ms(t.RouteMatched - t.Start);
        var keyLookup = Ms(t.QueryTicksBeforeEndpoint);
        var authentication = Math.Max(0, Ms(t.AuthTicks) - keyLookup);
        // Rate limiting ran between authentication and the lease it handed out.
        var rateLimiting = t.LeaseStart > 0 && t.AuthEnd > 0 ? Ms(t.LeaseStart - t.AuthEnd) : 0;
        var endpoint = Ms(t.EndpointEnd - t.EndpointStart);
        var endpointQueries = Ms(t.QueryTicksInEndpoint);
        var serialization = t.LastQueryEnd > t.EndpointStart ? Ms(t.EndpointEnd - t.LastQueryEnd) : 0;
        var handler = Math.Max(0, endpoint - endpointQueries - serialization);
        var other = Math.Max(0, server - routing - Ms(t.AuthTicks) - rateLimiting - endpoint);
        return new LayerTimes(routing, authentication, rateLimiting, other, keyLookup + endpointQueries, handler, serialization, Math.Max(0, clientMs - server), clientMs, keyLookup);
    }

    private static RequestTiming? Current()
    {
        var activity = Activity.Current;
        while (activity?.Parent is { } parent)
        {
            activity = parent;
        }

        return activity?.GetCustomProperty(Property) as RequestTiming;
    }

    private static void OnMeasurement(Instrument instrument, double seconds, ReadOnlySpan<KeyValuePair<string, object?>> tags, object? state)
    {
        if (Current() is not { } timing)
        {
            return;
        }

        var now = Stopwatch.GetTimestamp();
        var ticks = (long)(seconds * Stopwatch.Frequency);
        if (instrument.Name == AuthenticateDuration)
        {
            timing.AuthTicks += ticks;
            timing.AuthEnd = timing.AuthEnd == 0 ? now : timing.AuthEnd;
        }
        else
        {
            // Recorded when the request leaves the rate limiter, after the endpoint: the lease began that long ago.
            timing.LeaseStart = now - ticks;
        }
    }

    void IObserver<DiagnosticListener>.OnNext(DiagnosticListener listener)
    {
        IDisposable? subscription = listener.Name switch
        {
            "Microsoft.AspNetCore" => listener.Subscribe(this, eventName => eventName == EndpointMatched),
            var name when name == DbLoggerCategory.Name => listener.Subscribe(this, eventName =>
                eventName == RelationalEventId.DataReaderDisposing.Name || eventName == RelationalEventId.CommandExecuted.Name),
            _ => null,
        };
        if (subscription is not null)
        {
            lock (_subscriptions)
            {
                _subscriptions.Add(subscription);
            }
        }
    }

    void IObserver<KeyValuePair<string, object?>>.OnNext(KeyValuePair<string, object?> value)
    {
        if (Current() is not { } timing)
        {
            return;
        }

        if (value.Key == EndpointMatched)
        {
            timing.RouteMatched = Stopwatch.GetTimestamp();
            return;
        }

        // A reader is timed at its disposal (rows read included); other commands when executed.
        var duration = value.Value switch
        {
            DataReaderDisposingEventData reader => reader.Duration,
            CommandExecutedEventData executed when executed.Result is not System.Data.Common.DbDataReader => executed.Duration,
            _ => (TimeSpan?)null,
        };
        if (duration is not { } d)
        {
            return;
        }

        var ticks = (long)(d.TotalSeconds * Stopwatch.Frequency);
        if (timing.EndpointStart == 0)
        {
            timing.QueryTicksBeforeEndpoint += ticks;
        }
        else
        {
            timing.QueryTicksInEndpoint += ticks;
        }

        timing.Queries++;
        timing.LastQueryEnd = Stopwatch.GetTimestamp();
    }

    void IObserver<DiagnosticListener>.OnCompleted()
    {
    }

    void IObserver<DiagnosticListener>.OnError(Exception error)
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnCompleted()
    {
    }

    void IObserver<KeyValuePair<string, object?>>.OnError(Exception error)
    {
    }

    public void Dispose()
    {
        _all.Dispose();
        _meters.Dispose();
        _activities.Dispose();
        lock (_subscriptions)
        {
            _subscriptions.ForEach(s => s.Dispose());
        }
    }
}
