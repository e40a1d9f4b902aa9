using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Annex.Server.Features.Organizations;
using Annex.Server.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Deque.AxeCore.Playwright;
using Microsoft.Playwright;
using Xunit;

namespace Annex.Console.Tests;

/// <summary>
/// The real server on a localhost port, as two processes would run it in production: an API host (role <c>api</c>) and,
/// started when a test wants exports to run, a worker host (role <c>worker</c>) on the same data folder. Until the
/// worker starts, a new export stays requested, so one can be aborted from the console. Seeds an organization with a
/// dataset of images, a project with boxes, polygons, polylines and keypoints, and labels and metadata written to
/// break out of HTML.
/// </summary>
public sealed class ConsoleServer : IAsyncLifetime, IDisposable
{
    public const string ScriptLabel = "<script>alert(\"label\")</script>";
    public const string AttributeBreakout = "\"><img src=x onerror=alert(1)>";
    public const int ImageWidth = 640;
    public const int ImageHeight = 480;

    /// <summary>The car box on every item, in item pixels.</summary>
    public static readonly (double X, double Y, double Width, double Height) CarBox = (96, 200, 224, 120);

    private readonly string _dataPath = Path.Combine(Path.GetTempPath(), "annex-console-tests", Guid.NewGuid().ToString("N"));
    private readonly SemaphoreSlim _gate = new(1, 1);
    private WebApplication? _api;
    private WebApplication? _worker;
    private IPlaywright? _playwright;
    private IBrowser? _browser;
    private HttpListener? _hookReceiver;

    public string BaseUrl { get; private set; } = string.Empty;
    public string AdminKey { get; private set; } = string.Empty;
    public string ReadOnlyKey { get; private set; } = string.Empty;
    public HttpClient Api { get; private set; } = null!;
    public string DatasetUid { get; private set; } = string.Empty;
    public string ProjectUid { get; private set; } = string.Empty;
    public List<string> ItemUids { get; } = [];
    public string HookUrl { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        Directory.CreateDirectory(_dataPath);
        _api = AnnexApp.Build(HostArgs("api"));
        await _api.StartAsync();
        BaseUrl = _api.Urls.First().TrimEnd('/');

        await using (var scope = _api.Services.CreateAsyncScope())
        {
            var accounts = scope.ServiceProvider.GetRequiredService<Accounts>();
            var admin = await accounts.CreateOrganizationWithAdminAsync("Acme Robotics", "lead@example.com", CancellationToken.None);
            AdminKey = admin.Key;
            ReadOnlyKey = (await accounts.CreateApiKeyAsync(admin.UserUid, "dashboards", CancellationToken.None, ["exports.read", "datasets.read", "projects.read"])).Key;
        }

        Api = new HttpClient { BaseAddress = new Uri(BaseUrl) };
        Api.DefaultRequestHeaders.Add("X-Avala-Api-Key", AdminKey);
        await SeedAsync();
        StartHookReceiver();
    }

    private string[] HostArgs(string role) =>
    [
        "--urls=http://127.0.0.1:0",
        $"--Storage:DataPath={_dataPath}",
        $"--Server:Role={role}",
        "--Exports:PollInterval=00:00:00.200",
        "--Exports:HeartbeatInterval=00:00:00.200",
        "--Webhooks:PollInterval=00:00:00.200",
        "--Webhooks:AllowPrivateAddresses=true",
        "--RateLimiting:PermitLimit=1000000",
        "--RateLimiting:BurstLimit=1000000",
        "--Logging:LogLevel:Default=Warning",
    ];

    /// <summary>Starts the export worker (once): exports requested so far begin to run.</summary>
    public async Task StartWorkerAsync()
    {
        await _gate.WaitAsync();
        try
        {
            if (_worker is null)
            {
                _worker = AnnexApp.Build(HostArgs("worker"));
                await _worker.StartAsync();
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>A fresh browser page at 1280 px (a laptop), downloads allowed; skips when chromium is missing.</summary>
    public async Task<IPage> NewPageAsync(string colorScheme = "light")
    {
        var chromium = Requirements.RequireChromium();
        await _gate.WaitAsync();
        try
        {
            // The machine running the tests may be busy (a whole solution's tests at once): waits are generous.
            Assertions.SetDefaultExpectTimeout(20_000);
            _playwright ??= await Playwright.CreateAsync();
            _browser ??= await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
            {
                ExecutablePath = chromium,
                Headless = true,
                Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
            });
        }
        finally
        {
            _gate.Release();
        }

        var context = await _browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseUrl,
            ViewportSize = new ViewportSize { Width = 1280, Height = 860 },
            AcceptDownloads = true,
            ColorScheme = colorScheme == "dark" ? ColorScheme.Dark : ColorScheme.Light,
        });
        context.SetDefaultTimeout(30_000);
        return await context.NewPageAsync();
    }

