using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Annex.Server.Infrastructure.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the SQLite model without starting the server.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AnnexDbContext>
{
    public AnnexDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AnnexDbContext>().UseSqlite("Data Source=design.db").Options);
}

/// <summary>The same for the PostgreSQL model (<c>--context PostgresAnnexDbContext</c>); no server is contacted.</summary>
public sealed class PostgresDesignTimeDbContextFactory : IDesignTimeDbContextFactory<PostgresAnnexDbContext>
{
    public PostgresAnnexDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresAnnexDbContext>().UseNpgsql("Host=localhost;Database=annex_design").Options);
}
