using Annex.Server.Features.Demo;
using Annex.Server.Features.Organizations;
using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Hosting;

/// <summary>Runs before the server accepts requests and before the worker starts: creates the data
/// folder, applies migrations, and on first start creates the default organization (and the demo).</summary>
public sealed class StartupTasks(IServiceProvider services, IOptions<StorageOptions> storage, IOptions<DatabaseOptions> database, IOptions<ServerOptions> server) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(storage.Value.DataPath);
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

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
