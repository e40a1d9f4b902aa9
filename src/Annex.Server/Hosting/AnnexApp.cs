using Microsoft.Extensions.Options;
using Annex.Formats;
using Annex.Server.Features.Keys;
using Annex.Server.Features.Datasets;
using Annex.Server.Features.Demo;
using Annex.Server.Features.Exports;
using Annex.Server.Features.Exports.Formats;
using Annex.Server.Features.Exports.Preview;
using Annex.Server.Features.Exports.Worker;
using Annex.Server.Features.Gallery;
using Annex.Server.Features.Organizations;
using Annex.Server.Features.Projects;
using Annex.Server.Features.AnnotationResults;
using Annex.Server.Features.Slices;
using Annex.Server.Features.Versions;
using Annex.Server.Features.Tasks;
using Annex.Server.Features.Thumbnails;
using Annex.Server.Features.Webhooks;
using Annex.Server.Features.WebConsole;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Http;
using Annex.Server.Infrastructure.Idempotency;
using Annex.Server.Infrastructure.Operations;
using Annex.Server.Infrastructure.RateLimiting;
using Annex.Server.Infrastructure.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Diagnostics;

namespace Annex.Server.Hosting;

/// <summary>Composes the server: services per area, then the HTTP pipeline and the endpoints.</summary>
public static class AnnexApp
{
    public const string DefaultUrl = "http://localhost:5080";

