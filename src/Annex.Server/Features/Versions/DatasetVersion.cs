using Annex.Server.Infrastructure.Data;

namespace Annex.Server.Features.Versions;

/// <summary>An immutable view of a dataset: its items and results as they were at change epoch <see cref="Seq"/>.
/// Nothing is copied when a version is made; rows changed or deleted later keep their old state in the history
/// tables (see docs/versions.md).</summary>
public sealed class DatasetVersion : IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long OrganizationId { get; set; }
    public long DatasetId { get; set; }
    public required string Name { get; set; }

    /// <summary>JSON array of the project uids whose results the version exports; empty for every project.</summary>
    public required string Projects { get; set; }

    /// <summary>The version holds exactly the rows stamped with a change epoch at or below this one.</summary>
    public long Seq { get; set; }

    public DateTime CreatedAt { get; set; }
}
