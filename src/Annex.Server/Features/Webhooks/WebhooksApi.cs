using System.Security.Cryptography;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Webhooks;

public sealed record WebhookResponse(Guid Uid, string Url, IReadOnlyList<string> Events, DateTime CreatedAt);

/// <summary>The answer to a create: the only time the secret is shown.</summary>
public sealed record CreatedWebhookResponse(Guid Uid, string Url, IReadOnlyList<string> Events, DateTime CreatedAt, string Secret);

public sealed record DeliveryResponse(Guid Uid, string Event, string Status, int Attempts, int? LastStatusCode, string? LastError, DateTime CreatedAt, DateTime? DeliveredAt, DateTime? NextAttemptAt);

public static class WebhooksApi
{
    private const int MaxUrlLength = 2000;

    public static RouteGroupBuilder MapWebhooksApi(this RouteGroupBuilder api)
    {
        var group = api.MapGroup("/webhooks").WithTags("Webhooks");
        group.MapGet("", ListWebhooks);
        group.MapPost("", CreateWebhook);
        group.MapGet("/{uid}", GetWebhook);
        group.MapDelete("/{uid}", DeleteWebhook);
        group.MapGet("/{uid}/deliveries", ListDeliveries);
        return api;
    }

    private static WebhookResponse ToResponse(Webhook w) => new(w.Uid, w.Url, w.Events.Split(' '), w.CreatedAt);

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
        var url = Fields.Text(body, "url", errors, maxLength: MaxUrlLength);
        if (url is not null)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out var parsed) || (parsed.Scheme != Uri.UriSchemeHttp && parsed.Scheme != Uri.UriSchemeHttps) || parsed.Host.Length == 0)
            {
                errors.Add("url", "Enter a valid URL with the http or https scheme.");
            }
            else if (!string.IsNullOrEmpty(parsed.UserInfo))
            {
                errors.Add("url", "The URL must not contain a user name or password; sign deliveries with the secret instead.");
            }
            else if (!options.Value.AllowPrivateAddresses && WebhookAddresses.NamesPrivateHost(parsed))
            {
                errors.Add("url", "Webhooks may not point at loopback or private addresses on this server.");
            }
        }

        var events = Fields.ChoiceList(body, "events", WebhookEvents.All, "events", errors, required: true);
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
            CreatedAt = Clock.UtcNow(time),
        };
        webhook.UpdatedAt = webhook.CreatedAt;
        db.Add(webhook);
        await db.SaveChangesAsync(ct);
        return Results.Json(
            new CreatedWebhookResponse(webhook.Uid, webhook.Url, events!, webhook.CreatedAt, webhook.Secret),
            ApiJson.Options,
            statusCode: StatusCodes.Status201Created);
    }
}
