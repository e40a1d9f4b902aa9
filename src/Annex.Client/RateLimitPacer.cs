using System.Globalization;
using System.Net.Http.Headers;

namespace Annex.Client;

/// <summary>What the server's <c>X-RateLimit-*</c> headers last said, per kind of request (the server counts
/// reads, writes and uploads apart), so the client can wait for a window to reset instead of being refused.</summary>
internal sealed class RateLimitPacer(TimeProvider time)
{
    private readonly Dictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>The kind the server counts <paramref name="request"/> as, judged the way it judges.</summary>
    public static string KindOf(HttpRequestMessage request)
    {
        if (request.Method == HttpMethod.Get || request.Method == HttpMethod.Head || request.Method == HttpMethod.Options)
        {
            return "reads";
        }

        return request.Content is MultipartContent ? "uploads" : "writes";
    }

    /// <summary>How long to wait before sending a request of <paramref name="kind"/>: until the window resets
    /// when what is left of it is spoken for by requests already sent, else nothing (and one permit is taken).</summary>
    public TimeSpan Reserve(string kind)
    {
        lock (_lock)
        {
            if (!_windows.TryGetValue(kind, out var window))
            {
                return TimeSpan.Zero;
            }

            var now = time.GetUtcNow();
            if (now >= window.ResetsAt)
            {
                _windows.Remove(kind);
                return TimeSpan.Zero;
            }

            if (window.Remaining > 0)
            {
                _windows[kind] = window with { Remaining = window.Remaining - 1 };
                return TimeSpan.Zero;
            }

            return window.ResetsAt - now;
        }
    }

    /// <summary>Takes in what a response's headers say about its kind's window.</summary>
    public void Observe(string kind, HttpResponseMessage response)
    {
        if (Header(response.Headers, "X-RateLimit-Remaining") is not { } remaining || Header(response.Headers, "X-RateLimit-Reset") is not { } reset)
        {
            return;
        }

        var resetsAt = DateTimeOffset.FromUnixTimeSeconds(reset);
        lock (_lock)
        {
            // Responses arrive out of order; within one window the lowest count is the latest news.
            if (_windows.TryGetValue(kind, out var known) && known.ResetsAt == resetsAt && known.Remaining < remaining)
            {
                return;
            }

            _windows[kind] = new Window(resetsAt, (int)Math.Min(remaining, int.MaxValue));
        }
    }

    /// <summary>A 429: nothing more of this kind until <paramref name="retryAfter"/> has passed.</summary>
    public void Throttled(string kind, TimeSpan retryAfter)
    {
        lock (_lock)
        {
            var resetsAt = time.GetUtcNow() + retryAfter;
            if (!_windows.TryGetValue(kind, out var known) || known.ResetsAt < resetsAt || known.Remaining > 0)
            {
                _windows[kind] = new Window(resetsAt, 0);
            }
        }
    }

    private static long? Header(HttpResponseHeaders headers, string name) =>
        headers.TryGetValues(name, out var values)
        && long.TryParse(values.FirstOrDefault(), NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : null;

    private readonly record struct Window(DateTimeOffset ResetsAt, int Remaining);
}
