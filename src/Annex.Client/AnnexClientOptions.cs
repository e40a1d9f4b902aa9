namespace Annex.Client;

/// <summary>How an <see cref="AnnexClient"/> retries and pages.</summary>
public sealed class AnnexClientOptions
{
    /// <summary>Retries of a request answered 429 or 503 before giving up (default 4).</summary>
    public int MaxRetries { get; set; } = 4;

    /// <summary>Wait before a retry when the server sends no <c>Retry-After</c>; doubles on each retry (default 1 s).</summary>
    public TimeSpan InitialRetryDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The longest wait before one retry, whatever <c>Retry-After</c> asks (default 60 s).</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Rows per page asked for by the list methods (the server allows 1 to 1000; default 100).</summary>
    public int PageSize { get; set; } = 100;

    /// <summary>Attempts a download makes in all, resuming where the previous one was cut (default 5).</summary>
    public int MaxDownloadAttempts { get; set; } = 5;

    /// <summary>Follow the server's <c>X-RateLimit-Remaining</c> and <c>X-RateLimit-Reset</c>: once a window is
    /// spent, wait (at most <see cref="MaxRetryDelay"/>) for it to reset before sending more of that kind of
    /// request, instead of sending it to be refused (default true).</summary>
    public bool PaceRequests { get; set; } = true;

    /// <summary>Sent as the <c>User-Agent</c> header.</summary>
    public string UserAgent { get; set; } = "annex-client/1.0";
}
