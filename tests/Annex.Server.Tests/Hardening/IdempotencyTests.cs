using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Annex.Server.Tests.Hardening;

public sealed class IdempotencyTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private static async Task<(HttpStatusCode Status, JsonNode? Body, bool Replayed)> PostWithKeyAsync(HttpClient client, string url, string body, string key)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.TryAddWithoutValidation("Idempotency-Key", key);
        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text), response.Headers.Contains("Idempotent-Replayed"));
    }

    private static string ExportBody(string dataset, string name = "nightly") =>
        Api.Compact(new { name, format = "avala-json-external", datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>() });

    private static async Task<int> ExportCountAsync(HttpClient client)
    {
        var (_, list) = await client.GetJsonAsync("/api/v1/exports/?limit=1000");
        return list!["results"]!.AsArray().Count;
    }

    [Fact]
    public async Task The_same_key_sent_50_times_at_once_creates_exactly_one_export()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var body = ExportBody(dataset);

        var answers = await Task.WhenAll(Enumerable.Range(0, 50).Select(_ => PostWithKeyAsync(tenant.Http, "/api/v1/exports/", body, "nightly-2026-12-03")));

        Assert.All(answers, a => Assert.Equal(HttpStatusCode.Created, a.Status));
        Assert.Single(answers.Select(a => a.Body!["uid"]!.GetValue<string>()).Distinct());
        Assert.Equal(49, answers.Count(a => a.Replayed));
        Assert.Equal(1, await ExportCountAsync(tenant.Http));
    }

    [Fact]
    public async Task A_retry_gets_the_original_response_and_a_different_body_with_the_same_key_is_409()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);

        var first = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", ExportBody(dataset), "k1");
        var retry = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", ExportBody(dataset), "k1");
        Assert.Equal(HttpStatusCode.Created, first.Status);
        Assert.False(first.Replayed);
        Assert.Equal(HttpStatusCode.Created, retry.Status);
        Assert.True(retry.Replayed);
        Assert.True(JsonNode.DeepEquals(first.Body, retry.Body));

        var other = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", ExportBody(dataset, "another name"), "k1");
        Assert.Equal(HttpStatusCode.Conflict, other.Status);
        Api.AssertJson("""{"detail": "This Idempotency-Key was already used for a different request (another path or body); send a new key for a new request."}""", other.Body);

        var otherPath = await PostWithKeyAsync(tenant.Http, "/api/v1/datasets/", Api.Compact(new { name = "d" }), "k1");
        Assert.Equal(HttpStatusCode.Conflict, otherPath.Status);

        var fresh = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", ExportBody(dataset), "k2");
        Assert.Equal(HttpStatusCode.Created, fresh.Status);
        Assert.NotEqual(first.Body!["uid"]!.GetValue<string>(), fresh.Body!["uid"]!.GetValue<string>());
        Assert.Equal(2, await ExportCountAsync(tenant.Http));
    }

    [Fact]
    public async Task Keys_belong_to_one_organization()
    {
        var acme = await fixture.Factory.CreateTenantAsync("Acme");
        var other = await fixture.Factory.CreateTenantAsync("Other");
        var acmeDataset = await Seed.DatasetAsync(acme.Http);
        var otherDataset = await Seed.DatasetAsync(other.Http);

        var a = await PostWithKeyAsync(acme.Http, "/api/v1/exports/", ExportBody(acmeDataset), "shared-key");
        var b = await PostWithKeyAsync(other.Http, "/api/v1/exports/", ExportBody(otherDataset), "shared-key");
        Assert.Equal(HttpStatusCode.Created, a.Status);
        Assert.Equal(HttpStatusCode.Created, b.Status);
        Assert.False(b.Replayed);
        Assert.NotEqual(a.Body!["uid"]!.GetValue<string>(), b.Body!["uid"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_rejected_request_is_replayed_as_rejected_and_a_bad_key_is_400()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var bad = Api.Compact(new { name = "x", format = "no-such-format", datasets = Array.Empty<string>(), projects = Array.Empty<string>(), slices = Array.Empty<string>() });
        var first = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", bad, "k-bad");
        var again = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", bad, "k-bad");
        Assert.Equal(HttpStatusCode.BadRequest, first.Status);
        Assert.Equal(HttpStatusCode.BadRequest, again.Status);
        Assert.True(JsonNode.DeepEquals(first.Body, again.Body));
        Assert.Equal(0, await ExportCountAsync(tenant.Http));

        var tooLong = await PostWithKeyAsync(tenant.Http, "/api/v1/datasets/", Api.Compact(new { name = "d" }), new string('k', 256));
        Assert.Equal(HttpStatusCode.BadRequest, tooLong.Status);
        Api.AssertJson("""{"detail": "The Idempotency-Key header must be one value of 1 to 255 visible ASCII characters."}""", tooLong.Body);
        var (_, datasets) = await tenant.Http.GetJsonAsync("/api/v1/datasets/");
        Assert.Empty(datasets!["results"]!.AsArray());
    }

    [Fact]
    public async Task Replays_and_concurrent_retries_log_no_error_or_warning()
    {
        var logs = new CapturedLogs();
        using var factory = new AnnexFactory(
            settings: new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information" },
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var tenant = await factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var body = ExportBody(dataset);
        // Only what the requests below log: a first start may log its own (EF probes the migrations table).
        var before = logs.Entries.Count;

        var concurrent = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ => PostWithKeyAsync(tenant.Http, "/api/v1/exports/", body, "together")));
        var first = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", body, "alone");
        var replay = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", body, "alone");
        var conflict = await PostWithKeyAsync(tenant.Http, "/api/v1/exports/", ExportBody(dataset, "other"), "alone");

        Assert.Equal(9, concurrent.Count(a => a.Replayed));
        Assert.False(first.Replayed);
        Assert.True(replay.Replayed);
        Assert.Equal(HttpStatusCode.Conflict, conflict.Status);
        var entries = logs.Entries.Skip(before).ToList();
        Assert.Contains(entries, e => e.Level == LogLevel.Information);
        var loud = entries.Where(e => e.Level >= LogLevel.Warning || e.Exception is not null).ToList();
        Assert.True(loud.Count == 0, "handled idempotent requests were logged as problems:\n" + string.Join('\n', loud.Take(3)));
    }
}
