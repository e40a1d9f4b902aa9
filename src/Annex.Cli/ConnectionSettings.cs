namespace Annex.Cli;

/// <summary>The server and API key a command talks to: options first, then <c>ANNEX_SERVER</c> and
/// <c>AVALA_API_KEY</c>, then (for the server only) the local default.</summary>
public sealed record ConnectionSettings(Uri Server, string ApiKey)
{
    public const string ServerVariable = "ANNEX_SERVER";
    public const string ApiKeyVariable = "AVALA_API_KEY";
    public static readonly Uri DefaultServer = new("http://localhost:5080");

    public static ConnectionSettings Resolve(string? server, string? apiKey, Func<string, string?> variable)
    {
        ArgumentNullException.ThrowIfNull(variable);
        var serverText = FirstSet(server, variable(ServerVariable));
        Uri address;
        if (serverText is null)
        {
            address = DefaultServer;
        }
        else if (!Uri.TryCreate(serverText, UriKind.Absolute, out address!) || address.Scheme is not ("http" or "https"))
        {
            throw new CliException(ExitCodes.Usage, $"'{serverText}' is not a server address; give one like http://localhost:5080.");
        }

        var key = FirstSet(apiKey, variable(ApiKeyVariable))
            ?? throw new CliException(ExitCodes.Auth, $"No API key: pass --api-key or set {ApiKeyVariable}.");
        return new ConnectionSettings(address, key);
    }

    private static string? FirstSet(params string?[] values) => values.FirstOrDefault(v => !string.IsNullOrWhiteSpace(v))?.Trim();
}
