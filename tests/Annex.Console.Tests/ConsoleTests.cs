using System.Globalization;
using Microsoft.Playwright;
using Xunit;

namespace Annex.Console.Tests;

/// <summary>The web console in headless chromium against the real server: sign-in, exports from the preview to the
/// download, abort, the gallery's overlays at the annotation's pixels, hostile text shown as text, sign-out.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class ConsoleTests(ConsoleServer server)
{
    internal static async Task SignInAsync(IPage page, string key)
    {
        await page.GotoAsync("/");
        await page.GetByLabel("API key").FillAsync(key);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.Locator("#page-title").WaitForAsync();
    }

    /// <summary>Any dialog a test did not expect (an alert from injected script, say) fails the test.</summary>
    internal static List<string> WatchDialogs(IPage page, bool acceptConfirms = false)
    {
        var unexpected = new List<string>();
        page.Dialog += async (_, dialog) =>
        {
            if (acceptConfirms && dialog.Type == DialogType.Confirm)
            {
                await dialog.AcceptAsync();
                return;
            }

            unexpected.Add($"{dialog.Type}: {dialog.Message}");
            await dialog.DismissAsync();
        };
        return unexpected;
    }

    [Fact]
    public async Task Signs_in_previews_and_creates_exports_aborts_one_downloads_the_other_and_signs_out()
    {
        var page = await server.NewPageAsync();
        var dialogs = WatchDialogs(page, acceptConfirms: true);
        await page.GotoAsync("/");
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Annex" })).ToBeVisibleAsync();
        await ConsoleServer.ScreenshotAsync(page, "sign-in");

        await SignInAsync(page, server.AdminKey);
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Exports");
        // The key went into the sign-in request only: not into the page, its storage, or a cookie scripts can read.
        var visible = await page.EvaluateAsync<string>("() => document.documentElement.outerHTML + JSON.stringify(localStorage) + JSON.stringify(sessionStorage) + document.cookie");
        Assert.DoesNotContain(server.AdminKey, visible, StringComparison.Ordinal);
        Assert.DoesNotContain("annex_session", visible, StringComparison.Ordinal);

        // An export to abort: created while no worker runs, so it waits.
        await page.GetByRole(AriaRole.Link, new() { Name = "New export" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Night cars");
        await page.GetByLabel("Street cameras").CheckAsync();
        await page.GetByLabel("Filter (optional)").FillAsync("metadata.time = ");
        await Assertions.Expect(page.Locator("#filter-error-text")).ToContainTextAsync("position");
        await ConsoleServer.ScreenshotAsync(page, "create-export-filter-error");
        await page.GetByLabel("Filter (optional)").FillAsync("metadata.time = \"night\"");
        await Assertions.Expect(page.Locator("#preview-items")).ToHaveTextAsync("3");
        await Assertions.Expect(page.Locator("#filter-check")).ToContainTextAsync("The filter is valid");
        await ConsoleServer.ScreenshotAsync(page, "create-export");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create export" }).ClickAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Night cars");
        await Assertions.Expect(page.Locator("dl.summary .badge")).ToHaveTextAsync("requested");
        await Assertions.Expect(page.Locator("code.filter")).ToHaveTextAsync("metadata.time = \"night\"");
        await page.GetByRole(AriaRole.Button, new() { Name = "Abort export" }).ClickAsync();
        await Assertions.Expect(page.Locator("dl.summary .badge")).ToHaveTextAsync("aborted");

        // The export to download, in COCO (which writes export_report.json), of the dataset and its project.
        await page.GotoAsync("/#/exports/new");
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("Street COCO");
        await page.GetByLabel("Street cameras").CheckAsync();
        await page.GetByLabel("Street scenes").CheckAsync();
        await page.GetByLabel("Format").SelectOptionAsync("COCO");
        await Assertions.Expect(page.Locator("#format-help")).ToContainTextAsync("COCO instances");
        await Assertions.Expect(page.Locator("#preview-items")).ToHaveTextAsync("6");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create export" }).ClickAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Street COCO");
        await Assertions.Expect(page.Locator("dl.summary .badge")).ToHaveTextAsync("requested");

        // The worker starts; the open page follows the export to the end without a reload.
        var navigations = 0;
        page.FrameNavigated += (_, frame) => navigations += frame == page.MainFrame ? 1 : 0;
        await server.StartWorkerAsync();
        await Assertions.Expect(page.Locator("dl.summary .badge")).ToHaveTextAsync("exported", new() { Timeout = 30_000 });
        Assert.Equal(0, navigations);
        await Assertions.Expect(page.Locator("dl.summary .progress-text")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^(\d+) / \1 tasks$"));
        await Assertions.Expect(page.Locator("section.report table")).ToContainTextAsync("images");
        await ConsoleServer.ScreenshotAsync(page, "export-detail");

        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Link, new() { Name = "Download archive" }).ClickAsync());
        var saved = Path.Combine(Path.GetTempPath(), $"annex-console-{Guid.NewGuid():N}.zip");
        await download.SaveAsAsync(saved);
        try
        {
            using var zip = System.IO.Compression.ZipFile.OpenRead(saved);
            Assert.Contains(zip.Entries, e => e.FullName.EndsWith("export_report.json", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(saved);
        }

        // The list shows both, with their state.
        await page.GetByRole(AriaRole.Link, new() { Name = "Exports", Exact = true }).ClickAsync();
        await Assertions.Expect(page.Locator("tr", new() { HasText = "Night cars" }).Locator(".badge")).ToHaveTextAsync("aborted");
        await Assertions.Expect(page.Locator("tr", new() { HasText = "Street COCO" }).Locator(".badge")).ToHaveTextAsync("exported");
        await ConsoleServer.ScreenshotAsync(page, "exports");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Sign in to Annex" })).ToBeVisibleAsync();
        var after = await page.Context.APIRequest.GetAsync("/console/session");
        Assert.Equal(401, after.Status);
        var api = await page.Context.APIRequest.GetAsync("/api/v1/exports/");
        Assert.Equal(401, api.Status);
        Assert.Empty(dialogs);
    }

    [Fact]
    public async Task Api_keys_and_webhooks_are_managed_from_the_console()
    {
        var page = await server.NewPageAsync("dark");
        var dialogs = WatchDialogs(page, acceptConfirms: true);
        await SignInAsync(page, server.AdminKey);

        await page.GetByRole(AriaRole.Link, new() { Name = "API keys" }).ClickAsync();
        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("nightly training");
        await page.GetByLabel("exports.read").CheckAsync();
        await page.GetByLabel("Expires on (optional)").FillAsync(DateTime.UtcNow.AddDays(30).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secret = await page.Locator("#new-key-secret").InputValueAsync();
        Assert.StartsWith("avk_", secret, StringComparison.Ordinal);
        var row = page.Locator("tr", new() { HasText = "nightly training" });
        await Assertions.Expect(row).ToContainTextAsync("exports.read");
        await ConsoleServer.ScreenshotAsync(page, "api-keys");

        // The key shown works, once revoked it does not; and the page no longer holds it after a reload.
        using (var client = new HttpClient { BaseAddress = new Uri(server.BaseUrl) })
        {
            client.DefaultRequestHeaders.Add("X-Avala-Api-Key", secret);
            Assert.Equal(System.Net.HttpStatusCode.OK, (await client.GetAsync("/api/v1/exports/")).StatusCode);
            await row.GetByRole(AriaRole.Button, new() { Name = "Revoke nightly training" }).ClickAsync();
            await Assertions.Expect(row.Locator(".badge")).ToHaveTextAsync("revoked");
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await client.GetAsync("/api/v1/exports/")).StatusCode);
        }

        await page.ReloadAsync();
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("API keys");
        Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

        await page.GetByRole(AriaRole.Link, new() { Name = "Webhooks" }).ClickAsync();
        await page.GetByLabel("Address").FillAsync(server.HookUrl);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create webhook" }).ClickAsync();
        await Assertions.Expect(page.Locator(".once")).ToContainTextAsync("signing secret");
        await page.GetByRole(AriaRole.Link, new() { Name = server.HookUrl }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Send test event" }).ClickAsync();
        await Assertions.Expect(page.Locator("tr", new() { HasText = "webhook.test" }).Locator(".badge")).ToHaveTextAsync("delivered");
        await ConsoleServer.ScreenshotAsync(page, "webhook-deliveries");
        Assert.Empty(dialogs);
    }

    [Fact]
    public async Task A_read_only_key_sees_no_create_button_and_the_server_refuses_it_anyway()
    {
        var page = await server.NewPageAsync();
        await SignInAsync(page, server.ReadOnlyKey);
        await Assertions.Expect(page.Locator("#page-title")).ToHaveTextAsync("Exports");
        await Assertions.Expect(page.Locator("#who")).ToContainTextAsync("limited key");
        Assert.Equal(0, await page.GetByRole(AriaRole.Link, new() { Name = "New export" }).CountAsync());

        // The page's own session, with its CSRF token, still cannot create: the key lacks the scope.
        var status = await page.EvaluateAsync<int>("""
            async () => {
              const session = await (await fetch('/console/session')).json();
              const response = await fetch('/api/v1/exports/', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': session.csrf_token },
                body: JSON.stringify({ name: 'x', datasets: [] }) });
              return response.status;
            }
            """);
        Assert.Equal(403, status);
        // And without the token the cookie alone is refused before any scope is looked at.
        var withoutToken = await page.EvaluateAsync<int>("""
            async () => (await fetch('/api/v1/exports/', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}' })).status
            """);
        Assert.Equal(403, withoutToken);

        await page.GotoAsync("/#/api-keys");
        await Assertions.Expect(page.Locator("p.notice")).ToContainTextAsync("full organization access");
    }
}
