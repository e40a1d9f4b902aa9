using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Annex.Server.Infrastructure.Data;

/// <summary>Lets <c>dotnet ef migrations add</c> build the model without starting the server.</summary>
public sealed class DesignTimeDbContextFactory : IDesignTimeDbContextFactory<AnnexDbContext>
{
    public AnnexDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<AnnexDbContext>().UseSqlite("Data Source=design.db").Options);
}
