using System.Net;
using System.Text.RegularExpressions;
using Annex.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.AvalaSdk.Tests;

/// <summary>The README's first example, the TypeScript SDK's quick start, run as written against a demo server:
/// only the import names the compiled SDK and the host is the test server's.</summary>
[Collection(SdkCollection.Name)]
public sealed partial class ReadmeQuickStartTests(TypeScriptSdk sdk)
{
    [GeneratedRegex("```typescript\\n(.*?)```", RegexOptions.Singleline)]
    private static partial Regex TypeScriptBlock();

    [SkippableFact]
    public async Task The_readmes_typescript_quick_start_runs_against_the_demo()
    {
        TypeScriptSdk.Require();
        var readme = await File.ReadAllTextAsync(Path.Combine(SdkLocations.RepositoryRoot, "README.md"));
        var block = TypeScriptBlock().Match(readme.ReplaceLineEndings("\n"));
        Assert.True(block.Success, "README.md has no ```typescript block");
        const string Import = "import Avala from \"@avala-ai/sdk\";";
        const string Host = "http://localhost:5080/api/v1";
        Assert.Contains(Import, block.Groups[1].Value, StringComparison.Ordinal);
        Assert.Contains(Host, block.Groups[1].Value, StringComparison.Ordinal);

        using var demo = new AnnexFactory(settings: new Dictionary<string, string?> { ["Server:Demo"] = "true" });
        demo.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        demo.StartServer();
        var address = demo.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var key = (await File.ReadAllTextAsync(Path.Combine(demo.DataPath, "admin-api-key"))).Trim();
        var script = Path.Combine(demo.DataPath, "quick-start.mjs");
        await File.WriteAllTextAsync(script, block.Groups[1].Value
            .Replace(Import, "const { default: Avala } = await import(process.env.ANNEX_SDK_URL);", StringComparison.Ordinal)
            .Replace(Host, address + "/api/v1", StringComparison.Ordinal));

        var (exitCode, output, error) = await sdk.RunScriptAsync(script, new Uri(address + "/api/v1/"), key);
        Assert.True(exitCode == 0, $"the quick start failed ({exitCode}):\n{error}\n{output}");
        Assert.Contains("550e8400-e29b-41d4-a716-446655440000 Highway Scenes", output, StringComparison.Ordinal);
        Assert.Matches("[0-9a-f-]{36} (requested|exporting|exported)", output);
    }
}
