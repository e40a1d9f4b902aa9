using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Xunit;

namespace Annex.Server.Tests.Hardening;

public sealed class OperationsTests
{
    [Fact]
    public async Task Healthz_and_readyz_answer_without_a_key_and_readyz_names_each_check()
    {
        using var factory = new AnnexFactory();
        using var anonymous = factory.CreateClientWithKey(null);

        var (liveStatus, live) = await anonymous.GetJsonAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, liveStatus);
        Api.AssertJson("""{"status": "healthy", "checks": {}}""", live);

        var (readyStatus, ready) = await anonymous.GetJsonAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, readyStatus);
        Api.AssertJson("""{"status": "healthy", "checks": {"database": {"status": "healthy"}, "storage": {"status": "healthy"}}}""", ready);
    }

    [Fact]
    public async Task Readyz_is_503_and_says_which_part_failed_when_storage_cannot_be_written()
    {
        using var factory = new AnnexFactory();
        using var anonymous = factory.CreateClientWithKey(null);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetJsonAsync("/readyz")).Status);
        Directory.Delete(Path.Combine(factory.DataPath, "tmp"), recursive: true);

        var (status, body) = await anonymous.GetJsonAsync("/readyz");
        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Equal("unhealthy", body!["status"]!.GetValue<string>());
        Assert.Equal("healthy", body["checks"]!["database"]!["status"]!.GetValue<string>());
        Assert.Equal("unhealthy", body["checks"]!["storage"]!["status"]!.GetValue<string>());
        Assert.StartsWith("The blob store does not answer: DirectoryNotFoundException", body["checks"]!["storage"]!["error"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetJsonAsync("/healthz")).Status);
    }

    [Fact]
    public async Task Health_checks_do_not_count_against_the_rate_limit()
    {
        using var factory = new AnnexFactory(settings: new Dictionary<string, string?> { ["RateLimiting:PermitLimit"] = "2", ["RateLimiting:BurstLimit"] = "2" });
        using var anonymous = factory.CreateClientWithKey(null);
        for (var i = 0; i < 10; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await anonymous.GetJsonAsync("/readyz")).Status);
        }
    }

    [Theory]
    [InlineData("/api/v1/exports/", true)]
    [InlineData("/api/v1/exports/", false)]
    [InlineData("/api/v1/no-such-thing/", true)]
    public async Task Every_response_carries_security_headers_and_a_request_id(string path, bool withKey)
    {
        using var factory = new AnnexFactory();
        var tenant = await factory.CreateTenantAsync();
        using var client = withKey ? factory.CreateClientWithKey(tenant.Key.Key) : factory.CreateClientWithKey(null);
        using var response = await client.GetAsync(path);

        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("DENY", response.Headers.GetValues("X-Frame-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.True(response.Headers.CacheControl?.NoStore);
        Assert.False(string.IsNullOrWhiteSpace(response.Headers.GetValues("X-Request-Id").Single()));
    }

    [Fact]
    public async Task A_plain_request_id_from_the_caller_is_kept_and_an_unsafe_one_is_replaced()
    {
        using var factory = new AnnexFactory();
        using var client = factory.CreateClientWithKey(null);
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/healthz"))
        {
            request.Headers.Add("X-Request-Id", "job-42.retry_1");
            using var response = await client.SendAsync(request);
            Assert.Equal("job-42.retry_1", response.Headers.GetValues("X-Request-Id").Single());
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/healthz"))
        {
            request.Headers.TryAddWithoutValidation("X-Request-Id", "bad id\"<script>");
            using var response = await client.SendAsync(request);
            var id = response.Headers.GetValues("X-Request-Id").Single();
            Assert.NotEqual("bad id\"<script>", id);
            Assert.DoesNotContain(' ', id);
        }
    }

    [Fact]
    public async Task The_api_reference_page_renders_the_openapi_document()
    {
        using var factory = new AnnexFactory();
        using var client = factory.CreateClientWithKey(null);

        using var page = await client.GetAsync("/reference");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType?.MediaType);
        Assert.Equal("default-src 'self'; frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single());
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("/reference/reference.js", html, StringComparison.Ordinal);
        Assert.Contains("/openapi/v1.json", html, StringComparison.Ordinal);

        using var script = await client.GetAsync("/reference/reference.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Contains("/openapi/v1.json", await script.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/reference/reference.css")).StatusCode);

        var openApi = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        var paths = openApi["paths"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains(paths, p => p.StartsWith("/api/v1/exports", StringComparison.Ordinal));
        Assert.Contains(paths, p => p.StartsWith("/api/v1/datasets", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_hosted_service_registered_before_every_other_starts_on_a_migrated_database()
    {
        var probe = new SchemaProbe();
        using var factory = new AnnexFactory(services: services =>
            services.Insert(0, ServiceDescriptor.Singleton<IHostedService>(sp => probe.Bind(sp))));

        await factory.CreateTenantAsync();

        Assert.True(probe.Outcome.IsCompleted);
        Assert.Null(await probe.Outcome);
    }

    /// <summary>Reads a table when it starts: a start ahead of the migrations would find no table.</summary>
    private sealed class SchemaProbe : IHostedService
    {
        private readonly TaskCompletionSource<Exception?> _outcome = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private IServiceProvider? _services;

        public Task<Exception?> Outcome => _outcome.Task;

        public SchemaProbe Bind(IServiceProvider services)
        {
            _services = services;
            return this;
        }

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            try
            {
                await using var scope = _services!.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<Annex.Server.Infrastructure.Data.AnnexDbContext>();
                await db.Organizations.CountAsync(cancellationToken);
                _outcome.TrySetResult(null);
            }
            catch (Exception ex)
            {
                _outcome.TrySetResult(ex);
            }
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
