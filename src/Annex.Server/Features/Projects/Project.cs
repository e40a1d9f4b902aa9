using Annex.Server.Infrastructure.Data;

namespace Annex.Server.Features.Projects;

public sealed class Project : IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long OrganizationId { get; set; }
    public required string Name { get; set; }

    /// <summary>The ordered label taxonomy as a JSON array; its order is the class order of every format.</summary>
    public required string Labels { get; set; }

    public DateTime CreatedAt { get; set; }
}
