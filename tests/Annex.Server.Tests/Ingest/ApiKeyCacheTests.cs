using System.Net;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Xunit;

namespace Annex.Server.Tests.Ingest;

public sealed class ApiKeyCacheTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private static readonly DateTime Now = new(2026, 12, 5, 12, 0, 0, DateTimeKind.Utc);

    [Fact]
    public async Task Key_revoked_through_the_api_is_refused_on_the_next_request()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var created = await tenant.Http.PostOkAsync("/api/v1/api-keys/", new { name = "pipeline", scopes = new[] { "exports.read" } });
        using var client = fixture.Factory.CreateClientWithKey(created["key"]!.GetValue<string>());
        // Twice, so the second answer comes from the cached key.
        Assert.Equal(HttpStatusCode.OK, (await client.GetJsonAsync("/api/v1/exports/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await client.GetJsonAsync("/api/v1/exports/")).Status);

        using (var revoked = await tenant.Http.DeleteAsync($"/api/v1/api-keys/{created["uid"]!.GetValue<string>()}/"))
        {
            Assert.True(revoked.IsSuccessStatusCode);
        }

        var (status, body) = await client.GetJsonAsync("/api/v1/exports/");
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Api.AssertJson("""{"detail": "Invalid API key."}""", body);
    }

    [Fact]
    public void A_verified_key_is_kept_until_cleared()
    {
        var cache = Cache(TimeSpan.FromSeconds(5), new ManualTime());
        var key = Key("a", expiresAt: null);
        cache.Add(key, cache.Generation);
        Assert.Same(key, cache.Find("a", Now));
        Assert.Null(cache.Find("b", Now));

        cache.Clear();
        Assert.Null(cache.Find("a", Now));
    }

    [Fact]
    public void A_key_revoked_while_it_was_looked_up_is_not_kept()
    {
        var cache = Cache(TimeSpan.FromSeconds(5), new ManualTime());
        var generation = cache.Generation;
        cache.Clear();
        cache.Add(Key("a", expiresAt: null), generation);
        Assert.Null(cache.Find("a", Now));
    }

    [Fact]
    public void A_key_is_trusted_for_the_cache_duration_and_never_past_its_expiry()
    {
        var time = new ManualTime();
        var cache = Cache(TimeSpan.FromSeconds(5), time);
        cache.Add(Key("a", expiresAt: null), cache.Generation);
        cache.Add(Key("b", expiresAt: Now.AddSeconds(1)), cache.Generation);
        Assert.NotNull(cache.Find("b", Now));
        Assert.Null(cache.Find("b", Now.AddSeconds(1)));

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.NotNull(cache.Find("a", Now));
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Null(cache.Find("a", Now));
    }

    [Fact]
    public void A_zero_duration_turns_the_cache_off()
    {
        var cache = Cache(TimeSpan.Zero, new ManualTime());
        cache.Add(Key("a", expiresAt: null), cache.Generation);
        Assert.False(cache.Enabled);
        Assert.Null(cache.Find("a", Now));
    }

    private static ApiKeyCache Cache(TimeSpan duration, TimeProvider time) =>
        new(Options.Create(new AuthOptions { KeyCacheDuration = duration }), time);

    private static VerifiedApiKey Key(string hash, DateTime? expiresAt) =>
        new(Guid.NewGuid(), hash, "k", "avk_abc", string.Empty, expiresAt, Guid.NewGuid(), 1, Guid.NewGuid(), "org", "org", true);

    /// <summary>A clock whose timestamp moves only when told.</summary>
    private sealed class ManualTime : TimeProvider
    {
        private long _timestamp = 1_000_000;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override long GetTimestamp() => _timestamp;

        public void Advance(TimeSpan by) => _timestamp += by.Ticks;
    }
}
