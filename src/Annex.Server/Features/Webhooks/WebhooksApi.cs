using System.Security.Cryptography;
using System.Text.Json;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Webhooks;

/// <summary>A webhook as Avala clients read it; <c>url</c> repeats <c>target_url</c> for clients of Annex's
/// earlier shape.</summary>
public sealed record WebhookResponse(Guid Uid, string TargetUrl, string Url, IReadOnlyList<string> Events, bool IsActive, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>The answer to a create: the only time the secret is shown.</summary>
public sealed record CreatedWebhookResponse(Guid Uid, string TargetUrl, string Url, IReadOnlyList<string> Events, bool IsActive, DateTime CreatedAt, DateTime UpdatedAt, string Secret);

/// <summary>The body of a create or an update; <c>url</c> is accepted for <c>target_url</c>. A create needs
/// the address and the events; an update changes only what it names.</summary>
public sealed record WebhookRequest(string? TargetUrl, string? Url, IReadOnlyList<string>? Events, bool? IsActive, string? Secret);

/// <summary>One delivery in the shape of <c>GET /webhooks/&lt;uid&gt;/deliveries/</c>.</summary>
public sealed record DeliveryResponse(Guid Uid, string Event, string Status, int Attempts, int? LastStatusCode, string? LastError, DateTime CreatedAt, DateTime? DeliveredAt, DateTime? NextAttemptAt);

/// <summary>One delivery as Avala clients read it (<c>/webhook-deliveries/</c>): <c>subscription</c> is the
/// webhook's uid, <c>response_status</c> and <c>response_body</c> the receiver's last answer, <c>error</c>
/// why the last attempt failed.</summary>
public sealed record WebhookDeliveryResponse(
    Guid Uid, Guid Subscription, string EventType, RawJson Payload, int? ResponseStatus, string? ResponseBody, int Attempts,
    DateTime? NextRetryAt, string Status, string? Error, DateTime CreatedAt, DateTime UpdatedAt, DateTime? DeliveredAt);

/// <summary>The answer to a test: whether the receiver answered 2xx, and the delivery.</summary>
public sealed record WebhookTestResponse(bool Success, WebhookDeliveryResponse Delivery);

public static class WebhooksApi
{
    private const int MaxUrlLength = 2000;
    private const string InvalidBoolean = "Must be a valid boolean.";

    public static RouteGroupBuilder MapWebhooksApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/webhooks").WithTags("Webhooks");
        group.MapGet("", ListWebhooks).Produces<Page<WebhookResponse>>().ProducesErrors(400);
        group.MapPost("", CreateWebhook).AcceptsBody<WebhookRequest>()
            .Produces<CreatedWebhookResponse>(StatusCodes.Status201Created).ProducesErrors(400, 409);
        group.MapGet("/{uid}", GetWebhook).Produces<WebhookResponse>().ProducesErrors(404);
        group.MapPatch("/{uid}", UpdateWebhook).AcceptsBody<WebhookRequest>()
            .Produces<WebhookResponse>().ProducesErrors(400, 404);
        group.MapDelete("/{uid}", DeleteWebhook).Produces(StatusCodes.Status204NoContent).ProducesErrors(404);
        group.MapPost("/{uid}/test", TestWebhook).Produces<WebhookTestResponse>().ProducesErrors(404, 409);
        group.MapGet("/{uid}/deliveries", ListDeliveries).Produces<Page<DeliveryResponse>>().ProducesErrors(400, 404);

        var deliveries = api.MapGroup("/webhook-deliveries").WithTags("Webhooks");
        deliveries.MapGet("", ListWebhookDeliveries).Produces<Page<WebhookDeliveryResponse>>().ProducesErrors(400);
        deliveries.MapGet("/{uid}", GetWebhookDelivery).Produces<WebhookDeliveryResponse>().ProducesErrors(404);
        return api;
    }

    private static WebhookResponse ToResponse(Webhook w) => new(w.Uid, w.Url, w.Url, w.Events.Split(' '), w.IsActive, w.CreatedAt, w.UpdatedAt);

    private static WebhookDeliveryResponse ToResponse(WebhookDelivery d, Guid webhookUid) => new(
        d.Uid, webhookUid, d.Event, new RawJson(d.Payload), d.LastStatusCode, d.LastResponseBody, d.Attempts,
        d.Status == DeliveryStatus.Pending ? d.NextAttemptAt : null, d.Status, d.LastError, d.CreatedAt, d.UpdatedAt, d.DeliveredAt);

    private static IQueryable<Webhook> OrganizationWebhooks(AnnexDbContext db, HttpContext http)
    {
        var organizationId = http.Caller().OrganizationId;
        return db.Set<Webhook>().AsNoTracking().Where(w => w.OrganizationId == organizationId);
    }

    private static async Task<Webhook?> FindAsync(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct) =>
        Guid.TryParse(uid, out var parsed) ? await OrganizationWebhooks(db, http).SingleOrDefaultAsync(w => w.Uid == parsed, ct) : null;

    private static Task<IResult> ListWebhooks(HttpContext http, AnnexDbContext db, CancellationToken ct) =>
        IdPaging.PageAsync<Webhook, WebhookResponse>(
            http.Request,
            OrganizationWebhooks(db, http),
            (rows, _) => Task.FromResult<IReadOnlyList<WebhookResponse>>([.. rows.Select(ToResponse)]),
            ct);

    private static async Task<IResult> GetWebhook(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct) =>
        await FindAsync(uid, http, db, ct) is { } webhook ? Results.Json(ToResponse(webhook), ApiJson.Options) : ApiErrors.NotFound();

    private static async Task<IResult> DeleteWebhook(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (await FindAsync(uid, http, db, ct) is not { } webhook)
        {
            return ApiErrors.NotFound();
        }

        await db.Set<Webhook>().Where(w => w.Id == webhook.Id).ExecuteDeleteAsync(ct);
        return Results.NoContent();
    }

    private static async Task<IResult> ListDeliveries(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        if (await FindAsync(uid, http, db, ct) is not { } webhook)
        {
            return ApiErrors.NotFound();
        }

        return await IdPaging.PageAsync<WebhookDelivery, DeliveryResponse>(
            http.Request,
            db.Set<WebhookDelivery>().AsNoTracking().Where(d => d.WebhookId == webhook.Id),
            (rows, _) => Task.FromResult<IReadOnlyList<DeliveryResponse>>([.. rows.Select(d => new DeliveryResponse(
                d.Uid, d.Event, d.Status, d.Attempts, d.LastStatusCode, d.LastError, d.CreatedAt, d.DeliveredAt,
                d.Status == DeliveryStatus.Pending ? d.NextAttemptAt : null))]),
            ct);
    }

    /// <summary>Every delivery of the organization's webhooks, oldest first; <c>subscription</c> (a webhook
    /// uid), <c>event_type</c> and <c>status</c> narrow it.</summary>
    private static async Task<IResult> ListWebhookDeliveries(HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var organizationId = http.Caller().OrganizationId;
        var query = db.Set<WebhookDelivery>().AsNoTracking().Include(d => d.Webhook).Where(d => d.Webhook.OrganizationId == organizationId);
        var errors = new ValidationErrors();
        var parameters = http.Request.Query;
        if (parameters.TryGetValue("subscription", out var subscription))
        {
            if (Guid.TryParse(subscription.ToString(), out var webhookUid))
            {
                query = query.Where(d => d.Webhook.Uid == webhookUid);
            }
            else
            {
                errors.Add("subscription", Fields.InvalidUuid);
            }
        }

        if (parameters.TryGetValue("event_type", out var eventType))
        {
            var name = eventType.ToString();
            query = query.Where(d => d.Event == name);
        }

        if (parameters.TryGetValue("status", out var statusValue))
        {
            var status = statusValue.ToString();
            if (status is DeliveryStatus.Pending or DeliveryStatus.Delivered or DeliveryStatus.Failed)
            {
                query = query.Where(d => d.Status == status);
            }
            else
            {
                errors.Add("status", $"Select a valid choice. {status} is not one of the available choices.");
            }
        }

        if (errors.Any)
        {
            return errors.ToResult();
        }

        return await IdPaging.PageAsync<WebhookDelivery, WebhookDeliveryResponse>(
            http.Request,
            query,
            (rows, _) => Task.FromResult<IReadOnlyList<WebhookDeliveryResponse>>([.. rows.Select(d => ToResponse(d, d.Webhook.Uid))]),
            ct);
    }

    private static async Task<IResult> GetWebhookDelivery(string uid, HttpContext http, AnnexDbContext db, CancellationToken ct)
    {
        var organizationId = http.Caller().OrganizationId;
        var delivery = Guid.TryParse(uid, out var parsed)
            ? await db.Set<WebhookDelivery>().AsNoTracking().Include(d => d.Webhook)
                .SingleOrDefaultAsync(d => d.Uid == parsed && d.Webhook.OrganizationId == organizationId, ct)
            : null;
        return delivery is null ? ApiErrors.NotFound() : Results.Json(ToResponse(delivery, delivery.Webhook.Uid), ApiJson.Options);
    }

    /// <summary>Sends a signed <c>webhook.test</c> event now, through the same outbox and sender as every
    /// event (even to an inactive webhook: the caller asked for it), and answers with the outcome. A test
    /// that fails is not retried.</summary>
    private static async Task<IResult> TestWebhook(string uid, HttpContext http, AnnexDbContext db, WebhookDeliverer deliverer, IOptions<WebhookOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (await FindAsync(uid, http, db, ct) is not { } webhook)
        {
            return ApiErrors.NotFound();
        }

        // Held for this request, which sends it at once; should this process die first, the background
        // sender takes it when the hold runs out.
        var now = Clock.UtcNow(time);
        var delivery = await WebhookOutbox.EnqueueTestEventAsync(db, webhook, now, now + options.Value.RequestTimeout + TimeSpan.FromSeconds(30), ct);
        await deliverer.SendNowAsync(delivery.Id, ct);
        var sent = await db.Set<WebhookDelivery>().AsNoTracking().SingleAsync(d => d.Id == delivery.Id, ct);
        return Results.Json(new WebhookTestResponse(sent.Status == DeliveryStatus.Delivered, ToResponse(sent, webhook.Uid)), ApiJson.Options);
    }

    private static async Task<IResult> CreateWebhook(HttpContext http, AnnexDbContext db, IOptions<WebhookOptions> options, TimeProvider time, CancellationToken ct)
    {
        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var body = document!.RootElement;
        var errors = new ValidationErrors();
        var url = ReadTargetUrl(body, required: true, options.Value, errors);
        var events = Fields.ChoiceList(body, "events", WebhookEvents.All, "events", errors, required: true);
        var isActive = ReadBoolean(body, "is_active", errors);
        var secret = Fields.Text(body, "secret", errors, required: false, allowNull: true, maxLength: 255);
        if (errors.Any)
        {
            return errors.ToResult();
        }

        var webhook = new Webhook
        {
            Uid = Guid.NewGuid(),
            OrganizationId = http.Caller().OrganizationId,
            Url = url!,
            Events = string.Join(' ', events!),
            Secret = secret ?? "whsec_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24)),
            IsActive = isActive ?? true,
            CreatedAt = Clock.UtcNow(time),
        };
        webhook.UpdatedAt = webhook.CreatedAt;
        db.Add(webhook);
        await db.SaveChangesAsync(ct);
        return Results.Json(
            new CreatedWebhookResponse(webhook.Uid, webhook.Url, webhook.Url, events!, webhook.IsActive, webhook.CreatedAt, webhook.UpdatedAt, webhook.Secret),
            ApiJson.Options,
            statusCode: StatusCodes.Status201Created);
    }

    /// <summary>Changes what the body names: the address, the events, whether it is active, the secret.</summary>
    private static async Task<IResult> UpdateWebhook(string uid, HttpContext http, AnnexDbContext db, IOptions<WebhookOptions> options, TimeProvider time, CancellationToken ct)
    {
        if (await FindAsync(uid, http, db, ct) is not { } webhook)
        {
            return ApiErrors.NotFound();
        }

        var (document, error) = await JsonBody.ReadObjectAsync(http.Request, ct);
        if (error is not null)
        {
            return error;
        }

        using var _ = document;
        var body = document!.RootElement;
        var errors = new ValidationErrors();
        var url = ReadTargetUrl(body, required: false, options.Value, errors);
        var events = body.TryGetProperty("events", out var _) ? Fields.ChoiceList(body, "events", WebhookEvents.All, "events", errors, required: true) : null;
        var isActive = ReadBoolean(body, "is_active", errors);
        var secret = body.TryGetProperty("secret", out var _) ? Fields.Text(body, "secret", errors, maxLength: 255) : null;
        if (errors.Any)
        {
            return errors.ToResult();
        }

        webhook.Url = url ?? webhook.Url;
        webhook.Events = events is null ? webhook.Events : string.Join(' ', events);
        webhook.IsActive = isActive ?? webhook.IsActive;
        webhook.Secret = secret ?? webhook.Secret;
        webhook.UpdatedAt = Clock.UtcNow(time);
        db.Update(webhook);
        await db.SaveChangesAsync(ct);
        return Results.Json(ToResponse(webhook), ApiJson.Options);
    }

    /// <summary>Reads <c>target_url</c>, or <c>url</c> as Annex first named it; errors stand under the name
    /// the client used. Both may be sent when they agree.</summary>
    private static string? ReadTargetUrl(JsonElement body, bool required, WebhookOptions options, ValidationErrors errors)
    {
        var hasTarget = body.TryGetProperty("target_url", out var _);
        var hasUrl = body.TryGetProperty("url", out var _);
        if (!hasTarget && !hasUrl)
        {
            if (required)
            {
                errors.Add("target_url", Fields.Required);
            }

            return null;
        }

        var countBefore = errors.Count;
        var target = hasTarget ? Fields.Text(body, "target_url", errors, maxLength: MaxUrlLength) : null;
        var alias = hasUrl ? Fields.Text(body, "url", errors, maxLength: MaxUrlLength) : null;
        if (errors.Count != countBefore)
        {
            return null;
        }

        if (hasTarget && hasUrl && !string.Equals(target, alias, StringComparison.Ordinal))
        {
            errors.Add("url", "url is another name for target_url; send one of them, or the same address in both.");
            return null;
        }

        var field = hasTarget ? "target_url" : "url";
        var url = (target ?? alias)!;
        if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps) || parsed.Host.Length == 0)
        {
            errors.Add(field, "Enter a valid URL with the http or https scheme.");
        }
        else if (!string.IsNullOrEmpty(parsed.UserInfo))
        {
            errors.Add(field, "The URL must not contain a user name or password; sign deliveries with the secret instead.");
        }
        else if (!options.AllowPrivateAddresses && WebhookAddresses.NamesPrivateHost(parsed))
        {
            errors.Add(field, "Webhooks may not point at loopback or private addresses on this server.");
        }

        return errors.Count == countBefore ? url : null;
    }

    /// <summary>An optional JSON boolean; absent gives null.</summary>
    private static bool? ReadBoolean(JsonElement body, string name, ValidationErrors errors)
    {
        if (!body.TryGetProperty(name, out var value))
        {
            return null;
        }

        switch (value.ValueKind)
        {
            case JsonValueKind.True:
                return true;
            case JsonValueKind.False:
                return false;
            case JsonValueKind.Null:
                errors.Add(name, Fields.NotNull);
                return null;
            default:
                errors.Add(name, InvalidBoolean);
                return null;
        }
    }
}
