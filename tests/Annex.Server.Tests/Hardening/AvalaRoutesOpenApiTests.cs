using System.Text.Json.Nodes;
using Annex.Server.Tests.Infrastructure;
using Xunit;

namespace Annex.Server.Tests.Hardening;

/// <summary>The OpenAPI document describes the request and response bodies of the Avala-shaped routes,
/// their error bodies included.</summary>
public sealed class AvalaRoutesOpenApiTests
{
    [Fact]
    public async Task The_document_describes_bodies_and_errors_of_tasks_slices_projects_and_webhooks()
    {
        using var factory = new AnnexFactory();
        using var client = factory.CreateClientWithKey(null);
        var document = JsonNode.Parse(await client.GetStringAsync("/openapi/v1.json"))!;
        var paths = document["paths"]!;
        var missing = new List<string>();

        foreach (var (path, method) in new[]
        {
            ("/api/v1/webhooks", "post"), ("/api/v1/webhooks/{uid}", "patch"), ("/api/v1/slices", "post"), ("/api/v1/projects", "post"),
        })
        {
            if (paths[path]?[method]?["requestBody"]?["content"]?["application/json"]?["schema"] is null)
            {
                missing.Add($"{method} {path}: request body");
            }
        }

        foreach (var (path, method, statuses) in new[]
        {
            ("/api/v1/tasks", "get", new[] { "200", "400", "401", "403", "429" }),
            ("/api/v1/tasks/{uid}", "get", ["200", "404"]),
            ("/api/v1/users/me/projects", "get", ["200", "400"]),
            ("/api/v1/users/me/projects/{uid}", "get", ["200", "404"]),
            ("/api/v1/projects", "post", ["201", "400"]),
            ("/api/v1/slices", "post", ["201", "400"]),
            ("/api/v1/slices/{owner}/list", "get", ["200", "404"]),
            ("/api/v1/slices/{owner}/{slug}", "get", ["200", "404"]),
            ("/api/v1/slices/{owner}/{slug}/items/list", "get", ["200", "404"]),
            ("/api/v1/slices/{owner}/{slug}/items/{itemUid}", "get", ["200", "404"]),
            ("/api/v1/webhooks", "post", ["201", "400"]),
            ("/api/v1/webhooks/{uid}", "patch", ["200", "400", "404"]),
            ("/api/v1/webhooks/{uid}/test", "post", ["200", "404"]),
            ("/api/v1/webhook-deliveries", "get", ["200", "400"]),
            ("/api/v1/webhook-deliveries/{uid}", "get", ["200", "404"]),
        })
        {
            foreach (var status in statuses)
            {
                if (paths[path]?[method]?["responses"]?[status]?["content"]?["application/json"]?["schema"] is null)
                {
                    missing.Add($"{method} {path}: {status} body");
                }
            }
        }

        Assert.True(missing.Count == 0, "not described:\n" + string.Join('\n', missing));
        var task = document["components"]!["schemas"]!["TaskResponse"]!["properties"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("annotation_count", task);
        Assert.Contains("dataset_item", task);
        var delivery = document["components"]!["schemas"]!["WebhookDeliveryResponse"]!["properties"]!.AsObject().Select(p => p.Key).ToList();
        Assert.Contains("next_retry_at", delivery);
        Assert.Contains("subscription", delivery);
    }
}
