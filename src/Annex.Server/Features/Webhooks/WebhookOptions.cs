namespace Annex.Server.Features.Webhooks;

public sealed class WebhookOptions
{
    public const string Section = "Webhooks";

    /// <summary>Allow URLs whose host is a loopback, private or link-local address (off by default, so a
    /// webhook cannot be used to reach the server's own network).</summary>
    public bool AllowPrivateAddresses { get; set; }

    /// <summary>Attempts per delivery before it is given up.</summary>
    public int MaxAttempts { get; set; } = 8;

    /// <summary>Wait before the second attempt; it doubles after each failure.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);

    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);
}
