using System.Text.Json;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Webhooks;

public sealed record WebhookPayload(string Event, Guid Delivery, DateTime CreatedAt, WebhookExport Export);

/// <summary>The body of a <c>webhook.test</c> event: who sent it to which webhook, and nothing else.</summary>
public sealed record WebhookTestPayload(string Event, Guid Delivery, DateTime CreatedAt, WebhookTestSubject Webhook, Guid Organization);

public sealed record WebhookTestSubject(Guid Uid, string TargetUrl);

public sealed record WebhookExport(
    Guid Uid, string Name, string Format, string Status, long? TotalTaskCount, long? ExportedTaskCount,
    string? Error, DateTime? ExpiresAt, Guid Organization);

/// <summary>Records the deliveries of an export's outcome in the transaction that records the outcome,
/// so an event is never lost between the two; <see cref="WebhookDeliverer"/> sends them.</summary>
public static class WebhookOutbox
{
    public static async Task EnqueueExportEventAsync(AnnexDbContext db, long exportId, string eventName, DateTime now, CancellationToken cancellationToken)
    {
        var export = await db.Exports.AsNoTracking().Where(e => e.Id == exportId)
            .Select(e => new { e.OrganizationId, Export = e, OrganizationUid = db.Organizations.Where(o => o.Id == e.OrganizationId).Select(o => o.Uid).Single() })
            .SingleOrDefaultAsync(cancellationToken);
        if (export is null)
        {
            return;
        }

        var webhooks = await db.Set<Webhook>().AsNoTracking().Where(w => w.OrganizationId == export.OrganizationId && w.IsActive)
            .Select(w => new { w.Id, w.Events }).ToListAsync(cancellationToken);
        var e = export.Export;
        foreach (var webhook in webhooks.Where(w => w.Events.Split(' ').Contains(eventName)))
        {
            var uid = Guid.NewGuid();
            var payload = new WebhookPayload(eventName, uid, now, new WebhookExport(
                e.Uid, e.Name, e.Format, e.Status, e.TotalTaskCount, e.ExportedTaskCount, e.Error, e.ExpiresAt, export.OrganizationUid));
            db.Add(new WebhookDelivery
            {
                Uid = uid,
                WebhookId = webhook.Id,
                Event = eventName,
                Payload = JsonSerializer.Serialize(payload, ApiJson.Options),
                Status = DeliveryStatus.Pending,
                NextAttemptAt = now,
                CreatedAt = now,
                UpdatedAt = now,
            });
        }

        await db.SaveChangesAsync(cancellationToken);
    }

    /// <summary>Records a <c>webhook.test</c> delivery for one webhook, active or not, that the background
    /// sender leaves alone until <paramref name="heldUntil"/>.</summary>
    public static async Task<WebhookDelivery> EnqueueTestEventAsync(AnnexDbContext db, Webhook webhook, DateTime now, DateTime heldUntil, CancellationToken cancellationToken)
    {
        var organizationUid = await db.Organizations.Where(o => o.Id == webhook.OrganizationId).Select(o => o.Uid).SingleAsync(cancellationToken);
        var uid = Guid.NewGuid();
        var payload = new WebhookTestPayload(WebhookEvents.Test, uid, now, new WebhookTestSubject(webhook.Uid, webhook.Url), organizationUid);
        var delivery = new WebhookDelivery
        {
            Uid = uid,
            WebhookId = webhook.Id,
            Event = WebhookEvents.Test,
            Payload = JsonSerializer.Serialize(payload, ApiJson.Options),
            Status = DeliveryStatus.Pending,
            NextAttemptAt = heldUntil,
            CreatedAt = now,
            UpdatedAt = now,
        };
        db.Add(delivery);
        await db.SaveChangesAsync(cancellationToken);
        return delivery;
    }
}
