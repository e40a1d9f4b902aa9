using Annex.Server.Features.Demo;
using Annex.Server.Features.Organizations;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Hosting;

/// <summary>Creates the data folder, applies migrations, and on first start creates the default organization
/// (and the demo). It runs in the host's "starting" phase, which completes before any hosted service starts,
/// whatever the registration order: background loops (sweepers, the export worker) and the HTTP server all
/// find the database migrated. A loop started alongside a migration would meet missing tables, and on SQLite
/// could hold the file's lock the migration needs.</summary>
public sealed class StartupTasks(IServiceProvider services, IOptions<StorageOptions> storage, IOptions<DatabaseOptions> database, IOptions<ServerOptions> server) : IHostedLifecycleService
{
    public async Task StartingAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(storage.Value.DataPath);
        // What exports of a killed process spilled to disk.
        services.GetRequiredService<SpillFolder>().DeleteOrphans();
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<AnnexDbContext>();
        if (database.Value.MigrateOnStart)
        {
            await db.Database.MigrateAsync(cancellationToken);
        }

        await scope.ServiceProvider.GetRequiredService<FirstStart>().RunAsync(cancellationToken);
        if (server.Value.Demo)
        {
            await scope.ServiceProvider.GetRequiredService<DemoData>().LoadAsync(cancellationToken);
        }
    }

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
