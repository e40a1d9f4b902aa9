using Annex.Server.Features.Organizations;

namespace Annex.Server.Features.WebConsole;

/// <summary>A signed-in browser: the cookie holds a random id whose SHA-256 is stored here, so the table alone
/// cannot be used to sign in. The session acts as its API key and ends with it (revoked or expired).</summary>
public sealed class ConsoleSession : Annex.Server.Infrastructure.Data.IHasId
{
    public long Id { get; set; }

    /// <summary>SHA-256 of the cookie's value, hex.</summary>
    public required string TokenHash { get; set; }

    /// <summary>Sent back by the console in <c>X-CSRF-Token</c> on every state-changing request.</summary>
    public required string CsrfToken { get; set; }

    public long ApiKeyId { get; set; }
    public ApiKey ApiKey { get; set; } = null!;

    public DateTime CreatedAt { get; set; }
    public DateTime ExpiresAt { get; set; }
}