    private async Task SeedAsync()
    {
        var project = await PostAsync("/api/v1/projects/", new
        {
            name = "Street scenes",
            labels = new object[]
            {
                new { name = "car", color = "#E03131" },
                new
                {
                    name = "pedestrian", color = "#2F9E44",
                    keypoints = new[] { "head", "left_hand", "right_hand", "left_foot", "right_foot" },
                    skeleton = new[] { new[] { 1, 2 }, new[] { 1, 3 }, new[] { 1, 4 }, new[] { 1, 5 } },
                },
                new { name = "lane", color = "#1C7ED6" },
                new { name = "sign", color = "#F08C00" },
                new { name = ScriptLabel, color = "#7048E8" },
            },
        });
        ProjectUid = project["uid"]!.GetValue<string>();

        var dataset = await PostAsync("/api/v1/datasets/", new { name = "Street cameras" });
        DatasetUid = dataset["uid"]!.GetValue<string>();
        var items = Enumerable.Range(1, 6).Select(n => new
        {
            ref_id = $"cam{n:D2}.png",
            width = ImageWidth,
            height = ImageHeight,
            metadata = new { time = n % 2 == 0 ? "day" : "night", camera = $"north-{n}", note = n == 1 ? AttributeBreakout : "clear" },
        }).ToArray();
        var created = await PostAsync($"/api/v1/datasets/{DatasetUid}/items/", new { items });
        ItemUids.AddRange(created["items"]!.AsArray().Select(i => i!["uid"]!.GetValue<string>()));

        var image = TestPng.Draw(ImageWidth, ImageHeight,
            new TestPng.Fill((int)CarBox.X, (int)CarBox.Y, (int)CarBox.Width, (int)CarBox.Height, 200, 40, 40),
            new TestPng.Fill(420, 140, 60, 150, 60, 160, 80));
        foreach (var uid in ItemUids)
        {
            using var form = new MultipartFormDataContent();
            var file = new ByteArrayContent(image);
            file.Headers.ContentType = new MediaTypeHeaderValue("image/png");
            form.Add(file, "file", "frame.png");
            using var upload = await Api.PutAsync($"/api/v1/datasets/{DatasetUid}/items/{uid}/media/", form);
            await EnsureAsync(upload);
        }

        var results = ItemUids.Select((uid, i) => new
        {
            dataset_item_uid = uid,
            annotations = new object[]
            {
                new { label = "car", type = "bounding_box", coordinates = new { x = CarBox.X, y = CarBox.Y, width = CarBox.Width, height = CarBox.Height }, attributes = new { occluded = false, make = i == 0 ? AttributeBreakout : "hatchback" } },
                new { label = "sign", type = "bounding_box", coordinates = new { x = 520.0, y = 40.0, width = 60.0, height = 40.0, rotation = 0.35 }, attributes = new { } },
                new { label = "lane", type = "polyline", coordinates = new { vertices = new[] { new[] { 0.0, 470.0 }, new[] { 200.0, 380.0 }, new[] { 330.0, 340.0 } } }, attributes = new { } },
                new { label = "car", type = "polygon", coordinates = new { vertices = new[] { new[] { 30.0, 60.0 }, new[] { 150.0, 40.0 }, new[] { 180.0, 130.0 }, new[] { 50.0, 150.0 } } }, attributes = new { } },
                new
                {
                    label = "pedestrian", type = "keypoints",
                    coordinates = new
                    {
                        points = new object[]
                        {
                            new { x = 450.0, y = 150.0, label = "head", visible = true },
                            new { x = 425.0, y = 210.0, label = "left_hand", visible = true },
                            new { x = 475.0, y = 210.0, label = "right_hand", visible = true },
                            new { x = 435.0, y = 285.0, label = "left_foot", visible = true },
                            new { x = 465.0, y = 285.0, label = "right_foot", visible = true },
                        },
                    },
                    attributes = new { },
                },
                new { label = ScriptLabel, type = "bounding_box", coordinates = new { x = 10.0, y = 300.0, width = 50.0, height = 50.0 }, attributes = new { } },
            },
        }).ToArray();
        await PostAsync($"/api/v1/projects/{ProjectUid}/results/", new { results }, HttpStatusCode.OK, HttpStatusCode.Created);
    }

