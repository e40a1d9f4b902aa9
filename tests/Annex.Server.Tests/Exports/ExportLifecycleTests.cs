using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Annex.Formats;
using Annex.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.Exports;

/// <summary>A server started like the README's command with <c>--demo</c>: first-start key, demo data.</summary>
public sealed class DemoServerFixture : IDisposable
{
    public const string SigningKey = "c2lnbmluZy1rZXktZm9yLXRlc3RzLW9ubHktMzItYnl0ZXM=";

    public AnnexFactory Factory { get; } = new(settings: new Dictionary<string, string?>
    {
        ["Server:Demo"] = "true",
        ["Exports:DownloadSigningKey"] = SigningKey,
    });

    public void Dispose() => Factory.Dispose();
}

public sealed class ExportLifecycleTests(DemoServerFixture fixture) : IClassFixture<DemoServerFixture>
{
    private const string DemoDataset = "550e8400-e29b-41d4-a716-446655440000";

    private const string SeedCreateBody = """
        {
          "name": "My Export",
          "format": "avala-json-external",
          "datasets": ["550e8400-e29b-41d4-a716-446655440000"],
          "projects": [],
          "slices": []
        }
        """;

    private static readonly string[] SeedFields =
    [
        "uid", "name", "format", "status", "total_task_count", "exported_task_count", "download_url",
        "datasets", "slices", "projects", "organization", "created_at", "updated_at", "filter_query_string", "error", "expires_at",
    ];

    private HttpClient AdminClient()
    {
        _ = fixture.Factory.Server;
        var keyFile = Path.Combine(fixture.Factory.DataPath, "admin-api-key");
        return fixture.Factory.CreateClientWithKey(File.ReadAllText(keyFile).Trim());
    }

