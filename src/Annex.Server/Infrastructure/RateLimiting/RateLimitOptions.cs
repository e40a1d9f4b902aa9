namespace Annex.Server.Infrastructure.RateLimiting;

/// <summary>The kinds of request that have limits of their own, so bulk work of one kind (an import's
/// uploads) does not starve another (the reads of a dashboard).</summary>
public enum RateLimitKind
{
    /// <summary>GET, HEAD and OPTIONS.</summary>
    Reads,

    /// <summary>POST, PUT, PATCH and DELETE, except uploads.</summary>
    Writes,

    /// <summary>Requests that carry files: item images (one or many) and manual uploads.</summary>
    Uploads,
}

/// <summary>One kind's limit. A value left unset falls back to the same setting at the top of the section,
/// then to the kind's default.</summary>
public sealed class RateLimitRule
{
    /// <summary>Requests per <see cref="Window"/>: the limit the <c>X-RateLimit-*</c> headers describe.</summary>
    public int? PermitLimit { get; set; }

    public TimeSpan? Window { get; set; }

    /// <summary>Requests per <see cref="BurstWindow"/>, so a key cannot spend its whole window at once.</summary>
    public int? BurstLimit { get; set; }

    public TimeSpan? BurstWindow { get; set; }
}

/// <summary>A kind's limit with every value decided.</summary>
public sealed record EffectiveRateLimit(int PermitLimit, TimeSpan Window, int BurstLimit, TimeSpan BurstWindow);

/// <summary>Requests allowed per API key (per client address for requests without a valid key), for each kind
/// of request (<c>RateLimiting:Reads</c>, <c>RateLimiting:Writes</c>, <c>RateLimiting:Uploads</c>).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimiting";

    /// <summary>The defaults suit bulk work: an import sends its items, results and images in large batches,
    /// a few requests at once, and its images as bulk uploads of up to a thousand files each.</summary>
    public static readonly IReadOnlyDictionary<RateLimitKind, EffectiveRateLimit> Defaults = new Dictionary<RateLimitKind, EffectiveRateLimit>
    {
        [RateLimitKind.Reads] = new(1200, TimeSpan.FromMinutes(1), 100, TimeSpan.FromSeconds(1)),
        [RateLimitKind.Writes] = new(600, TimeSpan.FromMinutes(1), 50, TimeSpan.FromSeconds(1)),
        [RateLimitKind.Uploads] = new(300, TimeSpan.FromMinutes(1), 20, TimeSpan.FromSeconds(1)),
    };

    public bool Enabled { get; set; } = true;

    /// <summary>Applies to every kind that does not set its own (the single limit of earlier versions).</summary>
    public int? PermitLimit { get; set; }

    public TimeSpan? Window { get; set; }

    public int? BurstLimit { get; set; }

    public TimeSpan? BurstWindow { get; set; }

    public RateLimitRule Reads { get; set; } = new();

    public RateLimitRule Writes { get; set; } = new();

    public RateLimitRule Uploads { get; set; } = new();

    /// <summary>Counts each key's requests in the database, so replicas sharing it enforce one limit between
    /// them rather than one each. The burst limit stays each replica's own.</summary>
    public bool Shared { get; set; }

    /// <summary>Permits a replica takes from the shared counter at a time, so it asks the database about once
    /// per this many requests rather than for each. Permits a replica took and did not use by the end of a
    /// window are lost for it, so the limit may be reached by up to this many requests per replica fewer.</summary>
    public int SharedBlockSize { get; set; } = 10;

    public RateLimitRule RuleFor(RateLimitKind kind) => kind switch
    {
        RateLimitKind.Reads => Reads,
        RateLimitKind.Writes => Writes,
        _ => Uploads,
    };

    public EffectiveRateLimit For(RateLimitKind kind)
    {
        var rule = RuleFor(kind);
        var fallback = Defaults[kind];
        return new EffectiveRateLimit(
            rule.PermitLimit ?? PermitLimit ?? fallback.PermitLimit,
            rule.Window ?? Window ?? fallback.Window,
            rule.BurstLimit ?? BurstLimit ?? fallback.BurstLimit,
            rule.BurstWindow ?? BurstWindow ?? fallback.BurstWindow);
    }
}
