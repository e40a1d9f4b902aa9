using Annex.Server.Infrastructure.Data;

namespace Annex.Server.Features.Datasets;

/// <summary>A file promised for a dataset that does not exist yet (Avala's manual upload): made with its upload
/// URL, filled by the upload, and turned into an item when <c>POST /datasets/manual-upload/</c> creates the
/// dataset of that name.</summary>
public sealed class ManualUpload : IHasId
{
    public long Id { get; set; }

    /// <summary>Also the uid of the item the file becomes, so the blob never has to move.</summary>
    public Guid Uid { get; set; }

    public long OrganizationId { get; set; }

    /// <summary>The name the dataset will be created with; uploads are gathered by it.</summary>
    public required string DatasetName { get; set; }

    /// <summary>The file's path in the dataset (<c>file_path_in_dataset</c>): the item's ref_id.</summary>
    public required string Path { get; set; }

    /// <summary>The size the client announced; the upload may not be larger.</summary>
    public long ContentLength { get; set; }

    public required string BlobKey { get; set; }

    public DateTime CreatedAt { get; set; }

    /// <summary>The upload URL works until then.</summary>
    public DateTime ExpiresAt { get; set; }

    /// <summary>When this server received the file (local storage; on S3 the file goes to the store). Set
    /// once, which makes the URL single-use.</summary>
    public DateTime? ReceivedAt { get; set; }
}
