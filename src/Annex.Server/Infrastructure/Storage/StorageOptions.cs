namespace Annex.Server.Infrastructure.Storage;

public static class StorageProviders
{
    public const string Local = "Local";
    public const string S3 = "S3";
}

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The data folder: SQLite database, archives on local disk, the first API key and the signing key.</summary>
    public string DataPath { get; set; } = "data";

    /// <summary>Where archives go: <c>Local</c> (files under the data folder) or <c>S3</c> (an S3-compatible object store).</summary>
    public string Provider { get; set; } = StorageProviders.Local;

    public S3StorageOptions S3 { get; set; } = new();

    public bool IsS3 => string.Equals(Provider, StorageProviders.S3, StringComparison.OrdinalIgnoreCase);
}

/// <summary>An S3-compatible bucket (AWS S3, MinIO, R2, Ceph). Credentials come from the standard AWS
/// sources (environment, shared profile, instance or container role) unless AccessKey and SecretKey are set.</summary>
public sealed class S3StorageOptions
{
    public const long MinPartSize = 5L * 1024 * 1024;
    public const long MaxPartSize = 5L * 1024 * 1024 * 1024;

    /// <summary>Endpoint of a non-AWS store, e.g. http://minio:9000; empty means AWS itself in <see cref="Region"/>.</summary>
    public string? ServiceUrl { get; set; }

    public string Region { get; set; } = "us-east-1";

    public string? Bucket { get; set; }

    /// <summary>Address the bucket as a path (http://host/bucket/key) instead of a host name; most
    /// self-hosted stores need this.</summary>
    public bool ForcePathStyle { get; set; }

    /// <summary>Prepended to every key, e.g. <c>annex/</c>, so one bucket can be shared.</summary>
    public string? Prefix { get; set; }

    public string? AccessKey { get; set; }

    public string? SecretKey { get; set; }

    /// <summary>Bytes buffered per multipart-upload part: the memory one running export holds for its archive.</summary>
    public long PartSize { get; set; } = 8L * 1024 * 1024;

    /// <summary>Multipart uploads started longer ago than this and never completed are aborted by the
    /// sweeper. Must be longer than the longest export takes to write.</summary>
    public TimeSpan AbandonedUploadAge { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often the sweeper looks for abandoned multipart uploads.</summary>
    public TimeSpan SweepInterval { get; set; } = TimeSpan.FromHours(1);
}
