namespace Annex.Server.Tests.Infrastructure;

/// <summary>Which database this test assembly runs the server on. The same test sources build twice:
/// <c>Annex.Server.Tests</c> on SQLite and <c>Annex.Server.Tests.Postgres</c> on a private PostgreSQL.</summary>
public static class TestDatabase
{
    public static bool IsPostgres { get; } = typeof(TestDatabase).Assembly.GetName().Name!.EndsWith(".Postgres", StringComparison.Ordinal);

    /// <summary>Settings that put a test server on its own new database; empty on SQLite (the data folder holds it).</summary>
    public static Dictionary<string, string?> NewServerSettings() => IsPostgres
        ? new() { ["Database:Provider"] = "Postgres", ["Database:ConnectionString"] = PostgresServer.CreateDatabase() }
        : [];
}