    private async Task<JsonNode> PostAsync(string url, object body, params HttpStatusCode[] expected)
    {
        using var response = await Api.PostAsJsonAsync(url, body);
        await EnsureAsync(response, expected);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
    }

    private static async Task EnsureAsync(HttpResponseMessage response, params HttpStatusCode[] expected)
    {
        if (expected.Length == 0 ? !response.IsSuccessStatusCode : !expected.Contains(response.StatusCode))
        {
            throw new InvalidOperationException($"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>A local endpoint for webhook deliveries: answers 204 to everything, on 127.0.0.1 only.</summary>
    private void StartHookReceiver()
    {
        for (var attempt = 0; attempt < 5 && _hookReceiver is null; attempt++)
        {
            var port = FreePort();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            try
            {
                listener.Start();
            }
            catch (HttpListenerException)
            {
                listener.Close();
                continue;
            }

            _hookReceiver = listener;
            HookUrl = $"http://127.0.0.1:{port}/hooks/annex";
        }

        _ = Task.Run(async () =>
        {
            while (_hookReceiver is { IsListening: true } listener)
            {
                try
                {
                    var context = await listener.GetContextAsync();
                    context.Response.StatusCode = 204;
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException)
                {
                    return;
                }
            }
        });
    }

    private static int FreePort()
    {
        using var socket = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        socket.Start();
        return ((IPEndPoint)socket.LocalEndpoint).Port;
    }

    /// <summary>Where screenshots go: the test's output folder, and docs/console/ of the repository when
    /// ANNEX_UPDATE_SCREENSHOTS=1 (how the documentation's pictures are refreshed).</summary>
    public static async Task ScreenshotAsync(IPage page, string name)
    {
        await AssertAccessibleAsync(page, name);
        var folder = Path.Combine(AppContext.BaseDirectory, "screenshots");
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".png");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = false });
        if (Environment.GetEnvironmentVariable("ANNEX_UPDATE_SCREENSHOTS") == "1" && RepositoryRoot() is { } root)
        {
            var docs = Path.Combine(root, "docs", "console");
            Directory.CreateDirectory(docs);
            File.Copy(path, Path.Combine(docs, name + ".png"), overwrite: true);
        }
    }

    /// <summary>axe-core's rules on the page as it stands: no serious or critical violation (missing labels, names,
    /// contrast, landmarks, ARIA misuse).</summary>
    public static async Task AssertAccessibleAsync(IPage page, string name)
    {
        var result = await page.RunAxe();
        var violations = result.Violations
            .Where(v => v.Impact is "serious" or "critical")
            .Select(v => $"{v.Id} ({v.Impact}): {v.Help} at {string.Join(", ", v.Nodes.Take(3).Select(n => n.Target?.ToString()))}")
            .ToList();
        Assert.True(violations.Count == 0, $"accessibility violations on {name}:\n" + string.Join("\n", violations));
    }

    private static string? RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Annex.sln")))
            {
                return dir.FullName;
            }
        }

        return null;
    }

    public void Dispose() => _gate.Dispose();

    public async Task DisposeAsync()
    {
        if (_browser is not null)
        {
            await _browser.CloseAsync();
        }

        _playwright?.Dispose();
        _hookReceiver?.Close();
        Api?.Dispose();
        if (_worker is not null)
        {
            await _worker.StopAsync();
            await _worker.DisposeAsync();
        }

        if (_api is not null)
        {
            await _api.StopAsync();
            await _api.DisposeAsync();
        }

        try
        {
            Directory.Delete(_dataPath, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
