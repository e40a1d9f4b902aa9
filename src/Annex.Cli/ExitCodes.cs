namespace Annex.Cli;

/// <summary>What <c>annex</c> exits with, so scripts can tell outcomes apart.</summary>
public static class ExitCodes
{
    /// <summary>The command did what it was asked (an awaited export is exported).</summary>
    public const int Done = 0;

    /// <summary>An awaited export failed or was aborted, or the command failed (server error, unreadable import, timeout).</summary>
    public const int Failed = 1;

    /// <summary>The command line or a value in it is wrong (including what the server refused with a 400).</summary>
    public const int Usage = 2;

    /// <summary>No API key, a wrong one, or one that may not do this (401, 403).</summary>
    public const int Auth = 3;

    /// <summary>The named export, dataset, project or slice does not exist (404).</summary>
    public const int NotFound = 4;
}

/// <summary>A failure the command reports in one line and exits with <see cref="ExitCode"/>.</summary>
public sealed class CliException(int exitCode, string message) : Exception(message)
{
    public int ExitCode { get; } = exitCode;
}
