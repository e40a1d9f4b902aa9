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
            return Interlocked.Increment(ref calls) <= failures ? Results.StatusCode(500) : Results.Ok();
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
}
