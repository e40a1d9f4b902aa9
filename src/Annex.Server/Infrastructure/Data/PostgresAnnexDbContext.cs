using Microsoft.EntityFrameworkCore;

namespace Annex.Server.Infrastructure.Data;

/// <summary>The same schema on PostgreSQL. Its own type only so EF Core keeps a separate migrations set
/// (column types differ between providers); code everywhere else asks for <see cref="AnnexDbContext"/>.</summary>
public sealed class PostgresAnnexDbContext(DbContextOptions<PostgresAnnexDbContext> options) : AnnexDbContext(options);
