using System.Net;
using System.Text.Json.Nodes;
using Annex.Server.Features.Organizations;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Ingest;

/// <summary>GET /organizations/, /organizations/&lt;slug&gt;/ and its members, as the Avala SDKs read them; the
/// slug in every export's <c>organization</c>.</summary>
public sealed class OrganizationsTests(AnnexFactoryFixture fixture) : IClassFixture<AnnexFactoryFixture>
{
    [Fact]
    public async Task The_list_holds_the_callers_organization_with_its_slug_role_and_counts()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Grüne Felder");
        await Seed.DatasetAsync(tenant.Http);
        await Seed.ProjectAsync(tenant.Http);

        var page = await tenant.Http.GetOkAsync("/api/v1/organizations/");
        Shape.HasFields(page, "next", "previous", "results");
        var organization = Assert.Single(page["results"]!.AsArray())!;
        Shape.HasFields(organization, "uid", "name", "slug", "role", "is_active", "member_count", "dataset_count", "project_count", "slice_count", "created_at");
        Assert.Equal(tenant.Key.OrganizationUid.ToString(), organization["uid"]!.GetValue<string>());
        Assert.Equal("Grüne Felder", organization["name"]!.GetValue<string>());
        var slug = organization["slug"]!.GetValue<string>();
        Assert.StartsWith("grune-felder", slug, StringComparison.Ordinal);
        Assert.Equal("admin", organization["role"]!.GetValue<string>());
        Assert.Equal(1, organization["member_count"]!.GetValue<int>());
        Assert.Equal(1, organization["dataset_count"]!.GetValue<int>());
        Assert.Equal(1, organization["project_count"]!.GetValue<int>());
        Assert.Equal(0, organization["slice_count"]!.GetValue<int>());