    public static WebApplication Build(string[] args)
    {
        // appsettings.json sits beside the binary; the current folder (where ./data goes) may be any other,
        // e.g. the repository root under `dotnet run --project`. Test hosts bring their own content root.
        var contentRootGiven = args.Any(a => a.StartsWith("--contentRoot", StringComparison.OrdinalIgnoreCase));
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions
        {
            Args = args,
            ContentRootPath = contentRootGiven ? null : AppContext.BaseDirectory,
        });
        if (string.IsNullOrEmpty(builder.Configuration["urls"]) && string.IsNullOrEmpty(builder.Configuration["http_ports"]))
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        AddServices(builder.Services, builder.Configuration);
        var app = builder.Build();
        MapPipeline(app);
        return app;
    }

    private static void AddServices(IServiceCollection services, ConfigurationManager configuration)
    {
        services.AddOptions<StorageOptions>().Bind(configuration.GetSection(StorageOptions.Section)).ValidateOnStart();
        services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<StorageOptions>, StorageOptionsValidator>();
        services.AddOptions<ConsoleOptions>().Bind(configuration.GetSection(ConsoleOptions.Section))
            .Validate(o => o.SessionLifetime > TimeSpan.Zero, "Console:SessionLifetime must be positive.")
            .ValidateOnStart();
        services.AddOptions<ServerOptions>().Bind(configuration.GetSection(ServerOptions.Section));
        services.AddOptions<ForwardedHeadersSettings>().Bind(configuration.GetSection(ForwardedHeadersSettings.Section)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<ForwardedHeadersSettings>, ForwardedHeadersSettings.Validator>();
        services.AddOptions<MediaOptions>().Bind(configuration.GetSection(MediaOptions.Section))
            .Validate(o => o.MaxUploadBytes >= 1, "Media:MaxUploadBytes must be at least 1.")
            .Validate(o => o.MaxFilesPerRequest >= 1 && o.MaxBulkUploadBytes >= 1, "Media:MaxFilesPerRequest and Media:MaxBulkUploadBytes must be at least 1.")
            .ValidateOnStart();
        services.AddOptions<ThumbnailOptions>().Bind(configuration.GetSection(ThumbnailOptions.Section))
            .PostConfigure(o => o.Format = o.Format.Trim().ToLowerInvariant())
            .Validate(o => o.Format is ThumbnailOptions.Webp or ThumbnailOptions.Jpeg, "Thumbnails:Format must be webp or jpeg.")
            .Validate(o => o.Quality is >= 1 and <= 100, "Thumbnails:Quality must be 1 to 100.")
            .Validate(o => o.MaxSourcePixels >= 1 && o.MaxConcurrentRenders >= 1, "Thumbnails:MaxSourcePixels and Thumbnails:MaxConcurrentRenders must be at least 1.")
            .Validate(o => o.MaxAge >= TimeSpan.Zero, "Thumbnails:MaxAge must not be negative.")
            .ValidateOnStart();
        services.AddOptions<ExportsOptions>().Bind(configuration.GetSection(ExportsOptions.Section))
            .Validate(o => o.Workers >= 1, "Exports:Workers must be at least 1.")
            .Validate(o => o.BatchSize >= 1, "Exports:BatchSize must be at least 1.")
            .Validate(o => o.HeartbeatInterval > TimeSpan.Zero && o.HeartbeatInterval < o.LeaseDuration, "Exports:HeartbeatInterval must be positive and shorter than Exports:LeaseDuration.")
            .Validate(o => o.MaxAttempts >= 1, "Exports:MaxAttempts must be at least 1.")
            .Validate(o => o.ArchiveRetention > TimeSpan.Zero, "Exports:ArchiveRetention must be positive.")
            .Validate(o => o.RetentionSweepInterval > TimeSpan.Zero && o.OrphanedTempFileAge > TimeSpan.Zero, "Exports:RetentionSweepInterval and Exports:OrphanedTempFileAge must be positive.")
            .ValidateOnStart();

        services.AddSingleton(TimeProvider.System);
        services.AddAnnexDatabase(configuration);
        var s3 = StorageProviders.S3.Equals(configuration[$"{StorageOptions.Section}:Provider"], StringComparison.OrdinalIgnoreCase);
        if (s3)
        {
            services.AddSingleton<S3BlobStore>();
            services.AddSingleton<IBlobStore>(sp => sp.GetRequiredService<S3BlobStore>());
            services.AddSingleton<IPendingWriteStore>(sp => sp.GetRequiredService<S3BlobStore>());
            services.AddSingleton<AbandonedUploadSweeper>();
        }
        else
        {
            services.AddSingleton<LocalBlobStore>();
            services.AddSingleton<IBlobStore>(sp => sp.GetRequiredService<LocalBlobStore>());
        }

        services.AddOptions<AuthOptions>().Bind(configuration.GetSection(AuthOptions.Section))
            .Validate(o => o.KeyCacheDuration >= TimeSpan.Zero, "Auth:KeyCacheDuration must not be negative.")
            .ValidateOnStart();
        services.AddSingleton<ApiKeyCache>();
        services.AddAuthentication(ApiKeyAuthenticationHandler.SchemeName)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyAuthenticationHandler.SchemeName, null);
        services.AddAuthorization();
        services.AddApiKeyRateLimiting(configuration);
        services.AddIdempotencyKeys(configuration);
        services.AddRequestBodyLimits(configuration);
        services.ConfigureHttpJsonOptions(o => ApiJson.Configure(o.SerializerOptions));
        services.AddOpenApi(o => o.AddDrfErrorSchemas());
        services.AddAnnexHealthChecks();

        services.AddScoped<Accounts>();
        services.AddScoped<FirstStart>();
        services.AddScoped<DemoData>();
        services.AddSingleton<UrlSigner>();
        services.AddSingleton<DownloadLinks>();
        services.AddSingleton<ThumbnailRenders>();
        services.AddSingleton<SpillFolder>();
        services.AddSingleton<BulkWriteGate>();
        services.AddSingleton<ExportSignal>();
        services.AddSingleton<ExportQueue>();
        services.AddSingleton<IExportSourceOpener, ExportSourceOpener>();
        services.AddSingleton<ExportRunner>();
        services.AddSingleton<IExportFormat, AvalaJsonExportFormat>();
        AddTrainingFormats(services);
        services.AddSingleton<ExportFormatRegistry>();

        // Migrations run in the host's starting phase, before any hosted service above or below starts.
        services.AddHostedService<StartupTasks>();
        services.AddHostedService<ExportWorker>();
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section))
            .Validate(o => o.MaxAttempts >= 1, "Webhooks:MaxAttempts must be at least 1.")
            .Validate(o => o.RetryBaseDelay > TimeSpan.Zero && o.RequestTimeout > TimeSpan.Zero && o.PollInterval > TimeSpan.Zero, "Webhooks:RetryBaseDelay, Webhooks:RequestTimeout and Webhooks:PollInterval must be positive.")
            .ValidateOnStart();
        services.AddSingleton<WebhookDeliverer>();
        services.AddHostedService(sp => sp.GetRequiredService<WebhookDeliverer>());
        services.AddSingleton<ManualUploadSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<ManualUploadSweeper>());
        services.AddSingleton<ExpiredArchiveSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<ExpiredArchiveSweeper>());
        if (s3)
        {
            services.AddHostedService(sp => sp.GetRequiredService<AbandonedUploadSweeper>());
        }
    }

    private static void AddTrainingFormats(IServiceCollection services)
    {
        void Add(string name, string description, IReadOnlyList<string> types, Func<TrainingArchiveSettings, ITrainingArchiveWriter> create) =>
            services.AddSingleton<IExportFormat>(sp => new TrainingExportFormat(
                name, description, types, create, sp.GetRequiredService<IBlobStore>(), sp.GetRequiredService<SpillFolder>(), sp.GetRequiredService<IOptions<ExportsOptions>>()));

        Add("YOLO", "Ultralytics YOLO detection: data.yaml, images/ and labels/ with normalized class cx cy w h boxes",
            YoloLabeler.TypesOf(YoloTask.Detect), s => new YoloArchiveWriter(s, YoloTask.Detect));
        Add("YOLO-SEG", "Ultralytics YOLO segmentation: polygons as normalized point lists",
            YoloLabeler.TypesOf(YoloTask.Segment), s => new YoloArchiveWriter(s, YoloTask.Segment));
        Add("YOLO-OBB", "Ultralytics YOLO oriented boxes: rotated boxes as their four normalized corners",
            YoloLabeler.TypesOf(YoloTask.Obb), s => new YoloArchiveWriter(s, YoloTask.Obb));
        Add("YOLO-POSE", "Ultralytics YOLO pose: a box and the keypoints per object, with kpt_shape in data.yaml",
            YoloLabeler.TypesOf(YoloTask.Pose), s => new YoloArchiveWriter(s, YoloTask.Pose));
        Add("COCO", "COCO instances JSON per split: boxes in pixels, polygons as segmentation, keypoints, categories from 1",
            CocoArchiveWriter.Types, s => new CocoArchiveWriter(s));
        Add("VOC", "Pascal VOC XML per image with size and object/bndbox, JPEGImages/ and ImageSets/Main/ split lists",
            VocArchiveWriter.Types, s => new VocArchiveWriter(s));
        Add("CSV", "One row per annotation for spreadsheets and pandas: item, label, type, bounds and coordinates as JSON",
            CsvArchiveWriter.Types, s => new CsvArchiveWriter(s));
    }

    private static void MapPipeline(WebApplication app)
    {
        // First, so that everything after it (cookies, links, logs, rate limits by address) sees the client's scheme
        // and address as the trusted proxy forwarded them.
        if (app.Services.GetRequiredService<IOptions<ForwardedHeadersSettings>>().Value is { Enabled: true } forwarded)
        {
            app.UseForwardedHeaders(forwarded.ToOptions());
        }

        app.UseRequestIdsAndSecurityHeaders();
        app.UseExceptionHandler(new ExceptionHandlerOptions
        {
            ExceptionHandler = async context =>
            {
                var exception = context.Features.Get<IExceptionHandlerFeature>()?.Error;
                var (status, detail) = exception is BadHttpRequestException bad
                    ? (bad.StatusCode, bad.Message)
                    : (StatusCodes.Status500InternalServerError, "Internal server error.");
                context.Response.StatusCode = status;
                await context.Response.WriteAsJsonAsync(new ErrorDetail(detail), ApiJson.Options);
            },
            // A bad request (a body over the limit, a malformed body) is the client's error, answered with a
            // 4xx and its reason: not an unhandled exception with a stack trace in the server's log.
            SuppressDiagnosticsCallback = c => c.Exception is BadHttpRequestException,
        });
        app.UseStatusCodePages(async context =>
        {
            var response = context.HttpContext.Response;
            var detail = response.StatusCode switch
            {
                StatusCodes.Status404NotFound => ApiErrors.NotFoundMessage,
                StatusCodes.Status405MethodNotAllowed => $"Method \"{context.HttpContext.Request.Method}\" not allowed.",
                _ => null,
            };
            if (detail is not null)
            {
                await response.WriteAsJsonAsync(new ErrorDetail(detail), ApiJson.Options);
            }
        });
        app.UseNullCharacterGuard();
        app.UseOptionalTrailingSlash();
        app.UseRouting();
        app.UseRequestBodyLimits();
        app.UseAuthentication();
        app.UseApiKeyRateLimiting();
        app.UseConsoleCsrfProtection();
        app.UseAuthorization();
        app.UseIdempotencyKeys();

        app.MapOpenApi();
        app.MapAnnexHealthChecks();
        app.MapApiReference();
        app.MapConsoleAssets();
        app.MapConsoleSessions();
        app.MapExportDownload();
        app.MapManualUploadReceiver();
        var api = app.MapGroup("/api/v1").RequireAuthorization().RequireApiScopes()
            .ProducesErrorDetail(StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status429TooManyRequests);
        api.MapExportsApi();
        api.MapExportPreviewApi();
        api.MapDatasetsApi();
        api.MapVersionsApi();
        api.MapManualUploadsApi();
        api.MapItemMediaApi();
        api.MapThumbnailsApi();
        api.MapGalleryApi();
        api.MapProjectsApi();
        api.MapResultsApi();
        api.MapSlicesApi();
        api.MapTasksApi();
        api.MapWebhooksApi();
        api.MapApiKeysApi();
        api.MapOrganizationsApi();
    }
}
