using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Annex.Client.Tests;

/// <summary>A TCP relay on 127.0.0.1 in front of a server that, once armed, cuts one connection after it
/// has carried a given number of bytes towards the client: a download broken off halfway.</summary>
public sealed class CuttingProxy : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Uri _upstream;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _lock = new();
    private readonly StringBuilder _requests = new();
    private long _cutAfter = long.MaxValue;

    public CuttingProxy(Uri upstream)
    {
        _upstream = upstream;
        _listener.Start();
        Address = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}");
        _ = AcceptAsync();
    }

    public Uri Address { get; }

    public int Cuts { get; private set; }

    /// <summary>Everything clients sent upstream, as text (requests and their headers).</summary>
    public string Requests
    {
        get
        {
            lock (_lock)
            {
                return _requests.ToString();
            }
        }
    }

    /// <summary>The next connection to carry more than <paramref name="bytes"/> towards the client is closed there.</summary>
    public void CutOnceAfter(long bytes) => Interlocked.Exchange(ref _cutAfter, bytes);

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = RelayAsync(client);
        }
    }

    private async Task RelayAsync(TcpClient client)
    {
        using (client)
        using (var server = new TcpClient())
        {
            try
            {
                await server.ConnectAsync(_upstream.Host, _upstream.Port, _stop.Token);
                var clientStream = client.GetStream();
                var serverStream = server.GetStream();
                var upstream = PumpUpAsync(clientStream, serverStream);
                var downstream = PumpDownAsync(serverStream, clientStream);
                await Task.WhenAny(upstream, downstream);
            }
            catch (Exception ex) when (ex is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
            }
        }
    }

    private async Task PumpUpAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[8192];
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            lock (_lock)
            {
                _requests.Append(Encoding.Latin1.GetString(buffer, 0, read));
            }

            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    private async Task PumpDownAsync(NetworkStream from, NetworkStream to)
    {
        var buffer = new byte[8192];
        long carried = 0;
        int read;
        while ((read = await from.ReadAsync(buffer, _stop.Token)) > 0)
        {
            var limit = Interlocked.Read(ref _cutAfter);
            if (carried + read > limit && Interlocked.CompareExchange(ref _cutAfter, long.MaxValue, limit) == limit)
            {
                await to.WriteAsync(buffer.AsMemory(0, (int)(limit - carried)), _stop.Token);
                await to.FlushAsync(_stop.Token);
                Cuts++;
                return;
            }

            carried += read;
            await to.WriteAsync(buffer.AsMemory(0, read), _stop.Token);
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Dispose();
        _stop.Dispose();
    }
}

/// <summary>An HTTP server on 127.0.0.1 that answers the first <c>n</c> requests with a throttling status
/// and <c>Retry-After</c>, then passes requests on to the real server and relays its answers.</summary>
public sealed class ThrottlingFront : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly HttpClient _forward = new();
    private int _throttleLeft;
    private int _seen;

    private ThrottlingFront(WebApplication app, int throttle)
    {
        _app = app;
        _throttleLeft = throttle;
    }

    public Uri Address { get; private set; } = null!;

    /// <summary>Requests received in all, throttled or not.</summary>
    public int Seen => Volatile.Read(ref _seen);

    public static async Task<ThrottlingFront> StartAsync(Uri upstream, int throttle, int status = StatusCodes.Status429TooManyRequests, string retryAfter = "1")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var front = new ThrottlingFront(app, throttle);
        app.Run(async context =>
        {
            Interlocked.Increment(ref front._seen);
            if (Interlocked.Decrement(ref front._throttleLeft) >= 0)
            {
                context.Response.StatusCode = status;
                context.Response.Headers.RetryAfter = retryAfter;
                context.Response.ContentType = "application/json";
                await context.Response.WriteAsync($$"""{"detail": "Request was throttled. Expected available in {{retryAfter}} seconds."}""");
                return;
            }

            await front.ForwardAsync(context, upstream);
        });
        await app.StartAsync();
        front.Address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return front;
    }

    private async Task ForwardAsync(HttpContext context, Uri upstream)
    {
        var target = new Uri(upstream, context.Request.Path + context.Request.QueryString);
        using var request = new HttpRequestMessage(new HttpMethod(context.Request.Method), target);
        if (context.Request.ContentLength > 0 || context.Request.Headers.TransferEncoding.Count > 0)
        {
            using var body = new MemoryStream();
            await context.Request.Body.CopyToAsync(body);
            request.Content = new ByteArrayContent(body.ToArray());
            request.Content.Headers.TryAddWithoutValidation("Content-Type", context.Request.ContentType);
        }

        foreach (var header in context.Request.Headers.Where(h => h.Key.StartsWith("X-", StringComparison.OrdinalIgnoreCase)))
        {
            request.Headers.TryAddWithoutValidation(header.Key, header.Value.ToArray());
        }

        using var response = await _forward.SendAsync(request);
        context.Response.StatusCode = (int)response.StatusCode;
        context.Response.ContentType = response.Content.Headers.ContentType?.ToString();
        await response.Content.CopyToAsync(context.Response.Body);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.DisposeAsync();
        _forward.Dispose();
    }
}