        Api.AssertJson(organization.ToJsonString(), await tenant.Http.GetOkAsync($"/api/v1/organizations/{slug}/"));
    }

    [Fact]
    public async Task Members_are_the_organizations_users_with_their_roles()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Members Org");
        User member;
        await using (var scope = fixture.Factory.Services.CreateAsyncScope())
        {
            member = await scope.ServiceProvider.GetRequiredService<Accounts>().CreateUserAsync(tenant.Key.OrganizationUid, $"{Guid.NewGuid():N}@example.com", isAdmin: false, CancellationToken.None);
        }

        var slug = (await tenant.Http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!["slug"]!.GetValue<string>();
        var page = await tenant.Http.GetOkAsync($"/api/v1/organizations/{slug}/members/");
        var members = page["results"]!.AsArray();
        Assert.Equal(2, members.Count);
        Shape.HasFields(members[0], "user_uid", "email", "role", "created_at");
        Assert.Equal(tenant.Key.UserUid.ToString(), members[0]!["user_uid"]!.GetValue<string>());
        Assert.Equal("admin", members[0]!["role"]!.GetValue<string>());
        Assert.Equal(member.Uid.ToString(), members[1]!["user_uid"]!.GetValue<string>());
        Assert.Equal(member.Email, members[1]!["email"]!.GetValue<string>());
        Assert.Equal("member", members[1]!["role"]!.GetValue<string>());

        var firstOnly = await tenant.Http.GetOkAsync($"/api/v1/organizations/{slug}/members/?limit=1");
        Assert.Single(firstOnly["results"]!.AsArray());
        Assert.NotNull(firstOnly["next"]);
        Assert.Equal(["member"], (await tenant.Http.GetOkAsync($"/api/v1/organizations/{slug}/members/?role=member"))["results"]!.AsArray().Select(m => m!["role"]!.GetValue<string>()));
    }

    [Fact]
    public async Task Another_organizations_slug_is_404_and_leaks_nothing()
    {
        var victim = await fixture.Factory.CreateTenantAsync("Victim Org");
        var victimSlug = (await victim.Http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!["slug"]!.GetValue<string>();
        var intruder = await fixture.Factory.CreateTenantAsync("Intruder Org");

        foreach (var url in new[] { $"/api/v1/organizations/{victimSlug}/", $"/api/v1/organizations/{victimSlug}/members/", "/api/v1/organizations/no-such-org/" })
        {
            var (status, body) = await intruder.Http.GetJsonAsync(url);
            Assert.True(status == HttpStatusCode.NotFound, $"{url}: {(int)status} {body?.ToJsonString()}");
            Api.AssertJson("""{"detail": "Not found."}""", body);
        }

        var list = await intruder.Http.GetOkAsync("/api/v1/organizations/");
        Assert.DoesNotContain(victimSlug, list.ToJsonString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_exports_organization_carries_the_slug()
    {
        var tenant = await fixture.Factory.CreateTenantAsync("Export Org");
        var slug = (await tenant.Http.GetOkAsync("/api/v1/organizations/"))["results"]![0]!["slug"]!.GetValue<string>();
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 1);
        var created = await Seed.ExportAsync(tenant.Http, "With slug", datasets: [dataset]);
        Api.AssertJson($$"""{"uid": "{{tenant.Key.OrganizationUid}}", "name": "Export Org", "slug": "{{slug}}"}""", created["organization"]);

        var fetched = await tenant.Http.GetOkAsync($"/api/v1/exports/{created["uid"]!.GetValue<string>()}/");
        Api.AssertJson(created["organization"]!.ToJsonString(), fetched["organization"]);
        var listed = await tenant.Http.GetOkAsync("/api/v1/exports/");
        Api.AssertJson(created["organization"]!.ToJsonString(), listed["results"]![0]!["organization"]);
    }

    [Fact]
    public async Task The_api_document_describes_the_bodies_of_the_dataset_upload_and_organization_endpoints()
    {
        using var client = fixture.Factory.CreateClient();
        var paths = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!["paths"]!;

        JsonNode Operation(string path, string method) =>
            paths[path]?[method] ?? throw new Xunit.Sdk.XunitException($"{method} {path} is not in the document: {string.Join(", ", paths.AsObject().Select(p => p.Key))}");

        void Responds(JsonNode operation, params string[] statuses)
        {
            foreach (var status in statuses)
            {
                Assert.True(operation["responses"]?[status]?["content"]?["application/json"]?["schema"] is not null, $"no {status} body: {operation.ToJsonString()}");
            }
        }

        Responds(Operation("/api/v1/organizations", "get"), "200", "400");
        Responds(Operation("/api/v1/organizations/{slug}", "get"), "200", "404");
        Responds(Operation("/api/v1/organizations/{slug}/members", "get"), "200", "404");
        Responds(Operation("/api/v1/datasets/{owner}/{slug}", "get"), "200", "404");
        Responds(Operation("/api/v1/datasets/{owner}/{slug}/items", "get"), "200", "404");
        Responds(Operation("/api/v1/datasets/{owner}/{slug}/items/{itemUid}", "get"), "200", "404");
        Responds(Operation("/api/v1/datasets", "get"), "200", "400");
        Responds(Operation("/api/v1/datasets/{uid}", "get"), "200", "404");

        foreach (var (path, status) in new[] { ("/api/v1/datasets", "201"), ("/api/v1/datasets/manual-upload", "201"), ("/api/v1/datasets/manual-upload/file-upload-url", "200") })
        {
            var operation = Operation(path, "post");
            Responds(operation, status, "400");
            Assert.True(operation["requestBody"]?["content"]?["application/json"]?["schema"] is not null, $"POST {path} has no request body: {operation.ToJsonString()}");
        }

        var receiver = Operation("/api/v1/datasets/manual-upload/{uploadUid}", "post");
        Responds(receiver, "400", "403", "404", "409");
        Assert.NotNull(receiver["requestBody"]?["content"]?["multipart/form-data"]);
    }
}
