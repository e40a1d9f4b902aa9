using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Annex.Client;

/// <summary>A typed client for an Annex server, or any server speaking the Avala Exports API.</summary>
/// <remarks>All calls authenticate with the <c>X-Avala-Api-Key</c> header. The client follows the server's
/// <c>X-RateLimit-*</c> headers: when a window is spent it waits for it to reset rather than be refused. Answers
/// 429 and 503 are retried (honouring <c>Retry-After</c>) up to <see cref="AnnexClientOptions.MaxRetries"/> times; other error
/// statuses throw an <see cref="AnnexApiException"/> subclass. One instance can serve many concurrent calls.</remarks>
public sealed partial class AnnexClient : IDisposable
{
    public const string ApiKeyHeader = "X-Avala-Api-Key";

    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    };

    private readonly HttpClient _http;
    private readonly bool _ownsHttp;
    private readonly string _apiKey;
    private readonly RateLimitPacer _pacer = new(TimeProvider.System);

    /// <summary>A client with its own <see cref="HttpClient"/>.</summary>
    /// <param name="server">The server, e.g. <c>http://localhost:5080</c>; a URL ending in <c>/api/v1</c> works too.</param>
    /// <param name="apiKey">The API key sent as <c>X-Avala-Api-Key</c>.</param>
    /// <param name="options">Retry and paging settings.</param>
    public AnnexClient(Uri server, string apiKey, AnnexClientOptions? options = null)
        : this(new HttpClient { Timeout = Timeout.InfiniteTimeSpan }, server, apiKey, options, ownsHttp: true)
    {
    }

    /// <summary>A client over a given <see cref="HttpClient"/>, which the caller keeps owning.</summary>
    /// <param name="http">The HTTP client to send with; its BaseAddress is not used.</param>
    /// <param name="server">The server, e.g. <c>http://localhost:5080</c>; a URL ending in <c>/api/v1</c> works too.</param>
    /// <param name="apiKey">The API key sent as <c>X-Avala-Api-Key</c>.</param>
    /// <param name="options">Retry and paging settings.</param>
    public AnnexClient(HttpClient http, Uri server, string apiKey, AnnexClientOptions? options = null)
        : this(http, server, apiKey, options, ownsHttp: false)
    {
    }

    private AnnexClient(HttpClient http, Uri server, string apiKey, AnnexClientOptions? options, bool ownsHttp)
    {
        ArgumentNullException.ThrowIfNull(http);
        ArgumentNullException.ThrowIfNull(server);
        ArgumentException.ThrowIfNullOrWhiteSpace(apiKey);
        if (!server.IsAbsoluteUri)
        {
            throw new ArgumentException("The server address must be an absolute URL, e.g. http://localhost:5080.", nameof(server));
        }

        _http = http;
        _ownsHttp = ownsHttp;
        _apiKey = apiKey;
        Options = options ?? new AnnexClientOptions();
        ApiBase = ApiBaseOf(server);
    }

    /// <summary>The API root every call is made under, e.g. <c>http://localhost:5080/api/v1/</c>.</summary>
    public Uri ApiBase { get; }

    /// <summary>The settings in use.</summary>
    public AnnexClientOptions Options { get; }

    public void Dispose()
    {
        if (_ownsHttp)
        {
            _http.Dispose();
        }
    }

    private static Uri ApiBaseOf(Uri server)
    {
        var text = server.GetLeftPart(UriPartial.Path).TrimEnd('/');
        if (!text.EndsWith("/api/v1", StringComparison.OrdinalIgnoreCase))
        {
            text += "/api/v1";
        }

        return new Uri(text + "/");
    }

    internal Uri Url(string relative, params (string Name, string? Value)[] query)
    {
        var builder = new StringBuilder(relative);
        var first = true;
        foreach (var (name, value) in query)
        {
            if (value is null)
            {
                continue;
            }

            builder.Append(first ? '?' : '&').Append(Uri.EscapeDataString(name)).Append('=').Append(Uri.EscapeDataString(value));
            first = false;
        }

        return new Uri(ApiBase, builder.ToString());
    }

    internal static string Segment(Guid uid) => uid.ToString("D");

    /// <summary>True when <paramref name="url"/> is on the same origin as the API, so the key may go with it.</summary>
    internal bool IsSameOrigin(Uri url) =>
        Uri.Compare(url, ApiBase, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;

    internal async Task<T> GetAsync<T>(Uri url, CancellationToken ct) =>
        await SendJsonAsync<T>(() => new HttpRequestMessage(HttpMethod.Get, url), ct).ConfigureAwait(false);

    internal async Task<T> PostAsync<T>(Uri url, object? body, CancellationToken ct) =>
        await SendJsonAsync<T>(
            () => new HttpRequestMessage(HttpMethod.Post, url)
            {
                Content = body is null ? null : new ByteArrayContent(JsonSerializer.SerializeToUtf8Bytes(body, Json)) { Headers = { ContentType = new MediaTypeHeaderValue("application/json") } },
            },
            ct).ConfigureAwait(false);

    internal async Task<T> SendJsonAsync<T>(Func<HttpRequestMessage> request, CancellationToken ct)
    {
        using var response = await SendAsync(request, HttpCompletionOption.ResponseContentRead, ct).ConfigureAwait(false);
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        return await JsonSerializer.DeserializeAsync<T>(stream, Json, ct).ConfigureAwait(false)
            ?? throw new AnnexApiException(response.StatusCode, $"The server answered {(int)response.StatusCode} with an empty body.", null, new Dictionary<string, IReadOnlyList<string>>(), null);
    }

    /// <summary>Sends a request (made afresh for each attempt), retrying 429 and 503; throws the typed
    /// exception for any other error status. The caller disposes the successful response.</summary>
    internal async Task<HttpResponseMessage> SendAsync(Func<HttpRequestMessage> makeRequest, HttpCompletionOption completion, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            using var request = makeRequest();
            if (request.RequestUri is null || IsSameOrigin(request.RequestUri))
            {
                request.Headers.TryAddWithoutValidation(ApiKeyHeader, _apiKey);
            }

            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            request.Headers.UserAgent.ParseAdd(Options.UserAgent);
            var paced = Options.PaceRequests && (request.RequestUri is null || IsSameOrigin(request.RequestUri));
            var kind = RateLimitPacer.KindOf(request);
            if (paced && _pacer.Reserve(kind) is { } pause && pause > TimeSpan.Zero)
            {
                await Task.Delay(pause > Options.MaxRetryDelay ? Options.MaxRetryDelay : pause, ct).ConfigureAwait(false);
            }

            var response = await _http.SendAsync(request, completion, ct).ConfigureAwait(false);
            if (paced)
            {
                _pacer.Observe(kind, response);
            }

            if (response.IsSuccessStatusCode)
            {
                return response;
            }

            using (response)
            {
                var retryAfter = RetryAfterOf(response);
                if (paced && response.StatusCode == HttpStatusCode.TooManyRequests)
                {
                    _pacer.Throttled(kind, retryAfter ?? Options.InitialRetryDelay);
                }

                if (response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable && attempt < Options.MaxRetries)
                {
                    var wait = retryAfter ?? TimeSpan.FromTicks(Options.InitialRetryDelay.Ticks * (1L << Math.Min(attempt, 16)));
                    await Task.Delay(wait > Options.MaxRetryDelay ? Options.MaxRetryDelay : wait, ct).ConfigureAwait(false);
                    continue;
                }

                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                throw ErrorReader.Create(response.StatusCode, body, retryAfter);
            }
        }
    }

    private static TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - DateTimeOffset.UtcNow;
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    /// <summary>Walks a cursor-paginated list from <paramref name="first"/>, following <c>next</c>.</summary>
    internal async IAsyncEnumerable<T> ListAsync<T>(Uri first, [EnumeratorCancellation] CancellationToken ct)
    {
        Uri? url = first;
        while (url is not null)
        {
            var page = await GetAsync<Page<T>>(url, ct).ConfigureAwait(false);
            foreach (var row in page.Results)
            {
                yield return row;
            }

            url = page.Next is null ? null : new Uri(ApiBase, page.Next);
        }
    }

    internal string Limit() => Options.PageSize.ToString(CultureInfo.InvariantCulture);
}
