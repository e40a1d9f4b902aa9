using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Annex.Server.Tests.Infrastructure;
using Annex.Server.Tests.Ingest;
using Annex.Tests;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Hardening;

/// <summary>Http:MaxRequestBodyBytes: a larger body is a 413 with a detail, whether its length is announced
/// or it arrives in chunks, and writes nothing; media uploads keep their own, larger limit.</summary>
public sealed class RequestBodyLimitTests : IDisposable
{
    private const int Limit = 4096;

    private readonly AnnexFactory _factory = new(settings: new Dictionary<string, string?>
    {
        ["Http:MaxRequestBodyBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Media:MaxUploadBytes"] = "100000",
    });

    public void Dispose() => _factory.Dispose();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task A_body_over_the_limit_is_413_and_writes_nothing(bool announcedLength)
    {
        var tenant = await _factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var items = Enumerable.Range(0, 200).Select(i => new { ref_id = $"frame_{i:D5}", metadata = new { note = "a fairly long note to pad the body" } }).ToArray();
        var json = Api.Compact(new { items });
        Assert.True(json.Length > Limit);

        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/datasets/{dataset}/items/")
        {
            Content = announcedLength ? new StringContent(json, Encoding.UTF8, "application/json") : Chunked(json),
        };
        using var response = await tenant.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Api.AssertJson($$"""{"detail": "Request body is too large: at most {{Limit}} bytes are accepted."}""", System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        Assert.Empty(await tenant.Http.AllPagesAsync($"/api/v1/datasets/{dataset}/items/"));
    }

    [Fact]
    public async Task A_body_within_the_limit_is_read_as_usual_chunked_or_not()
    {
        var tenant = await _factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var json = Api.Compact(new { items = new[] { new { ref_id = "a" } } });
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/datasets/{dataset}/items/") { Content = Chunked(json) };
        using var response = await tenant.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
    }

    [Fact]
    public async Task Media_uploads_have_their_own_limit()
    {
        var tenant = await _factory.CreateTenantAsync();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        var item = (await Seed.ItemsAsync(tenant.Http, dataset, 1))[0];
        var image = TestImages.Jpeg(64, 48, app1Length: 20_000);
        Assert.True(image.Length > Limit);

        var file = new ByteArrayContent(image);
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        using var upload = new HttpRequestMessage(HttpMethod.Put, $"/api/v1/datasets/{dataset}/items/{item}/media/")
        {
            Content = new MultipartFormDataContent { { file, "file", "frame.jpg" } },
        };
        using var response = await tenant.Http.SendAsync(upload);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    /// <summary>Kestrel enforces the request's body limit itself while the body is read; the in-memory test
    /// server does not, so this runs against a real listener on 127.0.0.1.</summary>
    [Fact]
    public async Task A_chunked_body_over_the_limit_gets_the_documented_detail_from_kestrel_too()
    {
        var logs = new CapturedLogs();
        using var factory = new AnnexFactory(
            settings: new Dictionary<string, string?> { ["Http:MaxRequestBodyBytes"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture) },
            services: s => s.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        factory.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var tenant = await factory.CreateTenantAsync();
        using var http = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Add("X-Avala-Api-Key", tenant.Key.Key);
        var dataset = await Seed.DatasetAsync(http);
        var items = Enumerable.Range(0, 200).Select(i => new { ref_id = $"frame_{i:D5}", metadata = new { note = "a fairly long note to pad the body" } }).ToArray();
        // Only what the requests below log: a first start may log its own (EF probes the migrations table).
        var before = logs.Entries.Count;

        foreach (var idempotencyKey in new[] { null, "chunked-1" })
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/v1/datasets/{dataset}/items/") { Content = Chunked(Api.Compact(new { items })) };
            if (idempotencyKey is not null)
            {
                request.Headers.Add("Idempotency-Key", idempotencyKey);
            }

            using var response = await http.SendAsync(request);
            Assert.Null(request.Content.Headers.ContentLength);
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
            Api.AssertJson($$"""{"detail": "Request body is too large: at most {{Limit}} bytes are accepted."}""", System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync()));
        }

        Assert.Empty(await http.AllPagesAsync($"/api/v1/datasets/{dataset}/items/"));
        // A client's oversized body is not a server error.
        var errors = logs.Entries.Skip(before).Where(e => e.Level >= Microsoft.Extensions.Logging.LogLevel.Error).ToList();
        Assert.True(errors.Count == 0, "a refused body was logged as an error:\n" + string.Join('\n', errors.Take(3)));
    }

    /// <summary>Content with no Content-Length, sent in chunks.</summary>
    private static StreamContent Chunked(string json)
    {
        var content = new StreamContent(new NonSeekableStream(Encoding.UTF8.GetBytes(json)));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return content;
    }

    private sealed class NonSeekableStream(byte[] bytes) : MemoryStream(bytes)
    {
        public override bool CanSeek => false;
    }
}
