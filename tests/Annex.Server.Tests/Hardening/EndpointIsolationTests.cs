using System.Net;
using System.Text;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Hardening;

/// <summary>Walks every endpoint of the API, as read from the server's routing table, with another
/// organization's uids: each answers 403 or 404, and nothing in the database changes.</summary>
public sealed class EndpointIsolationTests : IDisposable
{
    private readonly AnnexFactory _factory = new(settings: new Dictionary<string, string?>(TenantObjects.ServerSettings));

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Every_endpoint_refuses_another_organizations_uids_and_changes_nothing()
    {
        var owner = await OwnerAsync();
        var intruder = await _factory.CreateTenantAsync("Intruder");
        var before = await DatabaseSnapshot.TakeAsync(_factory.Services);

        var endpoints = EndpointCatalog.ApiEndpoints(_factory.Services).Where(e => e.Parameters.Count > 0).ToList();
        Assert.True(endpoints.Count >= 15, $"only {endpoints.Count} endpoints with uids in the routing table: {string.Join(", ", endpoints)}");
        var failures = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var url = endpoint.Url(name => owner.UidFor(endpoint, name));
            using var request = Request(endpoint, url, owner);
            using var response = await intruder.Http.SendAsync(request);
            var body = await response.Content.ReadAsStringAsync();
            if (response.StatusCode is not (HttpStatusCode.NotFound or HttpStatusCode.Forbidden))
            {
                failures.Add($"{endpoint} as {url}: {(int)response.StatusCode} {body}");
            }
            else if (owner.All.Any(uid => body.Contains(uid, StringComparison.OrdinalIgnoreCase)))
            {
                failures.Add($"{endpoint} as {url}: the refusal names one of the owner's objects: {body}");
            }
        }

        Assert.True(failures.Count == 0, "endpoints that let another organization in:\n" + string.Join('\n', failures));
        var changed = (await DatabaseSnapshot.TakeAsync(_factory.Services)).DifferencesFrom(before);
        Assert.True(changed.Count == 0, "refused requests changed: " + string.Join(", ", changed));

        // The same reads work for the owner, so the refusals were about who asked.
        foreach (var endpoint in endpoints.Where(e => e.Method == "GET" && !e.Template.EndsWith("/download", StringComparison.Ordinal)))
        {
            using var response = await owner.Http.GetAsync(endpoint.Url(name => owner.UidFor(endpoint, name)));
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{endpoint} for its owner: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
    }

    [Fact]
    public async Task Lists_never_show_another_organizations_objects()
    {
        var owner = await OwnerAsync();
        var intruder = await _factory.CreateTenantAsync("Intruder");
        var endpoints = EndpointCatalog.ApiEndpoints(_factory.Services).Where(e => e.Method == "GET" && e.Parameters.Count == 0).ToList();
        Assert.Contains(endpoints, e => e.Template == "/api/v1/datasets");

        foreach (var endpoint in endpoints)
        {
            foreach (var query in new[] { string.Empty, "?limit=1000", $"?dataset={owner.Dataset}&project={owner.Project}" })
            {
                using var response = await intruder.Http.GetAsync(endpoint.Url(_ => string.Empty) + query);
                var body = await response.Content.ReadAsStringAsync();
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"{endpoint}{query}: {(int)response.StatusCode} {body}");
                var leaked = owner.All.Where(uid => body.Contains(uid, StringComparison.OrdinalIgnoreCase)).ToList();
                Assert.True(leaked.Count == 0, $"{endpoint}{query} shows the owner's {string.Join(", ", leaked)}: {body}");
            }
        }
    }

    [Fact]
    public async Task A_download_link_cannot_be_pointed_at_another_export()
    {
        var owner = await OwnerAsync();
        var intruder = await _factory.CreateTenantAsync("Intruder");
        var dataset = await Seed.DatasetAsync(intruder.Http);
        await Seed.ItemsAsync(intruder.Http, dataset, 1);
        var own = (await Seed.ExportAsync(intruder.Http, "mine", datasets: [dataset]))["uid"]!.GetValue<string>();
        var exported = await Seed.WaitForAsync(intruder.Http, own, ["exported"]);
        var link = exported["download_url"]!.GetValue<string>();

        // The intruder's own signed link with the owner's export uid put in its place.
        var altered = link.Replace(own, owner.Export, StringComparison.Ordinal);
        Assert.NotEqual(link, altered);
        using var response = await intruder.Http.GetAsync(new Uri(altered).PathAndQuery);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static HttpRequestMessage Request(ApiEndpoint endpoint, string url, TenantObjects owner)
    {
        var request = new HttpRequestMessage(new HttpMethod(endpoint.Method), url);
        // A body the owner could send, so a refusal cannot come from validation alone.
        request.Content = (endpoint.Method, endpoint.Resource, endpoint.Template.Split('/')[^1]) switch
        {
            ("PUT", "datasets", "media") => TenantObjects.PngUpload(),
            ("POST", "datasets", "items") => Json(new { items = new[] { new { ref_id = "intruder", width = 10, height = 10 } } }),
            ("POST", "projects", "results") => Json(new { results = new[] { new { dataset_item_uid = owner.Items[0], annotations = new[] { Seed.Box("car", 1, 1, 2, 2) } } } }),
            ("POST", _, _) => Json(new { }),
            ("PATCH", "webhooks", _) => Json(new { is_active = false, events = new[] { "export.failed" } }),
            _ => null,
        };
        return request;
    }

    private static StringContent Json(object body) => new(Api.Compact(body), Encoding.UTF8, "application/json");

    private async Task<TenantObjects> OwnerAsync()
    {
        var tenant = await _factory.CreateTenantAsync("Owner");
        return await TenantObjects.CreateAsync(tenant.Http, waitForExport: true);
    }
}
