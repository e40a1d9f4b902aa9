using Annex.Server.Features.Datasets;
using Annex.Server.Features.Exports;
using Annex.Server.Features.Organizations;
using Annex.Server.Features.Projects;
using Annex.Server.Features.AnnotationResults;
using Annex.Server.Features.Slices;
using Annex.Server.Features.Versions;
using Annex.Server.Features.Webhooks;
using Annex.Server.Infrastructure.Idempotency;
using Annex.Server.Infrastructure.RateLimiting;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;

namespace Annex.Server.Infrastructure.Data;

/// <summary>The schema, shared by every provider. SQLite uses this type (and the migrations in
/// <c>Migrations/</c>); PostgreSQL uses <see cref="PostgresAnnexDbContext"/> so that its own migrations
/// (in <c>Migrations/Postgres/</c>) are found for it alone.</summary>
public class AnnexDbContext : DbContext
{
    public AnnexDbContext(DbContextOptions<AnnexDbContext> options)
        : base(options)
    {
    }

    protected AnnexDbContext(DbContextOptions options)
        : base(options)
    {
    }

    public DbSet<Organization> Organizations => Set<Organization>();
    public DbSet<User> Users => Set<User>();
    public DbSet<ApiKey> ApiKeys => Set<ApiKey>();
    public DbSet<Dataset> Datasets => Set<Dataset>();
    public DbSet<DatasetItem> DatasetItems => Set<DatasetItem>();
    public DbSet<Project> Projects => Set<Project>();
    public DbSet<Result> Results => Set<Result>();
    public DbSet<Slice> Slices => Set<Slice>();
    public DbSet<SliceItem> SliceItems => Set<SliceItem>();
    public DbSet<Export> Exports => Set<Export>();
    public DbSet<Webhook> Webhooks => Set<Webhook>();
    public DbSet<WebhookDelivery> WebhookDeliveries => Set<WebhookDelivery>();
    public DbSet<IdempotentRequest> IdempotentRequests => Set<IdempotentRequest>();
    public DbSet<ManualUpload> ManualUploads => Set<ManualUpload>();
    public DbSet<DatasetVersion> DatasetVersions => Set<DatasetVersion>();
    public DbSet<RateLimitCounter> RateLimitCounters => Set<RateLimitCounter>();
    public DbSet<Features.WebConsole.ConsoleSession> ConsoleSessions => Set<Features.WebConsole.ConsoleSession>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // Every timestamp is UTC; databases hand DateTime back as Unspecified, so mark it on the way out.
        configurationBuilder.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        configurationBuilder.Properties<DateTime?>().HaveConversion<UtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<RateLimitCounter>(e =>
        {
            e.ToTable("rate_limit_counters");
            e.HasKey(x => x.Key);
            e.Property(x => x.Key).HasMaxLength(200);
        });
        modelBuilder.Entity<Features.WebConsole.ConsoleSession>(e =>
        {
            e.ToTable("console_sessions");
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.HasIndex(x => x.ExpiresAt);
            e.Property(x => x.TokenHash).HasMaxLength(64);
            e.Property(x => x.CsrfToken).HasMaxLength(64);
            e.HasOne(x => x.ApiKey).WithMany().HasForeignKey(x => x.ApiKeyId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<IdempotentRequest>(e =>
        {
            e.ToTable("idempotent_requests");
            e.HasIndex(x => new { x.OrganizationId, x.Key }).IsUnique();
            e.HasIndex(x => x.ExpiresAt);
            e.Property(x => x.Key).HasMaxLength(IdempotencyKeys.MaxKeyLength);
            e.Property(x => x.Fingerprint).HasMaxLength(64);
            e.Property(x => x.ContentType).HasMaxLength(255);
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Webhook>(e =>
        {
            e.ToTable("webhooks");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => x.OrganizationId);
            e.Property(x => x.Url).HasMaxLength(2000);
            e.Property(x => x.Events).HasMaxLength(255);
            e.Property(x => x.Secret).HasMaxLength(255);
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<WebhookDelivery>(e =>
        {
            e.ToTable("webhook_deliveries");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => new { x.Status, x.NextAttemptAt });
            e.HasIndex(x => x.WebhookId);
            e.Property(x => x.Event).HasMaxLength(64);
            e.Property(x => x.Status).HasMaxLength(16);
            e.Property(x => x.LastError).HasMaxLength(500);
            e.Property(x => x.LastResponseBody).HasMaxLength(WebhookDeliverer.MaxResponseBodyLength);
            e.HasOne(x => x.Webhook).WithMany().HasForeignKey(x => x.WebhookId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Organization>(e =>
        {
            e.ToTable("organizations");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => x.Slug).IsUnique();
            e.Property(x => x.Name).HasMaxLength(255);
            e.Property(x => x.Slug).HasMaxLength(Slugs.MaxLength);
        });
        modelBuilder.Entity<User>(e =>
        {
            e.ToTable("users");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => x.Email).IsUnique();
            e.Property(x => x.Email).HasMaxLength(320);
        });
        modelBuilder.Entity<ApiKey>(e =>
        {
            e.ToTable("api_keys");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => x.Hash).IsUnique();
            e.Property(x => x.Name).HasMaxLength(255);
            e.Property(x => x.Scopes).HasMaxLength(1000).HasDefaultValue(string.Empty);
        });
        modelBuilder.Entity<Dataset>(e =>
        {
            e.ToTable("datasets");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => x.OrganizationId);
            e.HasIndex(x => new { x.OrganizationId, x.Slug }).IsUnique();
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId);
            e.Property(x => x.Name).HasMaxLength(255);
            e.Property(x => x.Slug).HasMaxLength(Slugs.MaxLength);
            e.Property(x => x.DataType).HasMaxLength(32).HasDefaultValue(DatasetKinds.Image);
            e.Property(x => x.Visibility).HasMaxLength(16).HasDefaultValue(DatasetKinds.Private);
        });
        modelBuilder.Entity<ManualUpload>(e =>
        {
            e.ToTable("manual_uploads");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => new { x.OrganizationId, x.DatasetName });
            e.HasIndex(x => x.ExpiresAt);
            e.Property(x => x.DatasetName).HasMaxLength(255);
            e.Property(x => x.Path).HasMaxLength(1024);
            e.Property(x => x.BlobKey).HasMaxLength(512);
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<DatasetItem>(e =>
        {
            e.ToTable("dataset_items");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => new { x.DatasetId, x.RefId }).IsUnique();
            // Exports and item lists page through one dataset's items in id order.
            e.HasIndex(x => new { x.DatasetId, x.Id });
            e.Property(x => x.RefId).HasMaxLength(1024);
            e.Property(x => x.MediaKey).HasMaxLength(512);
            e.Property(x => x.MediaContentType).HasMaxLength(100);
            // Deltas and diffs find a dataset's items written after a version.
            e.HasIndex(x => new { x.DatasetId, x.ChangeSeq });
        });
        modelBuilder.Entity<Project>(e =>
        {
            e.ToTable("projects");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => x.OrganizationId);
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId);
            e.Property(x => x.Name).HasMaxLength(255);
        });
        modelBuilder.Entity<Result>(e =>
        {
            e.ToTable("results");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => new { x.DatasetItemId, x.ProjectId }).IsUnique();
            e.HasIndex(x => new { x.ProjectId, x.Id });
            e.HasIndex(x => x.ChangeSeq);
        });
        modelBuilder.Entity<DatasetVersion>(e =>
        {
            e.ToTable("dataset_versions");
            e.HasIndex(x => x.Uid).IsUnique();
            // The history triggers ask "is there a version of this dataset at or after this epoch?".
            e.HasIndex(x => new { x.DatasetId, x.Seq });
            e.HasIndex(x => new { x.OrganizationId, x.Id });
            e.Property(x => x.Name).HasMaxLength(255);
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<Dataset>().WithMany().HasForeignKey(x => x.DatasetId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Slice>(e =>
        {
            e.ToTable("slices");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasIndex(x => new { x.OrganizationId, x.Slug }).IsUnique();
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId);
            e.Property(x => x.Name).HasMaxLength(255);
            e.Property(x => x.Slug).HasMaxLength(Slugs.MaxLength);
            e.Property(x => x.Visibility).HasMaxLength(16).HasDefaultValue(DatasetKinds.Private);
        });
        modelBuilder.Entity<SliceItem>(e =>
        {
            e.ToTable("slice_items");
            e.HasKey(x => new { x.SliceId, x.DatasetItemId });
            e.HasIndex(x => x.DatasetItemId);
            e.HasOne<Slice>().WithMany().HasForeignKey(x => x.SliceId).OnDelete(DeleteBehavior.Cascade);
            e.HasOne<DatasetItem>().WithMany().HasForeignKey(x => x.DatasetItemId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<Export>(e =>
        {
            e.ToTable("exports");
            e.HasIndex(x => x.Uid).IsUnique();
            e.HasOne<Organization>().WithMany().HasForeignKey(x => x.OrganizationId);
            e.HasIndex(x => new { x.OrganizationId, x.CreatedAt, x.Uid });
            e.HasIndex(x => new { x.OrganizationId, x.Name, x.CreatedAt, x.Uid });
            e.HasIndex(x => new { x.OrganizationId, x.Status, x.CreatedAt, x.Uid });
            e.HasIndex(x => new { x.Status, x.CreatedAt });
            e.Property(x => x.Name).HasMaxLength(255);
            e.Property(x => x.Format).HasMaxLength(64);
            e.Property(x => x.Status).HasMaxLength(16);
            e.Property(x => x.LeaseOwner).HasMaxLength(128);
            e.Property(x => x.Versions).HasDefaultValue("[]");
        });
    }

    private sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));
}
