using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Annex.Server.Features.Organizations;
using Annex.Server.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Xunit;

namespace Annex.Server.Tests.WebConsole;

/// <summary>The web console's sign-in: an API key becomes an HttpOnly, SameSite=Strict session cookie that the API
/// accepts as the key; state-changing requests with the cookie need the session's CSRF token; sessions end.</summary>
public sealed class ConsoleSessionTests : IDisposable
{
    private readonly ShiftedTime _time = new();
    private readonly AnnexFactory _factory;

    public ConsoleSessionTests()
    {
        _factory = new AnnexFactory(
            settings: new Dictionary<string, string?> { ["Console:SessionLifetime"] = "02:00:00" },
            services: s => s.Replace(ServiceDescriptor.Singleton<TimeProvider>(_time)));
    }

    public void Dispose() => _factory.Dispose();

    [Fact]
    public async Task Signing_in_sets_a_strict_http_only_cookie_that_the_api_accepts_as_the_key()
    {
        var tenant = await _factory.CreateTenantAsync();
        using var browser = Browser();
        using var response = await SignInAsync(browser, tenant.Key.Key);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);

        var cookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        Assert.StartsWith("annex_session=", cookie, StringComparison.Ordinal);
        Assert.Contains("httponly", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", cookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", cookie, StringComparison.OrdinalIgnoreCase);
        // Plain HTTP here: a Secure cookie would never be sent back.
        Assert.DoesNotContain("secure", cookie, StringComparison.OrdinalIgnoreCase);
        var token = cookie["annex_session=".Length..cookie.IndexOf(';', StringComparison.Ordinal)];
        Assert.DoesNotContain(tenant.Key.Key, token, StringComparison.Ordinal);

        var body = await response.Content.ReadAsStringAsync();
        Assert.DoesNotContain(tenant.Key.Key, body, StringComparison.Ordinal);
        var session = JsonNode.Parse(body)!;
        Assert.Equal("Acme", session["organization"]!["name"]!.GetValue<string>());
        Assert.True(session["full_access"]!.GetValue<bool>());
        Assert.Empty(session["scopes"]!.AsArray());
        Assert.Equal(tenant.Key.Uid.ToString(), session["api_key"]!["uid"]!.GetValue<string>());
        Assert.False(string.IsNullOrEmpty(session["csrf_token"]!.GetValue<string>()));

        var (status, whoAmI) = await browser.GetJsonAsync("/console/session");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(session["csrf_token"]!.GetValue<string>(), whoAmI!["csrf_token"]!.GetValue<string>());

        // The cookie alone reads the organization's data, as the key would.
        await Seed.DatasetAsync(tenant.Http, "Visible");
        var datasets = await browser.GetOkAsync("/api/v1/datasets/");
        Assert.Contains(datasets["results"]!.AsArray(), d => d!["name"]!.GetValue<string>() == "Visible");

