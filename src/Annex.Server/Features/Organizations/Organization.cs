namespace Annex.Server.Features.Organizations;

public sealed class Organization : Annex.Server.Infrastructure.Data.IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public required string Name { get; set; }

    /// <summary>Unique URL name; Avala's owner routes (<c>/datasets/&lt;owner&gt;/...</c>) name the organization by it.</summary>
    public required string Slug { get; set; }

    public DateTime CreatedAt { get; set; }
}

public sealed class User : Annex.Server.Infrastructure.Data.IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long OrganizationId { get; set; }
    public Organization Organization { get; set; } = null!;
    public required string Email { get; set; }
    public bool IsAdmin { get; set; }
    public DateTime CreatedAt { get; set; }
}

public sealed class ApiKey : Annex.Server.Infrastructure.Data.IHasId
{
    public long Id { get; set; }
    public Guid Uid { get; set; }
    public long UserId { get; set; }
    public User User { get; set; } = null!;
    public required string Name { get; set; }

    /// <summary>The first characters of the key, kept so an operator can tell keys apart.</summary>
    public required string Prefix { get; set; }

    /// <summary>SHA-256 of the whole key, hex; the key itself is never stored.</summary>
    public required string Hash { get; set; }

    /// <summary>Space-separated scopes (see <c>ApiScopes</c>); empty means full organization access.</summary>
    public string Scopes { get; set; } = string.Empty;

    public DateTime CreatedAt { get; set; }

    /// <summary>After this instant the key is refused; null keys do not expire.</summary>
    public DateTime? ExpiresAt { get; set; }

    public DateTime? RevokedAt { get; set; }
}
