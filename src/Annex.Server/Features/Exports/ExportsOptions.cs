namespace Annex.Server.Features.Exports;

public sealed class ExportsOptions
{
    public const string Section = "Exports";

    /// <summary>Exports one process writes at the same time.</summary>
    public int Workers { get; set; } = 2;

    /// <summary>How long a claimed export stays with its worker without a heartbeat; after that any
    /// worker may take it over (the old one stops when its next heartbeat fails).</summary>
    public TimeSpan LeaseDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How often a running export renews its lease, publishes progress and looks for an abort.</summary>
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How often an idle worker looks for work that another process queued.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Connections one export preview counts on at once, on SQLite (which runs a query on one core); 0 means
    /// one per core, at most 4. PostgreSQL counts in one query.</summary>
    public int PreviewParallelism { get; set; }

    /// <summary>A preview splits a source into id ranges of at least this many ids, so small sources are counted in one
    /// query.</summary>
    public int PreviewPartSize { get; set; } = 50_000;

    /// <summary>Rows read per database round trip while exporting.</summary>
    public int BatchSize { get; set; } = 1000;

    /// <summary>Deflate level of archives. Fastest was chosen by measurement (docs/performance.md): about
    /// a third of the time of Optimal for archives about 1.5 times larger.</summary>
    public System.IO.Compression.CompressionLevel CompressionLevel { get; set; } = System.IO.Compression.CompressionLevel.Fastest;

    /// <summary>Claims of one export before it is failed (each crash or lost lease is one).</summary>
    public int MaxAttempts { get; set; } = 3;

    /// <summary>At most this many exports of one organization run at once, across every worker; the rest
    /// wait in <c>requested</c> while other organizations' exports go first.</summary>
    public int MaxRunningPerOrganization { get; set; } = 5;

    /// <summary>How long an archive can be downloaded after it was written; then it is deleted and a
    /// download answers 410.</summary>
    public TimeSpan ArchiveRetention { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How often expired archives and orphaned temporary files are deleted.</summary>
    public TimeSpan RetentionSweepInterval { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>A temporary archive file on local disk not written to for this long belongs to a
    /// process that died while writing it (a live writer keeps touching it).</summary>
    public TimeSpan OrphanedTempFileAge { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan DownloadUrlLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Base64 HMAC key for download links; empty means a key generated in the data folder.
    /// Replicas behind one load balancer must share it.</summary>
    public string? DownloadSigningKey { get; set; }

    /// <summary>Scheme and host for download links (e.g. https://annex.example.com) when the server sits
    /// behind a proxy; empty means the host of the request.</summary>
    public string? PublicBaseUrl { get; set; }
}
