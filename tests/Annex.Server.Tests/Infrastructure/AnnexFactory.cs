using System.Collections.Concurrent;
using System.Net.Http.Headers;
using Annex.Server.Features.Organizations;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>A real server (the whole HTTP pipeline, the export worker, the database and the local blob
/// store) in the test process, on its own data folder, and on PostgreSQL its own database
/// (see <see cref="TestDatabase"/>).</summary>
public sealed class AnnexFactory : WebApplicationFactory<Program>
{
    // Factories that reopen a data folder (a restarted server) reopen its database too.
    private static readonly ConcurrentDictionary<string, string> PostgresDatabases = new(StringComparer.Ordinal);

    private readonly bool _ownsDataPath;
    private readonly Dictionary<string, string?> _settings;

    private readonly Action<IServiceCollection>? _services;

    /// <param name="dataPath">An existing data folder to reopen (a restarted server); a new one when null.</param>
    /// <param name="settings">Server settings on top of the test defaults.</param>
    /// <param name="services">Replaces server services, for fault injection (e.g. a disk that is full).</param>
    public AnnexFactory(string? dataPath = null, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null)
    {
        _services = services;
        _ownsDataPath = dataPath is null;
        DataPath = dataPath ?? NewDataPath();
        _settings = new Dictionary<string, string?>(settings ?? new Dictionary<string, string?>());
    }

    public string DataPath { get; }

    public static string NewDataPath() => Path.Combine(Path.GetTempPath(), "annex-tests", Guid.NewGuid().ToString("N"));

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Storage:DataPath", DataPath);
        builder.UseSetting("Exports:PollInterval", "00:00:00.200");
        builder.UseSetting("Exports:HeartbeatInterval", "00:00:00.200");
        // Suites send many requests per second with one key; the rate limit tests lower these again.
        builder.UseSetting("RateLimiting:PermitLimit", "1000000");
        builder.UseSetting("RateLimiting:BurstLimit", "1000000");
        builder.UseSetting("Logging:LogLevel:Default", Environment.GetEnvironmentVariable("ANNEX_TEST_LOG") ?? "Warning");
        if (TestDatabase.IsPostgres && !_settings.ContainsKey("Database:Provider"))
        {
            builder.UseSetting("Database:Provider", "Postgres");
            builder.UseSetting("Database:ConnectionString", PostgresDatabases.GetOrAdd(DataPath, _ => PostgresServer.CreateDatabase()));
        }

        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        if (_services is not null)
        {
            builder.ConfigureTestServices(_services);
        }
    }

    /// <summary>A new organization with an admin, and a client that sends the admin's key.</summary>
    public async Task<TenantClient> CreateTenantAsync(string name = "Acme")
    {
        await using var scope = Services.CreateAsyncScope();
        var accounts = scope.ServiceProvider.GetRequiredService<Accounts>();
        var issued = await accounts.CreateOrganizationWithAdminAsync(name, $"{Guid.NewGuid():N}@example.com", CancellationToken.None);
        return new TenantClient(CreateClientWithKey(issued.Key), issued);
    }

    public HttpClient CreateClientWithKey(string? key)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (key is not null)
        {
            client.DefaultRequestHeaders.Add("X-Avala-Api-Key", key);
        }

        client.DefaultRequestHeaders.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
        return client;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing && _ownsDataPath)
        {
            TryDelete(DataPath);
            if (PostgresDatabases.TryRemove(DataPath, out var connectionString))
            {
                PostgresServer.DropDatabase(connectionString);
            }
        }
    }

    public static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}

public sealed record TenantClient(HttpClient Http, IssuedApiKey Key);
