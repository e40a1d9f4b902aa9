using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Annex.Server.Hosting;
using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Webhooks;

/// <summary>
/// Sends due deliveries: a POST of the stored body with <c>X-Avala-Webhook-Event</c>,
/// <c>X-Avala-Webhook-Delivery</c> and <c>X-Avala-Webhook-Signature</c> (lowercase hex HMAC-SHA256 of the
/// body, keyed with the webhook's secret). A 2xx answer delivers it; anything else is retried after
/// <see cref="WebhookOptions.RetryBaseDelay"/>, doubling each time, until
/// <see cref="WebhookOptions.MaxAttempts"/>. Replicas claim a delivery by moving its due time forward
/// in one conditional update, so each attempt is made by one process.
/// </summary>
public sealed class WebhookDeliverer(
    IDbContextFactory<AnnexDbContext> contexts,
    IOptions<WebhookOptions> options,
    IOptions<ServerOptions> server,
    TimeProvider time,
    ILogger<WebhookDeliverer> logger) : PeriodicWork(time, logger)
{
    public const string EventHeader = "X-Avala-Webhook-Event";
    public const string DeliveryHeader = "X-Avala-Webhook-Delivery";
    public const string SignatureHeader = "X-Avala-Webhook-Signature";
    public const int MaxResponseBodyLength = 1000;
    private const int MaxErrorLength = 500;
    private readonly WebhookOptions _options = options.Value;
    private readonly HttpClient _http = new(WebhookAddresses.CreateHandler(options.Value.AllowPrivateAddresses)) { Timeout = options.Value.RequestTimeout };

    public static string Sign(string secret, string body) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(body)));

    protected override TimeSpan Interval => _options.PollInterval;

    protected override string Description => "Sending webhook deliveries";

    protected override bool Enabled => server.Value.RunsWorker;

    protected override async Task RunOnceAsync(CancellationToken cancellationToken)
    {
        while (await SendNextAsync(cancellationToken))
        {
        }
    }

    /// <summary>Sends one due delivery; false when none is due. Deliveries of an inactive webhook wait until
    /// it is active again.</summary>
    public async Task<bool> SendNextAsync(CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var now = Clock.UtcNow(Time);
        var due = await Due(db.Set<WebhookDelivery>().AsNoTracking()
                .Where(d => d.Status == DeliveryStatus.Pending && d.NextAttemptAt <= now && d.Webhook.IsActive)
                .OrderBy(d => d.NextAttemptAt).ThenBy(d => d.Id))
            .FirstOrDefaultAsync(cancellationToken);
        if (due is not null)
        {
            await AttemptAsync(db, due, now, cancellationToken);
        }

        return due is not null;
    }

    /// <summary>Makes the next attempt of one pending delivery now, whether or not it is due; false when it
    /// is no longer pending or another process holds it.</summary>
    public async Task<bool> SendNowAsync(long deliveryId, CancellationToken cancellationToken)
    {
        await using var db = await contexts.CreateDbContextAsync(cancellationToken);
        var due = await Due(db.Set<WebhookDelivery>().AsNoTracking().Where(d => d.Id == deliveryId && d.Status == DeliveryStatus.Pending)).SingleOrDefaultAsync(cancellationToken);
        return due is not null && await AttemptAsync(db, due, Clock.UtcNow(Time), cancellationToken);
    }

    private sealed record DueDelivery(long Id, Guid Uid, string Event, string Payload, int Attempts, DateTime NextAttemptAt, string Url, string Secret);

    private static IQueryable<DueDelivery> Due(IQueryable<WebhookDelivery> deliveries) =>
        deliveries.Select(d => new DueDelivery(d.Id, d.Uid, d.Event, d.Payload, d.Attempts, d.NextAttemptAt, d.Webhook.Url, d.Webhook.Secret));

    /// <summary>Claims the delivery, sends it once and records the outcome; false when another process
    /// claimed it first.</summary>
    private async Task<bool> AttemptAsync(AnnexDbContext db, DueDelivery due, DateTime now, CancellationToken cancellationToken)
    {
        // The claim: whoever moves the due time first sends this attempt; it comes back due if we die.
        var claimedUntil = now + _options.RequestTimeout + TimeSpan.FromSeconds(30);
        var claimed = await db.Set<WebhookDelivery>()
            .Where(d => d.Id == due.Id && d.Status == DeliveryStatus.Pending && d.NextAttemptAt == due.NextAttemptAt)
            .ExecuteUpdateAsync(s => s.SetProperty(d => d.NextAttemptAt, claimedUntil), cancellationToken);
        if (claimed == 0)
        {
            return false;
        }

        int? statusCode = null;
        string? error = null;
        string? responseBody = null;
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, due.Url)
            {
                Content = new StringContent(due.Payload, Encoding.UTF8, "application/json"),
            };
            request.Headers.Add(EventHeader, due.Event);
            request.Headers.Add(DeliveryHeader, due.Uid.ToString());
            request.Headers.Add(SignatureHeader, Sign(due.Secret, due.Payload));
            request.Headers.UserAgent.ParseAdd("Annex-Webhooks/1");
            using var response = await _http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
            statusCode = (int)response.StatusCode;
            responseBody = await ReadStartAsync(response, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                error = $"The receiver answered {statusCode.Value.ToString(CultureInfo.InvariantCulture)}.";
            }
        }
        // Any failure (refused address, TLS, timeout, bad URL) is a failed attempt, retried like a 500.
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            error = ex is TaskCanceledException ? $"No answer within {_options.RequestTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s." : ex.Message;
        }

        var attempts = due.Attempts + 1;
        var finished = Clock.UtcNow(Time);
        if (error is null)
        {
            await db.Set<WebhookDelivery>().Where(d => d.Id == due.Id).ExecuteUpdateAsync(
                s => s.SetProperty(d => d.Status, DeliveryStatus.Delivered)
                    .SetProperty(d => d.Attempts, attempts)
                    .SetProperty(d => d.LastStatusCode, statusCode)
                    .SetProperty(d => d.LastError, (string?)null)
                    .SetProperty(d => d.LastResponseBody, responseBody)
                    .SetProperty(d => d.DeliveredAt, finished)
                    .SetProperty(d => d.UpdatedAt, finished),
                CancellationToken.None);
            return true;
        }

        // A test event's caller sees the outcome at once, so it is not retried.
        var givenUp = attempts >= _options.MaxAttempts || due.Event == WebhookEvents.Test;
        var next = finished + (_options.RetryBaseDelay * Math.Pow(2, attempts - 1));
        var message = error.Length > MaxErrorLength ? error[..MaxErrorLength] : error;
        await db.Set<WebhookDelivery>().Where(d => d.Id == due.Id).ExecuteUpdateAsync(
            s => s.SetProperty(d => d.Status, givenUp ? DeliveryStatus.Failed : DeliveryStatus.Pending)
                .SetProperty(d => d.Attempts, attempts)
                .SetProperty(d => d.LastStatusCode, statusCode)
                .SetProperty(d => d.LastError, message)
                .SetProperty(d => d.LastResponseBody, responseBody)
                .SetProperty(d => d.NextAttemptAt, next)
                .SetProperty(d => d.UpdatedAt, finished),
            CancellationToken.None);
        logger.LogInformation("Webhook delivery {Delivery} attempt {Attempt} failed: {Error}{GivenUp}", due.Uid, attempts, message, givenUp ? " (given up)" : "");
        return true;
    }

    /// <summary>The first <see cref="MaxResponseBodyLength"/> characters of the answer, read within the
    /// request timeout; null when there is none or it does not come in time.</summary>
    private async Task<string?> ReadStartAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.RequestTimeout);
        try
        {
            await using var stream = await response.Content.ReadAsStreamAsync(timeout.Token);
            var buffer = new byte[MaxResponseBodyLength * 4];
            var length = 0;
            int read;
            while (length < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(length), timeout.Token)) > 0)
            {
                length += read;
            }

            // PostgreSQL text holds no NUL, and a cut must not split a surrogate pair.
            var text = Encoding.UTF8.GetString(buffer, 0, length).Replace('\0', '\uFFFD');
            if (text.Length > MaxResponseBodyLength)
            {
                text = text[..(char.IsHighSurrogate(text[MaxResponseBodyLength - 1]) ? MaxResponseBodyLength - 1 : MaxResponseBodyLength)];
            }

            return text.Length == 0 ? null : text;
        }
        catch (Exception ex) when ((ex is OperationCanceledException or IOException or HttpRequestException) && !cancellationToken.IsCancellationRequested)
        {
            return null;
        }
    }

    public override void Dispose()
    {
        _http.Dispose();
        base.Dispose();
    }
}
