using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Auth;

/// <summary><c>Auth:*</c> settings.</summary>
public sealed class AuthOptions
{
    public const string Section = "Auth";

    /// <summary>How long a verified API key is trusted without asking the database again. A key revoked through
    /// this process (the API or <see cref="Features.Organizations.Accounts"/>) is refused at once; one revoked by
    /// another replica or by the admin command on a running server is refused at the latest this long after.
    /// Expiry is always checked against the clock. Zero turns the cache off.</summary>
    public TimeSpan KeyCacheDuration { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The API key row authentication needs: the key and its user and organization.</summary>
public sealed record VerifiedApiKey(
    Guid Uid, string Hash, string Name, string Prefix, string Scopes, DateTime? ExpiresAt, Guid UserUid,
    long OrganizationId, Guid OrganizationUid, string OrganizationName, string OrganizationSlug, bool IsAdmin);

/// <summary>Keys verified against the database in the last <see cref="AuthOptions.KeyCacheDuration"/>, by hash,
/// so a client sending many requests costs one key lookup per interval rather than one per request. Only keys
/// that were valid are kept: an unknown or revoked key is looked up every time.</summary>
public sealed class ApiKeyCache(IOptions<AuthOptions> options, TimeProvider time)
{
    /// <summary>Beyond this many keys the cache starts over rather than growing without bound.</summary>
    private const int MaxEntries = 10_000;

    private readonly TimeSpan _duration = options.Value.KeyCacheDuration;
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private long _generation;

    public bool Enabled => _duration > TimeSpan.Zero;

    /// <summary>The key with this hash if it was verified recently and has not expired since.</summary>
    public VerifiedApiKey? Find(string hash, DateTime now)
    {
        if (!Enabled || !_entries.TryGetValue(hash, out var entry))
        {
            return null;
        }

        if (time.GetTimestamp() - entry.VerifiedAt > entry.TrustedFor || entry.Key.ExpiresAt is { } expiresAt && expiresAt <= now)
        {
            _entries.TryRemove(KeyValuePair.Create(hash, entry));
            return null;
        }

        return entry.Key;
    }

    /// <summary>Read before looking a key up, and handed to <see cref="Add"/>: a key revoked while it was being
    /// looked up is not kept.</summary>
    public long Generation => Interlocked.Read(ref _generation);

    public void Add(VerifiedApiKey key, long generation)
    {
        if (!Enabled)
        {
            return;
        }

        if (_entries.Count >= MaxEntries)
        {
            _entries.Clear();
        }

        var entry = new Entry(key, time.GetTimestamp(), (long)(_duration.TotalSeconds * time.TimestampFrequency));
        _entries[key.Hash] = entry;
        if (Interlocked.Read(ref _generation) != generation)
        {
            _entries.TryRemove(KeyValuePair.Create(key.Hash, entry));
        }
    }

    /// <summary>Forgets every key: called when a key is revoked, so the next request with it asks the database.</summary>
    public void Clear()
    {
        Interlocked.Increment(ref _generation);
        _entries.Clear();
    }

    private sealed record Entry(VerifiedApiKey Key, long VerifiedAt, long TrustedFor);
}
