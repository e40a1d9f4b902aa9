using Annex.Server.Infrastructure.Data;

namespace Annex.Server.Features.Slices;

public sealed class Slice : IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long OrganizationId { get; set; }
    public required string Name { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class SliceItem
{
    public long SliceId { get; set; }
    public long DatasetItemId { get; set; }
}