        // Only the hash of the cookie's value is stored.
        using var scope = _factory.Services.CreateScope();
        var db = scope.ServiceProvider.GetRequiredService<Annex.Server.Infrastructure.Data.AnnexDbContext>();
        var stored = Assert.Single(db.ConsoleSessions.ToList());
        Assert.NotEqual(token, stored.TokenHash);
        Assert.Equal(Annex.Server.Infrastructure.Auth.ApiKeys.Hash(token), stored.TokenHash);
    }

    [Fact]
    public async Task State_changing_requests_with_the_cookie_need_the_csrf_token_and_key_requests_do_not()
    {
        var tenant = await _factory.CreateTenantAsync();
        using var browser = Browser();
        var csrf = await SignedInCsrfAsync(browser, tenant.Key.Key);

        var (missing, missingBody) = await SendAsync(browser, HttpMethod.Post, "/api/v1/datasets/", new { name = "NoToken" }, csrf: null);
        Assert.Equal(HttpStatusCode.Forbidden, missing);
        Assert.Equal("CSRF Failed: CSRF token missing or incorrect.", missingBody!["detail"]!.GetValue<string>());
        var (wrong, _) = await SendAsync(browser, HttpMethod.Post, "/api/v1/datasets/", new { name = "WrongToken" }, csrf: csrf + "x");
        Assert.Equal(HttpStatusCode.Forbidden, wrong);
        var (right, created) = await SendAsync(browser, HttpMethod.Post, "/api/v1/datasets/", new { name = "WithToken" }, csrf: csrf);
        Assert.Equal(HttpStatusCode.Created, right);
        Assert.Equal("WithToken", created!["name"]!.GetValue<string>());

        // Nothing was created by the refused requests.
        var names = (await tenant.Http.GetOkAsync("/api/v1/datasets/"))["results"]!.AsArray().Select(d => d!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["WithToken"], names);

        // An API key request needs no token.
        await Seed.DatasetAsync(tenant.Http, "ByKey");

        // Signing out needs the token too; then the cookie is worth nothing.
        var (refusedSignOut, _) = await SendAsync(browser, HttpMethod.Delete, "/console/session", null, csrf: null);
        Assert.Equal(HttpStatusCode.Forbidden, refusedSignOut);
        var (signedOut, _) = await SendAsync(browser, HttpMethod.Delete, "/console/session", null, csrf: csrf);
        Assert.Equal(HttpStatusCode.NoContent, signedOut);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetJsonAsync("/console/session")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetJsonAsync("/api/v1/datasets/")).Status);
    }

    [Fact]
    public async Task A_read_only_key_signs_in_with_its_scopes_and_the_server_refuses_writes()
    {
        var tenant = await _factory.CreateTenantAsync();
        var readOnly = await IssueKeyAsync(tenant, ["exports.read", "datasets.read"]);
        using var browser = Browser();
        var csrf = await SignedInCsrfAsync(browser, readOnly.Key);

        var session = await browser.GetOkAsync("/console/session");
        Assert.False(session["full_access"]!.GetValue<bool>());
        Assert.Equal(["datasets.read", "exports.read"], session["scopes"]!.AsArray().Select(s => s!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.OK, (await browser.GetJsonAsync("/api/v1/exports/")).Status);
        var (status, body) = await SendAsync(browser, HttpMethod.Post, "/api/v1/exports/", new { name = "x", datasets = Array.Empty<string>() }, csrf);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("This API key does not have the \"exports.create\" scope.", body!["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task Sessions_expire_after_their_lifetime_and_end_with_their_key()
    {
        var tenant = await _factory.CreateTenantAsync();
        using var browser = Browser();
        await SignedInCsrfAsync(browser, tenant.Key.Key);

        _time.Offset = TimeSpan.FromHours(1) + TimeSpan.FromMinutes(59);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetJsonAsync("/api/v1/datasets/")).Status);
        _time.Offset = TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetJsonAsync("/api/v1/datasets/")).Status);
        using var expired = await browser.GetAsync("/console/session");
        Assert.Equal(HttpStatusCode.Unauthorized, expired.StatusCode);
        // The stale cookie is cleared.
        Assert.Contains(expired.Headers.GetValues("Set-Cookie"), c => c.StartsWith("annex_session=;", StringComparison.Ordinal));

        // A new sign-in works, and revoking its key ends it at once.
        using var again = Browser();
        var second = await IssueKeyAsync(tenant, []);
        await SignedInCsrfAsync(again, second.Key);
        Assert.Equal(HttpStatusCode.OK, (await again.GetJsonAsync("/console/session")).Status);
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.SendAsync(HttpMethod.Delete, $"/api/v1/api-keys/{second.Uid}/")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.GetJsonAsync("/console/session")).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await again.GetJsonAsync("/api/v1/datasets/")).Status);
    }

    [Fact]
    public async Task Sign_in_refuses_bad_keys_forms_and_other_sites()
    {
        var tenant = await _factory.CreateTenantAsync();
        using var browser = Browser();

        var (invalid, invalidBody) = await SendAsync(browser, HttpMethod.Post, "/console/session", new { api_key = "avk_nope" }, csrf: null);
        Assert.Equal(HttpStatusCode.BadRequest, invalid);
        Api.AssertJson("""{"api_key": ["Invalid API key."]}""", invalidBody);
        var (blank, blankBody) = await SendAsync(browser, HttpMethod.Post, "/console/session", new { }, csrf: null);
        Assert.Equal(HttpStatusCode.BadRequest, blank);
        Api.AssertJson("""{"api_key": ["This field is required."]}""", blankBody);

        // A cross-site HTML form can only send form bodies.
        using var form = await browser.PostAsync("/console/session", new StringContent("api_key=" + tenant.Key.Key, Encoding.UTF8, "application/x-www-form-urlencoded"));
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, form.StatusCode);
        Assert.False(form.Headers.Contains("Set-Cookie"));

        using var crossSite = new HttpRequestMessage(HttpMethod.Post, "/console/session") { Content = JsonContent.Create(new { api_key = tenant.Key.Key }) };
        crossSite.Headers.Add("Sec-Fetch-Site", "cross-site");
        using var crossSiteResponse = await browser.SendAsync(crossSite);
        Assert.Equal(HttpStatusCode.Forbidden, crossSiteResponse.StatusCode);
        Assert.False(crossSiteResponse.Headers.Contains("Set-Cookie"));

        var revoked = await IssueKeyAsync(tenant, []);
        await tenant.Http.SendAsync(HttpMethod.Delete, $"/api/v1/api-keys/{revoked.Uid}/");
        Assert.Equal(HttpStatusCode.BadRequest, (await SendAsync(browser, HttpMethod.Post, "/console/session", new { api_key = revoked.Key }, csrf: null)).Status);
        Assert.Equal(HttpStatusCode.Unauthorized, (await browser.GetJsonAsync("/console/session")).Status);
    }

    [Fact]
    public async Task The_console_is_served_at_the_root_under_a_strict_content_security_policy()
    {
        using var anonymous = _factory.CreateClientWithKey(null);
        using var page = await anonymous.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Equal("text/html", page.Content.Headers.ContentType!.MediaType);
        var csp = string.Join(";", page.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("script-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("style-src 'self'", csp, StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", csp, StringComparison.Ordinal);
        Assert.DoesNotContain("unsafe", csp, StringComparison.Ordinal);

        // No inline script or style in the page: everything comes from the embedded assets.
        var html = await page.Content.ReadAsStringAsync();
        Assert.DoesNotMatch("<script(?![^>]*\\bsrc=)[^>]*>", html);
        Assert.DoesNotContain("<style", html, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(" style=", html, StringComparison.OrdinalIgnoreCase);

        using var script = await anonymous.GetAsync("/console/assets/app.js");
        Assert.Equal(HttpStatusCode.OK, script.StatusCode);
        Assert.Equal("text/javascript", script.Content.Headers.ContentType!.MediaType);
        var etag = script.Headers.ETag!.Tag;
        using var conditional = new HttpRequestMessage(HttpMethod.Get, "/console/assets/app.js");
        conditional.Headers.TryAddWithoutValidation("If-None-Match", etag);
        Assert.Equal(HttpStatusCode.NotModified, (await anonymous.SendAsync(conditional)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await anonymous.GetAsync("/console/assets/app.css")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await anonymous.GetAsync("/console/assets/missing.js")).StatusCode);

        // The API keeps its own, stricter policy.
        using var api = await anonymous.GetAsync("/api/v1/exports/");
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", string.Join(";", api.Headers.GetValues("Content-Security-Policy")));
    }

    private HttpClient Browser() => _factory.CreateClient(new Microsoft.AspNetCore.Mvc.Testing.WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    private static Task<HttpResponseMessage> SignInAsync(HttpClient browser, string key) =>
        browser.PostAsync("/console/session", JsonContent.Create(new { api_key = key }));

    private static async Task<string> SignedInCsrfAsync(HttpClient browser, string key)
    {
        using var response = await SignInAsync(browser, key);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return JsonNode.Parse(await response.Content.ReadAsStringAsync())!["csrf_token"]!.GetValue<string>();
    }

    private static async Task<(HttpStatusCode Status, JsonNode? Body)> SendAsync(HttpClient client, HttpMethod method, string url, object? body, string? csrf)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = JsonContent.Create(body);
        }

        if (csrf is not null)
        {
            request.Headers.Add("X-CSRF-Token", csrf);
        }

        using var response = await client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, text.Length == 0 ? null : JsonNode.Parse(text));
    }

    private async Task<IssuedApiKey> IssueKeyAsync(TenantClient tenant, string[] scopes)
    {
        using var scope = _factory.Services.CreateScope();
        var accounts = scope.ServiceProvider.GetRequiredService<Accounts>();
        return await accounts.CreateApiKeyAsync(tenant.Key.UserUid, "console", CancellationToken.None, scopes);
    }

    /// <summary>The system clock moved forward by <see cref="Offset"/>.</summary>
    private sealed class ShiftedTime : TimeProvider
    {
        public TimeSpan Offset { get; set; }

        public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + Offset;
    }
}
