using System.Text.Json.Nodes;
using Xunit;

namespace Annex.AvalaSdk.Tests;

/// <summary>What a scenario's SDK calls returned (<c>{"ok": true, "value": ...}</c>) or threw
/// (<c>{"ok": false, "error": {name, message, status, body}}</c>), by step name.</summary>
public sealed class Steps(string scenario, JsonObject steps)
{
    public IEnumerable<string> Names => steps.Select(s => s.Key);

    /// <summary>The value the call returned; fails the test, naming the SDK's error, when it threw.</summary>
    public JsonNode? Ok(string name)
    {
        var step = Get(name);
        Assert.True(step["ok"]!.GetValue<bool>(), $"{scenario}: {name} threw {step["error"]?.ToJsonString()}");
        return step["value"];
    }

    /// <summary>The page's items (the SDK's <c>CursorPage.items</c>) of a call that returned a page.</summary>
    public JsonArray Items(string name) =>
        Ok(name)?["items"] as JsonArray ?? throw new Xunit.Sdk.XunitException($"{scenario}: {name} returned no page: {Get(name).ToJsonString()}");

    public IReadOnlyList<string> Uids(string name) => [.. Items(name).Select(i => i!["uid"]!.GetValue<string>())];

    /// <summary>The error the call threw; fails the test when it returned.</summary>
    public JsonObject Error(string name)
    {
        var step = Get(name);
        Assert.False(step["ok"]!.GetValue<bool>(), $"{scenario}: {name} should have failed but returned {step["value"]?.ToJsonString()}");
        return step["error"]!.AsObject();
    }

    /// <summary>The call threw the SDK's NotFoundError for a 404 with a DRF <c>detail</c>.</summary>
    public void NotFound(string name)
    {
        var error = Error(name);
        Assert.True(error["name"]!.GetValue<string>() == "NotFoundError" && error["status"]?.GetValue<int>() == 404,
            $"{scenario}: {name} should be a 404 NotFoundError, was {error.ToJsonString()}");
        Assert.False(string.IsNullOrWhiteSpace(error["body"]?["detail"]?.GetValue<string>()), $"{scenario}: {name}'s 404 has no detail: {error.ToJsonString()}");
    }

    public bool Has(string name) => steps.ContainsKey(name);

    private JsonObject Get(string name) =>
        steps[name]?.AsObject() ?? throw new Xunit.Sdk.XunitException($"{scenario}: no step {name} ran (an earlier call it needs failed?): {steps.ToJsonString()}");
}
