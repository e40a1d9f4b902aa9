namespace Annex.Server.Features.Webhooks;

public static class WebhookEvents
{
    public const string ExportCompleted = "export.completed";
    public const string ExportFailed = "export.failed";

    /// <summary>Sent only by <c>POST /webhooks/&lt;uid&gt;/test/</c>; nobody subscribes to it.</summary>
    public const string Test = "webhook.test";

    public static readonly IReadOnlyList<string> All = [ExportCompleted, ExportFailed];
}

public static class DeliveryStatus
{
    public const string Pending = "pending";
    public const string Delivered = "delivered";
    public const string Failed = "failed";
}

/// <summary>A URL of an organization that is told about its exports' outcomes.</summary>
public sealed class Webhook : Annex.Server.Infrastructure.Data.IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long OrganizationId { get; set; }
    public required string Url { get; set; }

    /// <summary>Space-separated event names.</summary>
    public required string Events { get; set; }

    /// <summary>Key of the HMAC-SHA256 signature of every delivery's body.</summary>
    public required string Secret { get; set; }

    /// <summary>An inactive webhook keeps its history but is sent no new events.</summary>
    public bool IsActive { get; set; } = true;

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}

/// <summary>One event for one webhook: the body is fixed when the event happens, then sent until the
/// receiver answers 2xx or the attempts run out.</summary>
public sealed class WebhookDelivery : Annex.Server.Infrastructure.Data.IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long WebhookId { get; set; }
    public Webhook Webhook { get; set; } = null!;
    public required string Event { get; set; }
    public required string Payload { get; set; }
    public required string Status { get; set; }
    public int Attempts { get; set; }

    /// <summary>When the next attempt is due; while a sender holds it, when its claim runs out.</summary>
    public DateTime NextAttemptAt { get; set; }

    public int? LastStatusCode { get; set; }
    public string? LastError { get; set; }

    /// <summary>The start of the receiver's last answer, for whoever debugs it.</summary>
    public string? LastResponseBody { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>When the delivery was created or last attempted.</summary>
    public DateTime UpdatedAt { get; set; }

    public DateTime? DeliveredAt { get; set; }
}
