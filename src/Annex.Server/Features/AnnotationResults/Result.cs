using Annex.Server.Infrastructure.Data;
using Annex.Server.Features.Datasets;
using Annex.Server.Features.Projects;

namespace Annex.Server.Features.AnnotationResults;

/// <summary>The annotations of one dataset item in one project: one export task.</summary>
public sealed class Result : IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long DatasetItemId { get; set; }
    public DatasetItem DatasetItem { get; set; } = null!;
    public long ProjectId { get; set; }
    public Project Project { get; set; } = null!;

    /// <summary>Validated, canonical JSON array of annotations, passed through to exports unparsed.</summary>
    public required string Annotations { get; set; }

    public int AnnotationCount { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>The change epoch of the row's last write, stamped by database triggers (see docs/versions.md).</summary>
    public long ChangeSeq { get; set; }
}
