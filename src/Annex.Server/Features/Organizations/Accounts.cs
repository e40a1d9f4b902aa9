using Annex.Server.Infrastructure;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Features.Organizations;

/// <summary>A key as it is handed out: the secret appears here once and is never stored.</summary>
public sealed record IssuedApiKey(Guid Uid, string Key, Guid UserUid, Guid OrganizationUid);

/// <summary>Creates organizations, users and keys; used by the admin commands, the first start and tests.</summary>
public sealed class Accounts(AnnexDbContext db, TimeProvider time, ApiKeyCache keyCache)
{
    public async Task<Organization> CreateOrganizationAsync(string name, CancellationToken cancellationToken, Guid? uid = null)
    {
        var slug = await Slugs.FirstFreeAsync(db.Organizations.Select(o => o.Slug), Slugs.FromName(name, "organization"), cancellationToken);
        var organization = new Organization { Uid = uid ?? Guid.CreateVersion7(), Name = name, Slug = slug, CreatedAt = Clock.UtcNow(time) };
        db.Organizations.Add(organization);
        await db.SaveChangesAsync(cancellationToken);
        return organization;
    }

    public async Task<User> CreateUserAsync(Guid organizationUid, string email, bool isAdmin, CancellationToken cancellationToken)
    {
        var organization = await db.Organizations.SingleOrDefaultAsync(o => o.Uid == organizationUid, cancellationToken)
            ?? throw new AccountException($"No organization with uid {organizationUid}.");
        if (await db.Users.AnyAsync(u => u.Email == email, cancellationToken))
        {
            throw new AccountException($"A user with email {email} already exists.");
        }

        var user = new User { Uid = Guid.CreateVersion7(), OrganizationId = organization.Id, Email = email, IsAdmin = isAdmin, CreatedAt = Clock.UtcNow(time) };
        db.Users.Add(user);
        await db.SaveChangesAsync(cancellationToken);
        return user;
    }

    public async Task<IssuedApiKey> CreateApiKeyAsync(Guid userUid, string name, CancellationToken cancellationToken, IReadOnlyCollection<string>? scopes = null, DateTime? expiresAt = null)
    {
        if (scopes?.FirstOrDefault(s => !ApiScopes.All.Contains(s)) is { } unknown)
        {
            throw new AccountException($"Unknown scope \"{unknown}\"; known scopes: {string.Join(", ", ApiScopes.All)}.");
        }

        if (expiresAt <= Clock.UtcNow(time))
        {
            throw new AccountException("The expiry must be in the future.");
        }

        var user = await db.Users.Include(u => u.Organization).SingleOrDefaultAsync(u => u.Uid == userUid, cancellationToken)
            ?? throw new AccountException($"No user with uid {userUid}.");
        var secret = ApiKeys.Generate();
        var key = new ApiKey
        {
            Uid = Guid.CreateVersion7(),
            UserId = user.Id,
            Name = name,
            Prefix = ApiKeys.DisplayPrefix(secret),
            Hash = ApiKeys.Hash(secret),
            Scopes = ApiScopes.Format(scopes ?? []),
            CreatedAt = Clock.UtcNow(time),
            ExpiresAt = expiresAt,
        };
        db.ApiKeys.Add(key);
        await db.SaveChangesAsync(cancellationToken);
        return new IssuedApiKey(key.Uid, secret, user.Uid, user.Organization.Uid);
    }

    /// <summary>Revokes a key; later requests with it are answered 401.</summary>
    public async Task RevokeApiKeyAsync(Guid keyUid, CancellationToken cancellationToken)
    {
        var now = Clock.UtcNow(time);
        var changed = await db.ApiKeys.Where(k => k.Uid == keyUid && k.RevokedAt == null)
            .ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, now), cancellationToken);
        keyCache.Clear();
        if (changed == 0 && !await db.ApiKeys.AnyAsync(k => k.Uid == keyUid, cancellationToken))
        {
            throw new AccountException($"No API key with uid {keyUid}.");
        }
    }

    /// <summary>A new organization with an admin user and a key: what the first start and tests need.</summary>
    public async Task<IssuedApiKey> CreateOrganizationWithAdminAsync(string organizationName, string adminEmail, CancellationToken cancellationToken)
    {
        var organization = await CreateOrganizationAsync(organizationName, cancellationToken);
        var user = await CreateUserAsync(organization.Uid, adminEmail, isAdmin: true, cancellationToken);
        return await CreateApiKeyAsync(user.Uid, "admin", cancellationToken);
    }
}

public sealed class AccountException(string message) : Exception(message);
