using System.Net;
using Annex.Server.Features.Organizations;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Ingest;

public sealed class AuthenticationTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("avk_not-a-real-key")]
    public async Task Missing_or_unknown_key_is_401_with_the_seed_message(string? key)
    {
        using var client = fixture.Factory.CreateClientWithKey(key);
        foreach (var url in new[] { "/api/v1/exports/", "/api/v1/datasets/", "/api/v1/exports/00000000-0000-0000-0000-000000000001/" })
        {
            var (status, body) = await client.GetJsonAsync(url);
            Assert.Equal(HttpStatusCode.Unauthorized, status);
            Api.AssertJson("""{"detail": "Invalid API key."}""", body);
        }
    }

    [Fact]
    public async Task Revoked_key_is_401()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        var (before, _) = await tenant.Http.GetJsonAsync("/api/v1/exports/");
        Assert.Equal(HttpStatusCode.OK, before);

        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<Accounts>().RevokeApiKeyAsync(tenant.Key.Uid, CancellationToken.None);
        }

        var (after, body) = await tenant.Http.GetJsonAsync("/api/v1/exports/");
        Assert.Equal(HttpStatusCode.Unauthorized, after);
        Api.AssertJson("""{"detail": "Invalid API key."}""", body);
    }

    [Fact]
    public async Task Keys_are_prefixed_and_stored_only_as_a_hash()
    {
        var tenant = await fixture.Factory.CreateTenantAsync();
        Assert.StartsWith("avk_", tenant.Key.Key, StringComparison.Ordinal);
        await using var scope = fixture.Factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<Annex.Server.Infrastructure.Data.AnnexDbContext>();
        var stored = db.ApiKeys.Single(k => k.Uid == tenant.Key.Uid);
        Assert.NotEqual(tenant.Key.Key, stored.Hash);
        Assert.DoesNotContain(tenant.Key.Key, stored.Hash + stored.Prefix, StringComparison.Ordinal);
    }
}
