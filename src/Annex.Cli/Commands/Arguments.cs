using System.CommandLine;

namespace Annex.Cli.Commands;

/// <summary>Arguments and options several commands share.</summary>
internal static class Arguments
{
    public static Argument<Guid> Uid(string what) => new("uid") { Description = $"The {what}'s uid." };

    public static Option<Guid[]> Uids(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "uid",
        AllowMultipleArgumentsPerToken = false,
    };

    public static Option<double> Interval() => new("--interval")
    {
        Description = "Seconds between two polls while the export runs (it is asked less often while queued).",
        DefaultValueFactory = _ => 5,
        HelpName = "seconds",
        Validators = { r => { if (r.GetValueOrDefault<double>() <= 0) { r.AddError("--interval must be positive."); } } },
    };

    public static Option<double?> Timeout() => new("--timeout")
    {
        Description = "Give up waiting after this many seconds (exit code 1); the export itself goes on.",
        HelpName = "seconds",
        Validators = { r => { if (r.GetValueOrDefault<double?>() is <= 0) { r.AddError("--timeout must be positive."); } } },
    };

    public static Option<string?> Out(string description) => new("--out", "-o") { Description = description, HelpName = "file" };
}
