using Annex.Server.Infrastructure.Data;

namespace Annex.Server.Features.Datasets;

public sealed class Dataset : IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long OrganizationId { get; set; }
    public required string Name { get; set; }

    /// <summary>URL name, unique in the organization.</summary>
    public required string Slug { get; set; }

    /// <summary>What the items are; Annex stores images.</summary>
    public string DataType { get; set; } = DatasetKinds.Image;

    /// <summary><c>private</c> or <c>public</c>, as Avala clients send it; Annex serves every dataset only to its
    /// own organization either way.</summary>
    public string Visibility { get; set; } = DatasetKinds.Private;

    /// <summary>Kept in step with inserts so listing datasets never counts rows.</summary>
    public long ItemCount { get; set; }

    public DateTime CreatedAt { get; set; }
}

public static class DatasetKinds
{
    public const string Image = "image";
    public const string Private = "private";
    public const string Public = "public";

    /// <summary>Avala's status of a dataset whose items are in place. Annex writes items in the request that
    /// creates them, so every dataset is in this state.</summary>
    public const string Created = "created";

    /// <summary>The data types Annex stores (Avala also has video, point clouds and more).</summary>
    public static readonly IReadOnlyList<string> DataTypes = [Image];

    public static readonly IReadOnlyList<string> Visibilities = [Private, Public];
}

public sealed class DatasetItem : IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long DatasetId { get; set; }
    public Dataset Dataset { get; set; } = null!;
    public required string RefId { get; set; }

    /// <summary>Free JSON object, stored as compact text and written to exports verbatim.</summary>
    public required string Metadata { get; set; }

    public int? Width { get; set; }
    public int? Height { get; set; }
    public string? MediaUrl { get; set; }

    /// <summary>Blob key of the image uploaded to this server, when there is one; archives copy its bytes.</summary>
    public string? MediaKey { get; set; }

    /// <summary>The uploaded image's type (e.g. <c>image/jpeg</c>), read from its header.</summary>
    public string? MediaContentType { get; set; }

    /// <summary>The uploaded image's size in bytes.</summary>
    public long? MediaLength { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime UpdatedAt { get; set; }

    /// <summary>The change epoch of the row's last write, stamped by database triggers (see docs/versions.md);
    /// never set by the application.</summary>
    public long ChangeSeq { get; set; }
}
