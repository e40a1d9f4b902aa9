using System.CommandLine;
using Annex.Cli.Output;
using Annex.Client;
using Spectre.Console;

namespace Annex.Cli;

/// <summary>What one command run needs: its parsed options, its consoles and (made on first use) its client.</summary>
public sealed class CliContext : IDisposable
{
    private const int UnboundedWidth = 240;
    private readonly CliEnvironment _environment;
    private readonly GlobalOptions _options;
    private AnnexClient? _client;

    public CliContext(CliEnvironment environment, GlobalOptions options, ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(environment);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(parse);
        _environment = environment;
        _options = options;
        Parse = parse;
        Json = parse.GetValue(options.Json);
        Out = CreateConsole(environment.Out, environment.Ansi, interactive: false);
        Status = CreateConsole(environment.Error, environment.Interactive, environment.Interactive);
        // Live bars need a terminal; piped into a log they would only add noise.
        Progress = new ProgressBars(Json || !environment.Interactive ? null : Status);
    }

    public ParseResult Parse { get; }

    /// <summary>True with <c>--json</c>: answers are JSON on standard output and no progress is drawn.</summary>
    public bool Json { get; }

    /// <summary>Where results go.</summary>
    public IAnsiConsole Out { get; }

    /// <summary>Where progress and messages go.</summary>
    public IAnsiConsole Status { get; }

    public ProgressBars Progress { get; }

    public CliEnvironment Environment => _environment;

    public AnnexClient Client => _client ??= CreateClient();

    public T Value<T>(Option<T> option) => Parse.GetValue(option)!;

    public T Value<T>(Argument<T> argument) => Parse.GetValue(argument)!;

    /// <summary>Writes <paramref name="json"/> with <c>--json</c>, else <paramref name="human"/>.</summary>
    public void Show(object json, Func<Spectre.Console.Rendering.IRenderable> human)
    {
        ArgumentNullException.ThrowIfNull(human);
        if (Json)
        {
            JsonOutput.Write(_environment.Out, json);
        }
        else
        {
            Out.Write(human());
        }
    }

    /// <summary>A line for people; nothing with <c>--json</c>.</summary>
    public void Say(string markup)
    {
        if (!Json)
        {
            Out.MarkupLine(markup);
        }
    }

    public void Dispose() => _client?.Dispose();

    private AnnexClient CreateClient()
    {
        var settings = ConnectionSettings.Resolve(Parse.GetValue(_options.Server), Parse.GetValue(_options.ApiKey), _environment.Variable);
        return new AnnexClient(settings.Server, settings.ApiKey);
    }

    private static IAnsiConsole CreateConsole(TextWriter writer, bool ansi, bool interactive)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Out = new AnsiConsoleOutput(writer),
            Ansi = ansi ? AnsiSupport.Detect : AnsiSupport.No,
            ColorSystem = ansi ? ColorSystemSupport.Detect : ColorSystemSupport.NoColors,
            Interactive = interactive ? InteractionSupport.Yes : InteractionSupport.No,
        });
        if (!ansi)
        {
            // Piped output is not a terminal of 80 columns: keep uids and URLs on one line.
            console.Profile.Width = UnboundedWidth;
        }

        return console;
    }
}

/// <summary>The options every command accepts.</summary>
public sealed class GlobalOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"The Annex server, e.g. http://localhost:5080 (default: ${ConnectionSettings.ServerVariable}, else http://localhost:5080).",
        Recursive = true,
        HelpName = "url",
    };

    public Option<string?> ApiKey { get; } = new("--api-key")
    {
        Description = $"The API key (default: ${ConnectionSettings.ApiKeyVariable}).",
        Recursive = true,
        HelpName = "key",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Write the answer as JSON on standard output (no tables, no progress bars), for scripts.",
        Recursive = true,
    };
}
