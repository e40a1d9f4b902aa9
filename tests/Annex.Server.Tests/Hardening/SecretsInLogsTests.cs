using System.Collections.Concurrent;
using System.Net;
using System.Text;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Xunit;

namespace Annex.Server.Tests.Hardening;

/// <summary>With every log category at Trace, no log line, scope or exception written while keys are used,
/// refused, created and revoked holds a key or a webhook secret.</summary>
public sealed class SecretsInLogsTests
{
    [Fact]
    public async Task Api_keys_and_webhook_secrets_never_reach_the_logs()
    {
        var logs = new CapturingLoggerProvider();
        using var factory = new AnnexFactory(
            settings: new Dictionary<string, string?>(TenantObjects.ServerSettings) { ["Logging:LogLevel:Default"] = "Trace", ["Logging:LogLevel:Microsoft"] = "Trace" },
            services: s => s.AddSingleton<ILoggerProvider>(logs));
        var tenant = await factory.CreateTenantAsync();
        var admin = tenant.Key.Key;

        var created = await tenant.Http.PostOkAsync("/api/v1/api-keys/", new { name = "pipeline", scopes = new[] { "exports.read" } });
        var scoped = created["key"]!.GetValue<string>();
        using var scopedClient = factory.CreateClientWithKey(scoped);
        Assert.Equal(HttpStatusCode.OK, (await scopedClient.GetJsonAsync("/api/v1/exports/")).Status);
        Assert.Equal(HttpStatusCode.Forbidden, (await scopedClient.PostJsonAsync("/api/v1/datasets/", new { name = "x" })).Status);

        using var wrongClient = factory.CreateClientWithKey(admin[..^2] + "zz");
        Assert.Equal(HttpStatusCode.Unauthorized, (await wrongClient.GetJsonAsync("/api/v1/exports/")).Status);

        const string secret = "webhook-secret-6f1d2a";
        // Its delivery goes to a closed loopback port and fails, so the failure is logged too.
        await tenant.Http.PostOkAsync("/api/v1/webhooks/", new { url = TenantObjects.WebhookUrl, events = new[] { "export.completed" }, secret });
        var dataset = await Seed.DatasetAsync(tenant.Http);
        await Seed.ItemsAsync(tenant.Http, dataset, 2);
        var export = (await Seed.ExportAsync(tenant.Http, "logged", datasets: [dataset]))["uid"]!.GetValue<string>();
        await Seed.WaitForAsync(tenant.Http, export, ["exported"]);

        using (var revoked = await tenant.Http.DeleteAsync($"/api/v1/api-keys/{created["uid"]!.GetValue<string>()}/"))
        {
            Assert.True(revoked.IsSuccessStatusCode);
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await scopedClient.GetJsonAsync("/api/v1/exports/")).Status);

        var lines = logs.Lines.ToList();
        Assert.True(lines.Count > 20, $"only {lines.Count} log lines were captured; the capture is not working");
        foreach (var needle in new[] { admin, scoped, admin[..^2] + "zz", secret, admin["avk_".Length..], scoped["avk_".Length..] })
        {
            var leaks = lines.Where(l => l.Contains(needle, StringComparison.Ordinal)).ToList();
            Assert.True(leaks.Count == 0, "a secret reached the logs:\n" + string.Join('\n', leaks.Take(5)));
        }
    }

    /// <summary>Keeps every message with its scopes and exception text.</summary>
    private sealed class CapturingLoggerProvider : ILoggerProvider, ISupportExternalScope
    {
        private readonly ConcurrentQueue<string> _lines = new();
        private IExternalScopeProvider _scopes = new LoggerExternalScopeProvider();

        public IEnumerable<string> Lines => _lines;

        public ILogger CreateLogger(string categoryName) => new Capturing(this, categoryName);

        public void SetScopeProvider(IExternalScopeProvider scopeProvider) => _scopes = scopeProvider;

        public void Dispose()
        {
        }

        private sealed class Capturing(CapturingLoggerProvider owner, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => owner._scopes.Push(state);

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                var line = new StringBuilder($"{category} [{logLevel}] {formatter(state, exception)}");
                if (state is IEnumerable<KeyValuePair<string, object?>> values)
                {
                    foreach (var (key, value) in values)
                    {
                        line.Append(' ').Append(key).Append('=').Append(value);
                    }
                }

                owner._scopes.ForEachScope((scope, text) => text.Append(" scope=").Append(scope), line);
                if (exception is not null)
                {
                    line.Append(' ').Append(exception);
                }

                owner._lines.Enqueue(line.ToString());
            }
        }
    }
}
