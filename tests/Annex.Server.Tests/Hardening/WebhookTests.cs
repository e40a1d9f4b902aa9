using System.Collections.Concurrent;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Hardening;

public sealed class WebhookTests
{
    private sealed record Received(string Event, string Delivery, string Signature, string Body);

    /// <summary>A receiver on loopback that answers 500 to the first <paramref name="failures"/> deliveries.</summary>
    private static async Task<(WebApplication App, string Url, ConcurrentQueue<Received> Received)> StartReceiverAsync(int failures)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var received = new ConcurrentQueue<Received>();
        var calls = 0;
        app.MapPost("/hook", async (HttpContext context) =>
        {
            using var reader = new StreamReader(context.Request.Body, Encoding.UTF8);
            var body = await reader.ReadToEndAsync();
            received.Enqueue(new Received(
                context.Request.Headers["X-Avala-Webhook-Event"].ToString(),
                context.Request.Headers["X-Avala-Webhook-Delivery"].ToString(),
                context.Request.Headers["X-Avala-Webhook-Signature"].ToString(),
                body));
            return Interlocked.Increment(ref calls) <= failures ? Results.StatusCode(500) : Results.Text("received");
        });
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return (app, address + "/hook", received);
    }

    private static Dictionary<string, string?> Settings(bool allowPrivate) => new()
    {
        ["Webhooks:AllowPrivateAddresses"] = allowPrivate ? "true" : "false",
        ["Webhooks:RetryBaseDelay"] = "00:00:00.100",
        ["Webhooks:PollInterval"] = "00:00:00.100",
    };

    [Fact]
    public async Task A_receiver_that_fails_twice_gets_a_correctly_signed_delivery_on_the_third_attempt()
    {
        var (receiver, url, received) = await StartReceiverAsync(failures: 2);
        await using var _ = receiver;
        using var factory = new AnnexFactory(settings: Settings(allowPrivate: true));
        var tenant = await factory.CreateTenantAsync();
        var webhook = await tenant.Http.PostOkAsync("/api/v1/webhooks/", new { url, events = new[] { "export.completed", "export.failed" }, secret = "s3cret" });
        Assert.Equal("s3cret", webhook["secret"]!.GetValue<string>());
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 2);
        var export = await Seed.ExportAsync(tenant.Http, "hooked", datasets: [dataset]);
        var exportUid = export["uid"]!.GetValue<string>();
        await Seed.WaitForAsync(tenant.Http, exportUid, ["exported"]);

        var deadline = DateTime.UtcNow.AddSeconds(60);
        JsonNode? delivery = null;
        while (DateTime.UtcNow < deadline)
        {
            var (_, log) = await tenant.Http.GetJsonAsync($"/api/v1/webhooks/{webhook["uid"]}/deliveries/");
            delivery = log!["results"]!.AsArray().SingleOrDefault();
            if (delivery?["status"]?.GetValue<string>() is "delivered" or "failed")
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.Equal("delivered", delivery!["status"]!.GetValue<string>());
        Assert.Equal(3, delivery["attempts"]!.GetValue<int>());
        Assert.Equal(200, delivery["last_status_code"]!.GetValue<int>());
        Assert.Equal(3, received.Count);
        Assert.Single(received.Select(r => r.Delivery).Distinct());
        foreach (var r in received)
        {
            Assert.Equal("export.completed", r.Event);
            var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("s3cret"), Encoding.UTF8.GetBytes(r.Body)));
            Assert.Equal(expected, r.Signature);
            var body = JsonNode.Parse(r.Body)!;
            Assert.Equal("export.completed", body["event"]!.GetValue<string>());
            Assert.Equal(r.Delivery, body["delivery"]!.GetValue<string>());
            Assert.Equal(exportUid, body["export"]!["uid"]!.GetValue<string>());
            Assert.Equal("exported", body["export"]!["status"]!.GetValue<string>());
        }
    }

    [Fact]
    public async Task Bad_webhooks_are_400_with_field_messages_and_private_addresses_need_the_operator_setting()
    {
        using var factory = new AnnexFactory(settings: Settings(allowPrivate: false));
        var tenant = await factory.CreateTenantAsync();

        var (status, body) = await tenant.Http.PostJsonAsync("/api/v1/webhooks/", new { url = "http://127.0.0.1:9/hook", events = new[] { "export.completed" } });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Api.AssertJson("""{"url": ["Webhooks may not point at loopback or private addresses on this server."]}""", body);
        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.Http.PostJsonAsync("/api/v1/webhooks/", new { url = "http://10.1.2.3/hook", events = new[] { "export.completed" } })).Status);
        Assert.Equal(HttpStatusCode.BadRequest, (await tenant.Http.PostJsonAsync("/api/v1/webhooks/", new { url = "http://localhost/hook", events = new[] { "export.completed" } })).Status);

        var (ftpStatus, ftp) = await tenant.Http.PostJsonAsync("/api/v1/webhooks/", new { url = "ftp://example.com/x", events = new[] { "export.nope" } });
        Assert.Equal(HttpStatusCode.BadRequest, ftpStatus);
        Api.AssertJson("""{"url": ["Enter a valid URL with the http or https scheme."], "events": {"0": ["\"export.nope\" is not a valid choice; the events are export.completed, export.failed."]}}""", ftp);

        var (emptyStatus, empty) = await tenant.Http.PostJsonAsync("/api/v1/webhooks/", new { url = "https://example.com/x", events = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.BadRequest, emptyStatus);
        Api.AssertJson("""{"events": ["This list may not be empty."]}""", empty);

        var (_, list) = await tenant.Http.GetJsonAsync("/api/v1/webhooks/");
        Assert.Empty(list!["results"]!.AsArray());
    }

    [Fact]
    public async Task Webhooks_are_listed_without_their_secret_deleted_and_invisible_to_other_organizations()
    {
        using var factory = new AnnexFactory(settings: Settings(allowPrivate: false));
        var tenant = await factory.CreateTenantAsync();
        var other = await factory.CreateTenantAsync("Other");
        var created = await tenant.Http.PostOkAsync("/api/v1/webhooks/", new { url = "https://hooks.example.com/annex", events = new[] { "export.failed" } });
        var uid = created["uid"]!.GetValue<string>();
        Assert.StartsWith("whsec_", created["secret"]!.GetValue<string>(), StringComparison.Ordinal);

        var (_, list) = await tenant.Http.GetJsonAsync("/api/v1/webhooks/");
        var listed = Assert.Single(list!["results"]!.AsArray());
        Assert.Null(listed!["secret"]);
        Assert.Equal(["export.failed"], listed["events"]!.AsArray().Select(e => e!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetJsonAsync($"/api/v1/webhooks/{uid}/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetJsonAsync($"/api/v1/webhooks/{uid}/deliveries/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.SendAsync(HttpMethod.Delete, $"/api/v1/webhooks/{uid}/")).Status);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.SendAsync(HttpMethod.Delete, $"/api/v1/webhooks/{uid}/")).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.Http.GetJsonAsync($"/api/v1/webhooks/{uid}/")).Status);
    }

    [Fact]
    public async Task Webhooks_take_target_url_or_url_and_is_active_and_patch_changes_only_what_it_names()
    {
        using var factory = new AnnexFactory(settings: Settings(allowPrivate: false));
        var tenant = await factory.CreateTenantAsync();
        var other = await factory.CreateTenantAsync("Other");

        var created = await tenant.Http.PostOkAsync("/api/v1/webhooks/", new { target_url = "https://hooks.example.com/a", events = new[] { "export.completed" }, is_active = false });
        Ingest.Shape.HasFields(created, "uid", "target_url", "url", "events", "is_active", "created_at", "updated_at", "secret");
        var uid = created["uid"]!.GetValue<string>();
        Assert.Equal("https://hooks.example.com/a", created["target_url"]!.GetValue<string>());
        Assert.Equal("https://hooks.example.com/a", created["url"]!.GetValue<string>());
        Assert.False(created["is_active"]!.GetValue<bool>());

        // The first name stays an alias, and a webhook is active unless told otherwise.
        var aliased = await tenant.Http.PostOkAsync("/api/v1/webhooks/", new { url = "https://hooks.example.com/old", events = new[] { "export.failed" } });
        Assert.Equal("https://hooks.example.com/old", aliased["target_url"]!.GetValue<string>());
        Assert.True(aliased["is_active"]!.GetValue<bool>());

        var (status, patched) = await tenant.Http.SendAsync(HttpMethod.Patch, $"/api/v1/webhooks/{uid}/", new { target_url = "https://hooks.example.com/b", is_active = true });
        Assert.Equal(HttpStatusCode.OK, status);
        Ingest.Shape.HasFields(patched, "uid", "target_url", "url", "events", "is_active", "created_at", "updated_at");
        Assert.Equal("https://hooks.example.com/b", patched!["target_url"]!.GetValue<string>());
        Assert.True(patched["is_active"]!.GetValue<bool>());
        Assert.Equal(["export.completed"], patched["events"]!.AsArray().Select(e => e!.GetValue<string>()));
        Assert.True(Ingest.Shape.Timestamp(patched["updated_at"]) > Ingest.Shape.Timestamp(created["updated_at"]));
        Api.AssertJson(patched.ToJsonString(), (await tenant.Http.GetJsonAsync($"/api/v1/webhooks/{uid}/")).Body);

        var (eventsStatus, events) = await tenant.Http.SendAsync(HttpMethod.Patch, $"/api/v1/webhooks/{uid}/", new { url = "https://hooks.example.com/b", events = new[] { "export.failed", "export.completed" } });
        Assert.Equal(HttpStatusCode.OK, eventsStatus);
        Assert.Equal(["export.failed", "export.completed"], events!["events"]!.AsArray().Select(e => e!.GetValue<string>()));

        foreach (var (body, expected) in new (object, string)[]
        {
            (new { url = "http://127.0.0.1:9/hook" }, """{"url": ["Webhooks may not point at loopback or private addresses on this server."]}"""),
            (new { target_url = "https://a.example.com/", url = "https://b.example.com/" }, """{"url": ["url is another name for target_url; send one of them, or the same address in both."]}"""),
            (new { is_active = "yes" }, """{"is_active": ["Must be a valid boolean."]}"""),
            (new { events = Array.Empty<string>(), target_url = (string?)null }, """{"target_url": ["This field may not be null."], "events": ["This list may not be empty."]}"""),
        })
        {
            var (refused, errors) = await tenant.Http.SendAsync(HttpMethod.Patch, $"/api/v1/webhooks/{uid}/", body);
            Assert.Equal(HttpStatusCode.BadRequest, refused);
            Api.AssertJson(expected, errors);
        }

        var (_, unchanged) = await tenant.Http.GetJsonAsync($"/api/v1/webhooks/{uid}/");
        Api.AssertJson(events.ToJsonString(), unchanged);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.SendAsync(HttpMethod.Patch, $"/api/v1/webhooks/{uid}/", new { is_active = false })).Status);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.PostJsonAsync($"/api/v1/webhooks/{uid}/test/", null)).Status);
    }

    [Fact]
    public async Task An_inactive_webhook_gets_no_events_and_a_test_event_is_signed_sent_once_and_listed_as_a_delivery()
    {
        var (receiver, url, received) = await StartReceiverAsync(failures: 0);
        await using var _ = receiver;
        using var factory = new AnnexFactory(settings: Settings(allowPrivate: true));
        var tenant = await factory.CreateTenantAsync();
        var other = await factory.CreateTenantAsync("Other");
        var active = (await tenant.Http.PostOkAsync("/api/v1/webhooks/", new { target_url = url, events = new[] { "export.completed" }, secret = "s1" }))["uid"]!.GetValue<string>();
        var inactive = (await tenant.Http.PostOkAsync("/api/v1/webhooks/", new { target_url = url + "?inactive", events = new[] { "export.completed" }, is_active = false }))["uid"]!.GetValue<string>();

        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 1);
        var export = (await Seed.ExportAsync(tenant.Http, "hooked", datasets: [dataset]))["uid"]!.GetValue<string>();
        await Seed.WaitForAsync(tenant.Http, export, ["exported"]);
        var completed = await WaitForDeliveryAsync(tenant.Http, $"/api/v1/webhook-deliveries/?subscription={active}");
        Assert.Equal("delivered", completed["status"]!.GetValue<string>());
        Assert.Equal("export.completed", completed["event_type"]!.GetValue<string>());
        Assert.Equal("received", completed["response_body"]!.GetValue<string>());
        Assert.Equal(export, completed["payload"]!["export"]!["uid"]!.GetValue<string>());
        Assert.Empty((await tenant.Http.GetJsonAsync($"/api/v1/webhook-deliveries/?subscription={inactive}")).Body!["results"]!.AsArray());

        var tested = await tenant.Http.PostOkAsync($"/api/v1/webhooks/{active}/test/", new { }, HttpStatusCode.OK);
        Assert.True(tested["success"]!.GetValue<bool>());
        var delivery = tested["delivery"]!;
        Ingest.Shape.HasFields(delivery, "uid", "subscription", "event_type", "payload", "response_status", "response_body", "attempts", "next_retry_at", "status", "error", "created_at", "updated_at", "delivered_at");
        Assert.Equal(active, delivery["subscription"]!.GetValue<string>());
        Assert.Equal("webhook.test", delivery["event_type"]!.GetValue<string>());
        Assert.Equal("delivered", delivery["status"]!.GetValue<string>());
        Assert.Equal(200, delivery["response_status"]!.GetValue<int>());
        Assert.Equal(1, delivery["attempts"]!.GetValue<int>());
        Assert.Null(delivery["next_retry_at"]);

        var sent = Assert.Single(received, r => r.Event == "webhook.test");
        Assert.Equal(delivery["uid"]!.GetValue<string>(), sent.Delivery);
        Assert.Equal(Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes("s1"), Encoding.UTF8.GetBytes(sent.Body))), sent.Signature);
        var payload = JsonNode.Parse(sent.Body)!;
        Assert.Equal("webhook.test", payload["event"]!.GetValue<string>());
        Assert.Equal(active, payload["webhook"]!["uid"]!.GetValue<string>());
        Api.AssertJson(sent.Body, delivery["payload"]);
        Assert.Single(received, r => r.Event == "export.completed");

        // An inactive webhook can still be tested: the caller asked for it.
        Assert.True((await tenant.Http.PostOkAsync($"/api/v1/webhooks/{inactive}/test/", new { }, HttpStatusCode.OK))["success"]!.GetValue<bool>());

        var (_, all) = await tenant.Http.GetJsonAsync("/api/v1/webhook-deliveries/");
        Assert.Equal(3, all!["results"]!.AsArray().Count);
        var (_, tests) = await tenant.Http.GetJsonAsync($"/api/v1/webhook-deliveries/?event_type=webhook.test&subscription={active}");
        Api.AssertJson($"[{delivery.ToJsonString()}]", tests!["results"]);
        Api.AssertJson(delivery.ToJsonString(), (await tenant.Http.GetJsonAsync($"/api/v1/webhook-deliveries/{delivery["uid"]}/")).Body);
        Assert.Equal(2, (await tenant.Http.GetJsonAsync($"/api/v1/webhooks/{active}/deliveries/")).Body!["results"]!.AsArray().Count);

        var (badStatus, bad) = await tenant.Http.GetJsonAsync("/api/v1/webhook-deliveries/?subscription=nope&status=sent");
        Assert.Equal(HttpStatusCode.BadRequest, badStatus);
        Api.AssertJson("""{"subscription": ["Must be a valid UUID."], "status": ["Select a valid choice. sent is not one of the available choices."]}""", bad);
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetJsonAsync($"/api/v1/webhook-deliveries/{delivery["uid"]}/")).Status);
        Assert.Empty((await other.Http.GetJsonAsync($"/api/v1/webhook-deliveries/?subscription={active}")).Body!["results"]!.AsArray());
    }

    [Fact]
    public async Task A_test_event_to_a_receiver_that_is_not_there_fails_once_with_the_reason_and_is_not_retried()
    {
        using var factory = new AnnexFactory(settings: Settings(allowPrivate: true));
        var tenant = await factory.CreateTenantAsync();
        var webhook = (await tenant.Http.PostOkAsync("/api/v1/webhooks/", new { target_url = "http://127.0.0.1:9/hook", events = new[] { "export.failed" } }))["uid"]!.GetValue<string>();

        var tested = await tenant.Http.PostOkAsync($"/api/v1/webhooks/{webhook}/test/", new { }, HttpStatusCode.OK);
        Assert.False(tested["success"]!.GetValue<bool>());
        var delivery = tested["delivery"]!;
        Assert.Equal("failed", delivery["status"]!.GetValue<string>());
        Assert.Equal(1, delivery["attempts"]!.GetValue<int>());
        Assert.Null(delivery["response_status"]);
        Assert.Null(delivery["next_retry_at"]);
        Assert.False(string.IsNullOrEmpty(delivery["error"]!.GetValue<string>()));

        // The retry delay here is 0.1 s: a retried delivery would have been tried again by now.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Api.AssertJson(delivery.ToJsonString(), (await tenant.Http.GetJsonAsync($"/api/v1/webhook-deliveries/{delivery["uid"]}/")).Body);
    }

    private static async Task<JsonNode> WaitForDeliveryAsync(HttpClient http, string listUrl)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var (_, list) = await http.GetJsonAsync(listUrl);
            if (list!["results"]!.AsArray().SingleOrDefault() is { } delivery && delivery["status"]!.GetValue<string>() != "pending")
            {
                return delivery;
            }

            Assert.True(DateTime.UtcNow < deadline, $"no finished delivery at {listUrl}: {list.ToJsonString()}");
            await Task.Delay(100);
        }
    }
}
