using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Data;

/// <summary>Registers <see cref="AnnexDbContext"/> (scoped, and as a factory for the worker) on the
/// configured provider. A request's context comes from a pool: setting up a new context's services cost about
/// as much CPU as the query of a single export.</summary>
public static class DatabaseSetup
{
    public static IServiceCollection AddAnnexDatabase(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<DatabaseOptions>().Bind(configuration.GetSection(DatabaseOptions.Section))
            .Validate(
                o => string.Equals(o.Provider, DatabaseProviders.Sqlite, StringComparison.OrdinalIgnoreCase) || o.IsPostgres,
                "Database:Provider must be Sqlite or Postgres.")
            .Validate(
                o => !o.IsPostgres || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Database:ConnectionString is required when Database:Provider is Postgres (e.g. Host=db;Database=annex;Username=annex;Password=...).")
            .ValidateOnStart();

        services.AddSingleton<SqlitePragmaInterceptor>();
        var postgres = DatabaseProviders.Postgres.Equals(configuration[$"{DatabaseOptions.Section}:Provider"], StringComparison.OrdinalIgnoreCase);
        if (postgres)
        {
            services.AddDbContextPool<AnnexDbContext, PostgresAnnexDbContext>(ConfigurePostgres);
            services.AddDbContextFactory<PostgresAnnexDbContext>(ConfigurePostgres);
            services.AddSingleton<IDbContextFactory<AnnexDbContext>>(sp => new BaseTypeFactory<PostgresAnnexDbContext>(sp.GetRequiredService<IDbContextFactory<PostgresAnnexDbContext>>()));
        }
        else
        {
            services.AddDbContextPool<AnnexDbContext>(ConfigureSqlite);
            services.AddDbContextFactory<AnnexDbContext>(ConfigureSqlite);
        }

        return services;
    }

    private static void ConfigureSqlite(IServiceProvider services, DbContextOptionsBuilder options)
    {
        var database = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        var storage = services.GetRequiredService<IOptions<StorageOptions>>().Value;
        var connectionString = string.IsNullOrWhiteSpace(database.ConnectionString)
            ? $"Data Source={Path.Combine(storage.DataPath, "annex.db")};Pooling=True"
            : database.ConnectionString;
        options.UseSqlite(connectionString).AddInterceptors(services.GetRequiredService<SqlitePragmaInterceptor>());
    }

    private static void ConfigurePostgres(IServiceProvider services, DbContextOptionsBuilder options)
    {
        var database = services.GetRequiredService<IOptions<DatabaseOptions>>().Value;
        options.UseNpgsql(database.ConnectionString);
    }

    /// <summary>Hands out the provider's context type where the code asks for the shared base type.</summary>
    private sealed class BaseTypeFactory<TContext>(IDbContextFactory<TContext> inner) : IDbContextFactory<AnnexDbContext>
        where TContext : AnnexDbContext
    {
        public AnnexDbContext CreateDbContext() => inner.CreateDbContext();

        public async Task<AnnexDbContext> CreateDbContextAsync(CancellationToken cancellationToken = default) =>
            await inner.CreateDbContextAsync(cancellationToken);
    }
}
