namespace Annex.Server.Infrastructure.RateLimiting;

/// <summary>Requests allowed per API key (per client address for requests without a valid key).</summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimiting";

    public bool Enabled { get; set; } = true;

    /// <summary>Requests per <see cref="Window"/>: the limit the <c>X-RateLimit-*</c> headers describe.</summary>
    public int PermitLimit { get; set; } = 100;

    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>Requests per <see cref="BurstWindow"/>, so a key cannot spend its whole window at once.</summary>
    public int BurstLimit { get; set; } = 20;

    public TimeSpan BurstWindow { get; set; } = TimeSpan.FromSeconds(1);
}