    [Fact]
    public void First_start_writes_the_admin_key_to_a_private_file()
    {
        _ = fixture.Factory.Server;
        var keyFile = Path.Combine(fixture.Factory.DataPath, "admin-api-key");
        Assert.StartsWith("avk_", File.ReadAllText(keyFile), StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(keyFile));
        }
    }

    [Fact]
    public async Task The_seed_request_creates_an_export_that_completes_with_the_seed_shapes()
    {
        using var client = AdminClient();
        var (status, created) = await client.PostJsonAsync("/api/v1/exports/", SeedCreateBody);
        Assert.Equal(HttpStatusCode.Created, status);
        Assert.Equal(SeedFields, created!.AsObject().Select(p => p.Key));
        Assert.Equal("My Export", created["name"]!.GetValue<string>());
        Assert.Equal("avala-json-external", created["format"]!.GetValue<string>());
        Assert.Equal("requested", created["status"]!.GetValue<string>());
        Assert.Null(created["total_task_count"]);
        Assert.Null(created["exported_task_count"]);
        Assert.Null(created["download_url"]);
        Assert.Null(created["error"]);
        Api.AssertJson($"[\"{DemoDataset}\"]", created["datasets"]);
        Api.AssertJson("[]", created["projects"]);
        Api.AssertJson("[]", created["slices"]);
        Assert.Equal(["uid", "name", "slug"], created["organization"]!.AsObject().Select(p => p.Key));
        var createdAt = created["created_at"]!.GetValue<string>();
        Assert.EndsWith("Z", createdAt, StringComparison.Ordinal);
        Assert.True(DateTime.TryParse(createdAt, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out _));

        var uid = created["uid"]!.GetValue<string>();
        var done = await Seed.WaitForAsync(client, uid, ["exported", "failed"]);
        Assert.Equal("exported", done["status"]!.GetValue<string>());
        Assert.Equal(SeedFields, done.AsObject().Select(p => p.Key));
        Assert.Equal(300, done["total_task_count"]!.GetValue<long>());
        Assert.Equal(300, done["exported_task_count"]!.GetValue<long>());
        Assert.Equal(createdAt, done["created_at"]!.GetValue<string>());

        // The seed's own polling reads the list, not the detail endpoint.
        var (_, list) = await client.GetJsonAsync("/api/v1/exports/");
        var listed = list!["results"]!.AsArray().Single(e => e!["uid"]!.GetValue<string>() == uid)!;
        Assert.Equal("exported", listed["status"]!.GetValue<string>());

        var archive = await Archives.DownloadAsync(fixture.Factory, listed["download_url"]!.GetValue<string>());
        using var document = Archives.ReadSingleJson(archive);
        Assert.Empty(AvalaJsonSchema.Validate(document));
        var root = document.RootElement;
        Assert.Equal("1.0", root.GetProperty("scheme_version").GetString());
        Assert.Equal(createdAt, root.GetProperty("export_info").GetProperty("created_at").GetString());
        Assert.Equal("My Export", root.GetProperty("export_info").GetProperty("name").GetString());
        var dataset = Assert.Single(root.GetProperty("datasets").EnumerateArray());
        Assert.Equal(DemoDataset, dataset.GetProperty("uid").GetString());
        Assert.Equal(300, dataset.GetProperty("items").GetArrayLength());
        Assert.Equal(300, root.GetProperty("results").GetArrayLength());
        var project = Assert.Single(root.GetProperty("projects").EnumerateArray());
        Assert.Equal("car", project.GetProperty("labels")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Download_links_need_no_key_support_ranges_and_refuse_tampering_and_expiry()
    {
        using var client = AdminClient();
        var (_, created) = await client.PostJsonAsync("/api/v1/exports/", SeedCreateBody);
        var done = await Seed.WaitForAsync(client, created!["uid"]!.GetValue<string>(), ["exported", "failed"]);
        var url = done["download_url"]!.GetValue<string>();
        Assert.StartsWith("http://localhost/api/v1/exports/", url, StringComparison.Ordinal);
        var full = await Archives.DownloadAsync(fixture.Factory, url);

        using var anonymous = fixture.Factory.CreateClientWithKey(null);
        using (var ranged = new HttpRequestMessage(HttpMethod.Get, url))
        {
            ranged.Headers.Range = new RangeHeaderValue(10, 109);
            using var response = await anonymous.SendAsync(ranged);
            Assert.Equal(HttpStatusCode.PartialContent, response.StatusCode);
            Assert.Equal(full.AsSpan(10, 100).ToArray(), await response.Content.ReadAsByteArrayAsync());
        }

        var tampered = url.Replace("signature=", "signature=x", StringComparison.Ordinal);
        var (tamperedStatus, tamperedBody) = await anonymous.GetJsonAsync(tampered);
        Assert.Equal(HttpStatusCode.Forbidden, tamperedStatus);
        Assert.Contains("signature", tamperedBody!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        // A link signed with the server's key but an expiry in the past.
        var uid = done["uid"]!.GetValue<string>();
        var expires = DateTimeOffset.UtcNow.AddMinutes(-1).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var mac = HMACSHA256.HashData(Convert.FromBase64String(DemoServerFixture.SigningKey), Encoding.UTF8.GetBytes($"{Guid.Parse(uid):N}.{expires}"));
        var signature = Convert.ToBase64String(mac).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var (expiredStatus, expiredBody) = await anonymous.GetJsonAsync($"/api/v1/exports/{uid}/download/?expires={expires}&signature={signature}");
        Assert.Equal(HttpStatusCode.Forbidden, expiredStatus);
        Assert.Contains("expired", expiredBody!["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        // Moving the expiry forward breaks the signature.
        var extended = (long.Parse(expires, CultureInfo.InvariantCulture) + 7200).ToString(CultureInfo.InvariantCulture);
        var (extendedStatus, _) = await anonymous.GetJsonAsync($"/api/v1/exports/{uid}/download/?expires={extended}&signature={signature}");
        Assert.Equal(HttpStatusCode.Forbidden, extendedStatus);
    }

    [Fact]
    public async Task Two_exports_of_the_same_data_hold_the_same_document_apart_from_created_at()
    {
        using var client = AdminClient();
        var documents = new List<string>();
        foreach (var name in new[] { "same", "same" })
        {
            var created = await client.PostOkAsync("/api/v1/exports/", new { name, format = "avala-json-external", dataset = DemoDataset });
            var done = await Seed.WaitForAsync(client, created["uid"]!.GetValue<string>(), ["exported", "failed"]);
            using var document = Archives.ReadSingleJson(await Archives.DownloadAsync(fixture.Factory, done["download_url"]!.GetValue<string>()));
            var node = JsonNode.Parse(document.RootElement.GetRawText())!;
            node["export_info"]!["created_at"] = "-";
            documents.Add(node.ToJsonString());
        }

        Assert.Equal(documents[0], documents[1]);
    }

    /// <summary>The seed's Python <c>wait_for_export</c>, run as written with only the host changed.</summary>
    [SkippableFact]
    public async Task The_seeds_python_polling_function_returns_a_working_download_url()
    {
        Requirements.Require(Requirements.PythonWithRequests(), "python3 with the 'requests' package");

        using var kestrel = new AnnexFactory(settings: new Dictionary<string, string?> { ["Server:Demo"] = "true" });
        kestrel.UseKestrel(0);
        kestrel.StartServer();
        var address = kestrel.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First().Replace("[::]", "127.0.0.1", StringComparison.Ordinal).Replace("localhost", "127.0.0.1", StringComparison.Ordinal);
        var key = File.ReadAllText(Path.Combine(kestrel.DataPath, "admin-api-key")).Trim();
        using var http = new HttpClient { BaseAddress = new Uri(address) };
        http.DefaultRequestHeaders.Add("X-Avala-Api-Key", key);
        var created = await http.PostOkAsync("/api/v1/exports/", JsonNode.Parse(SeedCreateBody)!);

        var script = $$"""
            import time
            import requests

            def wait_for_export(export_uid, api_key):
                headers = {"X-Avala-Api-Key": api_key}

                while True:
                    response = requests.get(
                        "{{address}}/api/v1/exports/",
                        headers=headers
                    )
                    exports = response.json()["results"]

                    export = next(
                        (e for e in exports if e["uid"] == export_uid),
                        None
                    )

                    if export and export["status"] == "exported":
                        return export["download_url"]
                    elif export and export["status"] == "failed":
                        raise Exception("Export failed")

                    time.sleep(5)

            url = wait_for_export("{{created["uid"]}}", "{{key}}")
            archive = requests.get(url)
            assert archive.status_code == 200, archive.status_code
            assert archive.content[:2] == b"PK"
            print(url)
            """;
        var start = new ProcessStartInfo("python3") { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["NO_PROXY"] = "127.0.0.1,localhost";
        using var python = Process.Start(start)!;
        await python.StandardInput.WriteAsync(script);
        python.StandardInput.Close();
        var output = python.StandardOutput.ReadToEndAsync();
        var error = python.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await python.WaitForExitAsync(timeout.Token);
        Assert.True(python.ExitCode == 0, await error);
        Assert.StartsWith($"{address}/api/v1/exports/{created["uid"]}/download/", (await output).Trim(), StringComparison.Ordinal);
    }
}
