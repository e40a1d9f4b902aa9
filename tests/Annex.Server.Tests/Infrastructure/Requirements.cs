using System.Diagnostics;
using Xunit;

namespace Annex.Server.Tests.Infrastructure;

/// <summary>Tests that need a program outside .NET skip where it is missing, with a message that says
/// what to install; with ANNEX_REQUIRE_ALL_TESTS=1 (set by CI) a missing program fails the test instead.</summary>
public static class Requirements
{
    public const string RequireAllVariable = "ANNEX_REQUIRE_ALL_TESTS";

    public static void Require(bool available, string what)
    {
        if (available)
        {
            return;
        }

        var message = $"{what} is not installed here, so this test cannot run.";
        if (Environment.GetEnvironmentVariable(RequireAllVariable) == "1")
        {
            Assert.Fail(message + $" ({RequireAllVariable}=1 turns this skip into a failure.)");
        }

        Skip.If(true, message);
    }

    public static bool PythonWithRequests()
    {
        try
        {
            using var probe = Process.Start(new ProcessStartInfo("python3", ["-c", "import requests"]) { RedirectStandardError = true, UseShellExecute = false });
            probe!.WaitForExit(20_000);
            return probe.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
