using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Ingest;

public sealed class ApiKeyScopeTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    private async Task<(TenantClient Admin, HttpClient Scoped, JsonNode Created)> ScopedKeyAsync(object body)
    {
        var admin = await fixture.Factory.CreateTenantAsync();
        var created = await admin.Http.PostOkAsync("/api/v1/api-keys/", body);
        return (admin, fixture.Factory.CreateClientWithKey(created["key"]!.GetValue<string>()), created);
    }

    [Fact]
    public async Task A_key_without_exports_create_can_read_exports_but_gets_403_creating_or_aborting_one()
    {
        var (admin, scoped, created) = await ScopedKeyAsync(new { name = "reader", scopes = new[] { "exports.read", "datasets.read" } });
        Assert.Equal(["datasets.read", "exports.read"], created["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));
        Assert.StartsWith("avk_", created["key"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Equal(HttpStatusCode.OK, (await scoped.GetJsonAsync("/api/v1/exports/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await scoped.GetJsonAsync("/api/v1/datasets/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await scoped.GetJsonAsync("/api/v1/formats/")).Status);

        var (status, body) = await scoped.PostJsonAsync("/api/v1/exports/", new { name = "x", format = "avala-json-external", datasets = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Api.AssertJson("""{"detail": "This API key does not have the \"exports.create\" scope."}""", body);

        var dataset = await Seed.DatasetAsync(admin.Http);
        var export = await admin.Http.PostOkAsync("/api/v1/exports/", new { name = "x", format = "avala-json-external", datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>() });
        var (abortStatus, _) = await scoped.PostJsonAsync($"/api/v1/exports/{export["uid"]}/abort/", null);
        Assert.Equal(HttpStatusCode.Forbidden, abortStatus);

        var (datasetStatus, datasetBody) = await scoped.PostJsonAsync("/api/v1/datasets/", new { name = "d" });
        Assert.Equal(HttpStatusCode.Forbidden, datasetStatus);
        Api.AssertJson("""{"detail": "This API key does not have the \"datasets.write\" scope."}""", datasetBody);
        Assert.Equal(HttpStatusCode.Forbidden, (await scoped.GetJsonAsync("/api/v1/projects/")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await scoped.GetJsonAsync("/api/v1/slices/")).Status);
    }

    [Fact]
    public async Task Tasks_and_the_users_me_projects_need_projects_read_and_webhook_deliveries_need_webhooks_read()
    {
        var (admin, projectsReader, _) = await ScopedKeyAsync(new { name = "projects", scopes = new[] { "projects.read" } });
        var webhooksReader = fixture.Factory.CreateClientWithKey((await admin.Http.PostOkAsync("/api/v1/api-keys/", new { name = "hooks", scopes = new[] { "webhooks.read" } }))["key"]!.GetValue<string>());
        var webhook = (await admin.Http.PostOkAsync("/api/v1/webhooks/", new { target_url = "https://hooks.example.com/x", events = new[] { "export.failed" } }))["uid"]!.GetValue<string>();

        Assert.Equal(HttpStatusCode.OK, (await projectsReader.GetJsonAsync("/api/v1/tasks/")).Status);
        Assert.Equal(HttpStatusCode.OK, (await projectsReader.GetJsonAsync("/api/v1/users/me/projects/")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await projectsReader.GetJsonAsync("/api/v1/webhook-deliveries/")).Status);

        Assert.Equal(HttpStatusCode.OK, (await webhooksReader.GetJsonAsync("/api/v1/webhook-deliveries/")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await webhooksReader.GetJsonAsync("/api/v1/tasks/")).Status);
        var (testStatus, testBody) = await webhooksReader.PostJsonAsync($"/api/v1/webhooks/{webhook}/test/", null);
        Assert.Equal(HttpStatusCode.Forbidden, testStatus);
        Api.AssertJson("""{"detail": "This API key does not have the \"webhooks.write\" scope."}""", testBody);
        Assert.Equal(HttpStatusCode.Forbidden, (await webhooksReader.SendAsync(HttpMethod.Patch, $"/api/v1/webhooks/{webhook}/", new { is_active = false })).Status);
        Assert.True((await admin.Http.GetJsonAsync($"/api/v1/webhooks/{webhook}/")).Body!["is_active"]!.GetValue<bool>());
    }

    [Fact]
    public async Task A_key_with_exports_create_can_create_an_export()
    {
        var (admin, scoped, _) = await ScopedKeyAsync(new { name = "creator", scopes = new[] { "exports.create" } });
        var dataset = await Seed.DatasetAsync(admin.Http);
        await scoped.PostOkAsync("/api/v1/exports/", new { name = "x", format = "avala-json-external", datasets = new[] { dataset }, projects = Array.Empty<string>(), slices = Array.Empty<string>() });
        Assert.Equal(HttpStatusCode.Forbidden, (await scoped.GetJsonAsync("/api/v1/exports/")).Status);
    }

    [Fact]
    public async Task A_key_without_scopes_has_full_access_and_only_it_manages_keys()
    {
        var (_, unscoped, created) = await ScopedKeyAsync(new { name = "full" });
        Assert.Empty(created["scopes"]!.AsArray());
        await unscoped.PostOkAsync("/api/v1/datasets/", new { name = "d" });
        Assert.Equal(HttpStatusCode.OK, (await unscoped.GetJsonAsync("/api/v1/api-keys/")).Status);

        var (_, scoped, _) = await ScopedKeyAsync(new { name = "exports", scopes = new[] { "exports.read", "exports.create" } });
        var (status, body) = await scoped.PostJsonAsync("/api/v1/api-keys/", new { name = "wider" });
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Api.AssertJson("""{"detail": "This endpoint needs an API key with full organization access (no scopes)."}""", body);
    }

    [Fact]
    public async Task Keys_are_listed_without_their_secret_and_a_revoked_key_gets_401()
    {
        var (admin, scoped, created) = await ScopedKeyAsync(new { name = "to revoke", scopes = new[] { "exports.read" } });
        var (_, list) = await admin.Http.GetJsonAsync("/api/v1/api-keys/");
        var listed = list!["results"]!.AsArray().Single(k => k!["uid"]!.GetValue<string>() == created["uid"]!.GetValue<string>())!;
        Assert.Null(listed["key"]);
        Assert.DoesNotContain(created["key"]!.GetValue<string>(), list.ToJsonString(), StringComparison.Ordinal);
        Assert.Equal(2, list["results"]!.AsArray().Count);

        Assert.Equal(HttpStatusCode.OK, (await scoped.GetJsonAsync("/api/v1/exports/")).Status);
        using var deleted = await admin.Http.DeleteAsync($"/api/v1/api-keys/{created["uid"]}/");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        var (after, body) = await scoped.GetJsonAsync("/api/v1/exports/");
        Assert.Equal(HttpStatusCode.Unauthorized, after);
        Api.AssertJson("""{"detail": "Invalid API key."}""", body);

        var (_, one) = await admin.Http.GetJsonAsync($"/api/v1/api-keys/{created["uid"]}/");
        Assert.NotNull(one!["revoked_at"]!.GetValue<string>());
    }

    [Fact]
    public async Task An_expired_key_gets_401()
    {
        var (_, scoped, created) = await ScopedKeyAsync(new { name = "short", expires_at = DateTime.UtcNow.AddSeconds(3).ToString("O") });
        Assert.NotNull(created["expires_at"]);
        // Polls until the expiry passed; no assertion on how long it took.
        var (status, body) = await scoped.GetJsonAsync("/api/v1/exports/");
        while (status == HttpStatusCode.OK)
        {
            await Task.Delay(200);
            (status, body) = await scoped.GetJsonAsync("/api/v1/exports/");
        }

        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Api.AssertJson("""{"detail": "Invalid API key."}""", body);
    }

    [Fact]
    public async Task Another_organizations_key_is_not_found()
    {
        var (_, _, created) = await ScopedKeyAsync(new { name = "mine" });
        var other = await fixture.Factory.CreateTenantAsync("Other");
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetJsonAsync($"/api/v1/api-keys/{created["uid"]}/")).Status);
        using var deleted = await other.Http.DeleteAsync($"/api/v1/api-keys/{created["uid"]}/");
        Assert.Equal(HttpStatusCode.NotFound, deleted.StatusCode);
    }

    [Fact]
    public async Task Bad_scopes_and_expiry_are_400_with_field_messages()
    {
        var admin = await fixture.Factory.CreateTenantAsync();
        var (status, body) = await admin.Http.PostJsonAsync("/api/v1/api-keys/", new { name = "k", scopes = new object[] { "exports.read", "everything", 3 }, expires_at = "2000-01-01T00:00:00Z" });
        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.NotNull(body!["scopes"]!["1"]);
        Assert.NotNull(body["scopes"]!["2"]);
        Api.AssertJson("""["Ensure this value is in the future."]""", body["expires_at"]);
        var (missing, missingBody) = await admin.Http.PostJsonAsync("/api/v1/api-keys/", new { scopes = "exports.read" });
        Assert.Equal(HttpStatusCode.BadRequest, missing);
        Api.AssertJson("""["This field is required."]""", missingBody!["name"]);
        Assert.NotNull(missingBody["scopes"]);
    }
}
