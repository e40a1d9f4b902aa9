namespace Annex.Cli;

/// <summary>Where the command writes and where it reads its settings: the process's console, or captured
/// writers and a dictionary of variables when run in-process.</summary>
public sealed class CliEnvironment
{
    /// <summary>Results: tables, or JSON with <c>--json</c>.</summary>
    public required TextWriter Out { get; init; }

    /// <summary>Errors and progress bars, so that <see cref="Out"/> stays clean for pipes.</summary>
    public required TextWriter Error { get; init; }

    /// <summary>Reads an environment variable (<c>ANNEX_SERVER</c>, <c>AVALA_API_KEY</c>).</summary>
    public Func<string, string?> Variable { get; init; } = Environment.GetEnvironmentVariable;

    /// <summary>True when <see cref="Error"/> is a terminal: progress is drawn live rather than as lines.</summary>
    public bool Interactive { get; init; }

    /// <summary>True when <see cref="Out"/> is a terminal that understands colours.</summary>
    public bool Ansi { get; init; }

    /// <summary>Where relative paths given on the command line start.</summary>
    public string WorkingDirectory { get; init; } = Environment.CurrentDirectory;

    public static CliEnvironment FromConsole() => new()
    {
        Out = Console.Out,
        Error = Console.Error,
        Interactive = !Console.IsErrorRedirected,
        Ansi = !Console.IsOutputRedirected,
    };

    public string FullPath(string path) => Path.GetFullPath(path, WorkingDirectory);
}
