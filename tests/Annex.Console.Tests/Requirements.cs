using Xunit;

namespace Annex.Console.Tests;

/// <summary>The browser tests need Debian's chromium (or the one <c>ANNEX_CHROMIUM</c> names): where it is missing
/// they skip with a message saying what to install; with ANNEX_REQUIRE_ALL_TESTS=1 (set by CI) they fail instead.</summary>
public static class Requirements
{
    public const string RequireAllVariable = "ANNEX_REQUIRE_ALL_TESTS";
    public const string ChromiumVariable = "ANNEX_CHROMIUM";
    private const string DefaultChromium = "/usr/bin/chromium";

    public static string ChromiumPath =>
        Environment.GetEnvironmentVariable(ChromiumVariable) is { Length: > 0 } given ? given : DefaultChromium;

    /// <summary>The browser to drive; skips (or fails under CI) when it is not installed.</summary>
    public static string RequireChromium()
    {
        var path = ChromiumPath;
        if (File.Exists(path))
        {
            return path;
        }

        var message = $"chromium is not installed here ({path} is missing; install Debian's 'chromium' package or set {ChromiumVariable}), so this browser test cannot run.";
        if (Environment.GetEnvironmentVariable(RequireAllVariable) == "1")
        {
            Assert.Fail(message + $" ({RequireAllVariable}=1 turns this skip into a failure.)");
        }

        Skip.If(true, message);
        return path;
    }
}
