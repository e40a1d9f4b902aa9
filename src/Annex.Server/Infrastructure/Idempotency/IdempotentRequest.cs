namespace Annex.Server.Infrastructure.Idempotency;

/// <summary>A POST sent with an <c>Idempotency-Key</c>: what it asked (a fingerprint of method, path and
/// body) and, once it finished, the response to replay to its retries.</summary>
public sealed class IdempotentRequest
{
    public long Id { get; set; }
    public long OrganizationId { get; set; }
    public required string Key { get; set; }

    /// <summary>SHA-256 (hex) of the method, the path and the raw body.</summary>
    public required string Fingerprint { get; set; }

    /// <summary>Null while the first request is still running.</summary>
    public int? StatusCode { get; set; }

    public string? ContentType { get; set; }
    public byte[]? ResponseBody { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}
