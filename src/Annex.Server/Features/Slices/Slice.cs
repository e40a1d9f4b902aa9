using Annex.Server.Infrastructure.Data;

namespace Annex.Server.Features.Slices;

public sealed class Slice : IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long OrganizationId { get; set; }
    public required string Name { get; set; }

    /// <summary>URL name, unique in the organization.</summary>
    public required string Slug { get; set; }

    /// <summary><c>private</c> or <c>public</c>, as Avala clients send it.</summary>
    public string Visibility { get; set; } = Annex.Server.Features.Datasets.DatasetKinds.Private;

    public DateTime CreatedAt { get; set; }
}

public sealed class SliceItem
{
    public long SliceId { get; set; }
    public long DatasetItemId { get; set; }
}
