namespace Annex.Server.Infrastructure.Data;

public sealed class DatabaseOptions
{
    public const string Section = "Database";

    /// <summary>Only <c>Sqlite</c> for now.</summary>
    public string Provider { get; set; } = "Sqlite";

    /// <summary>Empty means <c>annex.db</c> in the data folder.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>Apply pending schema migrations at start-up.</summary>
    public bool MigrateOnStart { get; set; } = true;
}
