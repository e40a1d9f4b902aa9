namespace Annex.Server.Infrastructure.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary><c>Sqlite</c> (default: one file in the data folder, nothing to install) or <c>Postgres</c>.</summary>
    public string Provider { get; set; } = DatabaseProviders.Sqlite;

    /// <summary>Empty means <c>annex.db</c> in the data folder (SQLite); required for PostgreSQL,
    /// e.g. <c>Host=db;Database=annex;Username=annex;Password=...</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply pending schema migrations at start-up. Operators who migrate in a separate step
    /// (<c>Annex.Server migrate</c>) turn this off.</summary>
    public bool MigrateOnStart { get; set; } = true;

    public bool IsPostgres => string.Equals(Provider, DatabaseProviders.Postgres, StringComparison.OrdinalIgnoreCase);
}

public static class DatabaseProviders
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";
}
