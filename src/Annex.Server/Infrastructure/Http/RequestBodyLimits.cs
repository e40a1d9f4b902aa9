using System.Globalization;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Http.Metadata;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Http;

public sealed class RequestLimitsOptions
{
    public const string Section = "Http";

    /// <summary>The largest JSON request body accepted; bulk writes (10,000 items, 5,000 results) fit well
    /// below it. Item media uploads have their own limit (<c>Media:MaxUploadBytes</c>).</summary>
    public long MaxRequestBodyBytes { get; set; } = 32L * 1024 * 1024;
}

/// <summary>Marks an endpoint that enforces a body limit of its own (media uploads, whose limit is a setting
/// of their own), so the server-wide limit does not apply to it.</summary>
public sealed class OwnBodyLimit : IRequestSizeLimitMetadata
{
    public static readonly OwnBodyLimit Instance = new();

    public long? MaxRequestBodySize => null;
}

/// <summary>
/// Refuses request bodies over <see cref="RequestLimitsOptions.MaxRequestBodyBytes"/> with a 413 before the
/// endpoint reads them: at once when Content-Length says so, and while reading for a chunked body. A chunked
/// body is counted here rather than by Kestrel, so the answer (a DRF detail) is the same in tests and behind
/// any server.
/// </summary>
public static class RequestBodyLimits
{
    public static IServiceCollection AddRequestBodyLimits(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<RequestLimitsOptions>().Bind(configuration.GetSection(RequestLimitsOptions.Section))
            .Validate(o => o.MaxRequestBodyBytes >= 1024, "Http:MaxRequestBodyBytes must be at least 1024.")
            .ValidateOnStart();
        return services;
    }

    public static string TooLargeMessage(long limit) =>
        string.Create(CultureInfo.InvariantCulture, $"Request body is too large: at most {limit} bytes are accepted.");

    /// <summary>Runs after routing, so an endpoint's own limit is known.</summary>
    public static IApplicationBuilder UseRequestBodyLimits(this IApplicationBuilder app) => app.Use(async (context, next) =>
    {
        var metadata = context.GetEndpoint()?.Metadata.GetMetadata<IRequestSizeLimitMetadata>();
        if (metadata is OwnBodyLimit)
        {
            await next(context);
            return;
        }

        var limit = metadata?.MaxRequestBodySize
            ?? context.RequestServices.GetRequiredService<IOptions<RequestLimitsOptions>>().Value.MaxRequestBodyBytes;
        if (context.Request.ContentLength > limit)
        {
            context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
            await context.Response.WriteAsJsonAsync(new ErrorDetail(TooLargeMessage(limit)), ApiJson.Options, context.RequestAborted);
            return;
        }

        var chunked = context.Request.ContentLength is null;
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } feature)
        {
            // A chunked body is counted by the stream below, which throws with our message; Kestrel counting
            // the same bytes would get there first and answer with its own text.
            feature.MaxRequestBodySize = chunked ? null : limit;
        }

        if (chunked)
        {
            context.Request.Body = new LimitedReadStream(context.Request.Body, limit);
        }

        await next(context);
    });

    /// <summary>Reads through to the request body and throws the host's own 413 exception past the limit.</summary>
    private sealed class LimitedReadStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => _read;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > limit
                ? throw new BadHttpRequestException(TooLargeMessage(limit), StatusCodes.Status413PayloadTooLarge)
                : read;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
