using System.Security.Cryptography;
using System.Text;

namespace Annex.Server.Infrastructure.Auth;

public static class ApiKeys
{
    public const string Header = "X-Avala-Api-Key";
    private const string KeyPrefix = "avk_";

    /// <summary>A new random key: the prefix and 32 random bytes in URL-safe base64.</summary>
    public static string Generate() => KeyPrefix + Base64Url(RandomNumberGenerator.GetBytes(32));

    public static string Hash(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    public static bool HashesEqual(string stored, string computed) =>
        CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(stored), Encoding.ASCII.GetBytes(computed));

    /// <summary>What may be shown of a key after it was created.</summary>
    public static string DisplayPrefix(string key) => key[..Math.Min(key.Length, KeyPrefix.Length + 6)];

    internal static string Base64Url(ReadOnlySpan<byte> bytes) =>
        Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}
