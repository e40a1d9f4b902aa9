namespace Annex.Server.Features.Exports;

public static class ExportStatus
{
    public const string Requested = "requested";
    public const string Exporting = "exporting";
    public const string Exported = "exported";
    public const string Failed = "failed";
    public const string Aborted = "aborted";
}

/// <summary>An export request; the row is also the job in the database-backed queue.</summary>
public sealed class Export
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long OrganizationId { get; set; }
    public required string Name { get; set; }
    public required string Format { get; set; }
    public required string Status { get; set; }
    public long? TotalTaskCount { get; set; }
    public long? ExportedTaskCount { get; set; }

    /// <summary>JSON arrays of uids as the caller named them (order kept, duplicates removed).</summary>
    public required string Datasets { get; set; }
    public required string Projects { get; set; }
    public required string Slices { get; set; }

    /// <summary>JSON array of the dataset versions the export names (empty when it names none).</summary>
    public string Versions { get; set; } = "[]";

    /// <summary>The base of a delta export: a version, or an earlier export of versions; at most one is set.</summary>
    public Guid? SinceVersion { get; set; }
    public Guid? SinceExport { get; set; }

    public string? FilterQueryString { get; set; }
    public string? Error { get; set; }

    /// <summary>Key of the published archive in the blob store; set only when exported.</summary>
    public string? ArchiveKey { get; set; }
    public long? ArchiveSize { get; set; }

    /// <summary>When the archive stops being downloadable and is deleted (set when it is published).</summary>
    public DateTime? ExpiresAt { get; set; }

    /// <summary>The process holding the lease, for operators; the worker fences its writes with <see cref="ClaimToken"/>.</summary>
    public string? LeaseOwner { get; set; }

    /// <summary>New for every claim: only the claim that holds the lease can write the export.</summary>
    public Guid? ClaimToken { get; set; }
    public DateTime? LeaseExpiresAt { get; set; }
    public int Attempts { get; set; }

    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }
}
