namespace Annex.AvalaSdk.Tests;

/// <summary>Where the repository, the Node harness and Avala's SDK snapshots are. The snapshots are not part of
/// the repository: <c>ANNEX_AVALA_SDK_DIR</c> names the folder that holds <c>avala-sdk-ts</c> and
/// <c>avala-sdk-python</c>; otherwise it is <c>shared/clients</c> beside the repository (as CI lays it out) or
/// beside one of its parent folders (a worktree kept in a subfolder of the main checkout's parent).</summary>
public static class SdkLocations
{
    public const string DirectoryVariable = "ANNEX_AVALA_SDK_DIR";

    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>The package.json, package-lock.json and scripts that compile and drive the TypeScript SDK.</summary>
    public static string Harness => Path.Combine(RepositoryRoot, "tests", "avala-sdk");

    /// <summary>The folder holding both SDK snapshots, or null when there is none.</summary>
    public static string? Clients { get; } = FindClients();

    /// <summary>The TypeScript SDK package (<c>packages/sdk</c>), when its sources are there.</summary>
    public static string? TypeScriptPackage =>
        Clients is { } clients && File.Exists(Path.Combine(clients, "avala-sdk-ts", "packages", "sdk", "src", "index.ts"))
            ? Path.Combine(clients, "avala-sdk-ts", "packages", "sdk")
            : null;

    /// <summary>The Python SDK's pydantic models (<c>avala/types</c>), when they are there.</summary>
    public static string? PythonTypes =>
        Clients is { } clients && Directory.Exists(Path.Combine(clients, "avala-sdk-python", "avala", "types"))
            ? Path.Combine(clients, "avala-sdk-python", "avala", "types")
            : null;

    public const string MissingClients =
        "A copy of Avala's SDK snapshots (shared/clients beside the repository, or the folder named by " + DirectoryVariable + ")";

    private static string FindRepositoryRoot()
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(Path.Combine(folder.FullName, "Annex.sln")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException($"No Annex.sln above {AppContext.BaseDirectory}.");
    }

    private static string? FindClients()
    {
        if (Environment.GetEnvironmentVariable(DirectoryVariable) is { Length: > 0 } configured)
        {
            return Directory.Exists(configured) ? Path.GetFullPath(configured) : null;
        }

        for (var folder = Directory.GetParent(RepositoryRoot); folder is not null; folder = folder.Parent)
        {
            var candidate = Path.Combine(folder.FullName, "shared", "clients");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }
}
