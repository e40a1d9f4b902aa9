using Annex.Server.Infrastructure.Data;
using Annex.Server.Infrastructure.Storage;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Annex.Server.Features.Organizations;

/// <summary>On an empty database: a default organization, an admin and a key, printed once and saved
/// (mode 600) in the data folder so scripts can read it.</summary>
public sealed class FirstStart(AnnexDbContext db, Accounts accounts, IOptions<StorageOptions> storage, ILogger<FirstStart> logger)
{
    public const string KeyFileName = "admin-api-key";

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        if (await db.Organizations.AnyAsync(cancellationToken))
        {
            return;
        }

        var issued = await accounts.CreateOrganizationWithAdminAsync("Default organization", "admin@localhost", cancellationToken);
        var path = Path.Combine(storage.Value.DataPath, KeyFileName);
        await File.WriteAllTextAsync(path, issued.Key + "\n", cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        // Console, not the logger: the key must be shown exactly once whatever the log settings.
        Console.WriteLine();
        Console.WriteLine("  Created the default organization and its admin.");
        Console.WriteLine($"  API key (shown once, also saved to {path}):");
        Console.WriteLine($"    {issued.Key}");
        Console.WriteLine();
        logger.LogInformation("First start: created organization {OrganizationUid} and its admin key {KeyUid}", issued.OrganizationUid, issued.Uid);
    }
}
