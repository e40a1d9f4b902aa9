namespace Annex.Server.Infrastructure.Idempotency;

public sealed class IdempotencyOptions
{
    public const string Section = "Idempotency";

    /// <summary>How long a key is remembered: a retry within this period gets the original response.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How long a retry waits for the first request with its key to finish before it is told to retry later.</summary>
    public TimeSpan WaitForFirst { get; set; } = TimeSpan.FromSeconds(30);
}
