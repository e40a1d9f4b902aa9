namespace Annex.Server.Infrastructure.Storage;

public sealed class StorageOptions
{
    public const string Section = "Storage";

    /// <summary>The data folder: SQLite database, archives, the first API key and the signing key.</summary>
    public string DataPath { get; set; } = "data";
}
