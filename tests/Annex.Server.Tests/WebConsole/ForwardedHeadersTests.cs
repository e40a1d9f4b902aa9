using System.Net;
using System.Net.Http.Json;
using Annex.Server.Tests.Infrastructure;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Annex.Server.Tests.WebConsole;

/// <summary>Behind a reverse proxy that terminates TLS: with <c>ForwardedHeaders:Enabled</c>, <c>X-Forwarded-Proto: https</c>
/// from a listed proxy makes the session cookie Secure and the server's links https; from any other peer, or with the
/// setting off (the default), the header changes nothing.</summary>
public sealed class ForwardedHeadersTests
{
    /// <summary>The listed proxy (a documentation address; the in-process test server has no network peer, so the
    /// peer's address is set from <see cref="PeerHeader"/> before the server's pipeline runs).</summary>
    private const string Proxy = "192.0.2.10";

    private const string PeerHeader = "X-Test-Peer";

    [Fact]
    public async Task A_listed_proxy_forwarding_https_makes_the_cookie_secure_and_the_links_https()
    {
        using var factory = Factory(enabled: true);
        var (cookie, downloadUrl, next) = await SignInAndReadLinksAsync(factory, peer: Proxy);
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("https://", downloadUrl, StringComparison.Ordinal);
        Assert.StartsWith("https://", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_listed_network_is_trusted_like_a_listed_proxy()
    {
        using var factory = Factory(enabled: true, proxy: null, network: "198.51.100.0/24");
        var (cookie, _, next) = await SignInAndReadLinksAsync(factory, peer: "198.51.100.77");
        Assert.Contains("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("https://", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_header_from_a_peer_that_is_not_listed_changes_nothing()
    {
        using var factory = Factory(enabled: true);
        var (cookie, downloadUrl, next) = await SignInAndReadLinksAsync(factory, peer: "203.0.113.5");
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("http://", downloadUrl, StringComparison.Ordinal);
        Assert.StartsWith("http://", next, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Off_by_default_the_header_changes_nothing_even_from_the_proxy()
    {
        using var factory = Factory(enabled: false);
        var (cookie, downloadUrl, next) = await SignInAndReadLinksAsync(factory, peer: Proxy);
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.StartsWith("http://", downloadUrl, StringComparison.Ordinal);
        Assert.StartsWith("http://", next, StringComparison.Ordinal);
    }

    [Fact]
    public void A_proxy_that_is_not_an_address_stops_the_server_at_start_with_the_reason()
    {
        using var factory = Factory(enabled: true, proxy: "proxy.internal");
        var error = Assert.ThrowsAny<Exception>(() => factory.CreateClient());
        Assert.Contains("\"proxy.internal\" is not an IP address", Flatten(error), StringComparison.Ordinal);
    }

    private static string Flatten(Exception error) => error.InnerException is null ? error.Message : error.Message + " " + Flatten(error.InnerException);

    private static AnnexFactory Factory(bool enabled, string? proxy = Proxy, string? network = null)
    {
        var all = new Dictionary<string, string?>();
        if (enabled)
        {
            all["ForwardedHeaders:Enabled"] = "true";
        }

        if (proxy is not null)
        {
            all["ForwardedHeaders:KnownProxies:0"] = proxy;
        }

        if (network is not null)
        {
            all["ForwardedHeaders:KnownNetworks:0"] = network;
        }

        return new AnnexFactory(settings: all, services: s => s.AddTransient<IStartupFilter, PeerAddressFilter>());
    }

    /// <summary>Signs in and reads, through the proxy, the cookie, a finished export's download link and a list's next page.</summary>
    private static async Task<(string Cookie, string DownloadUrl, string Next)> SignInAndReadLinksAsync(AnnexFactory factory, string peer)
    {
        var tenant = await factory.CreateTenantAsync();
        var project = await Seed.ProjectAsync(tenant.Http);
        await Seed.DatasetAsync(tenant.Http, "First");
        var dataset = await Seed.DatasetAsync(tenant.Http, "Second");
        var items = await Seed.ItemsAsync(tenant.Http, dataset, 2);
        await Seed.ResultsAsync(tenant.Http, project, items, perItem: 1);
        var export = await Seed.ExportAsync(tenant.Http, "proxied", datasets: [dataset]);
        await Seed.WaitForAsync(tenant.Http, export["uid"]!.GetValue<string>(), ["exported"]);

        using var browser = factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        browser.DefaultRequestHeaders.Add(PeerHeader, peer);
        browser.DefaultRequestHeaders.Add("X-Forwarded-Proto", "https");
        browser.DefaultRequestHeaders.Add("X-Forwarded-For", "203.0.113.200");
        using var signIn = await browser.PostAsync("/console/session", JsonContent.Create(new { api_key = tenant.Key.Key }));
        Assert.Equal(HttpStatusCode.Created, signIn.StatusCode);
        var cookie = Assert.Single(signIn.Headers.GetValues("Set-Cookie"));

        browser.DefaultRequestHeaders.Add("X-Avala-Api-Key", tenant.Key.Key);
        var finished = await browser.GetOkAsync($"/api/v1/exports/{export["uid"]!.GetValue<string>()}/");
        var datasets = await browser.GetOkAsync("/api/v1/datasets/?limit=1");
        return (cookie, finished["download_url"]!.GetValue<string>(), datasets["next"]!.GetValue<string>());
    }

    /// <summary>Sets the connection's remote address from <see cref="PeerHeader"/>, ahead of the server's own pipeline.</summary>
    private sealed class PeerAddressFilter : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((HttpContext context, RequestDelegate nextMiddleware) =>
            {
                if (context.Request.Headers.TryGetValue(PeerHeader, out var peer))
                {
                    context.Connection.RemoteIpAddress = IPAddress.Parse(peer.ToString());
                }

                return nextMiddleware(context);
            });
            next(app);
        };
    }
}
