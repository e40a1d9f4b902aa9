using System.CommandLine;
using Annex.Server.Features.Organizations;
using Annex.Server.Hosting;
using Annex.Server.Infrastructure.Auth;
using Annex.Server.Infrastructure.Data;
using Microsoft.EntityFrameworkCore;

namespace Annex.Server;

/// <summary>The <c>Annex.Server</c> command: runs the server, or an admin task against its database.</summary>
public partial class Program
{
    // A server that cannot start must fail its process with the cause: the default handler would print it and
    // return normally, and a host (or a test host) watching the entry point would take that for a clean exit.
    public static Task<int> Main(string[] args) =>
        BuildCommandLine().Parse(args).InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false });

    private static RootCommand BuildCommandLine()
    {
        var data = new Option<string?>("--data") { Description = "Data folder (SQLite database, archives, keys). Default: ./data", Recursive = true };
        var demo = new Option<bool>("--demo") { Description = "Load the demo dataset (uid 550e8400-e29b-41d4-a716-446655440000) and project at start-up." };
        var role = new Option<ServerRole?>("--role") { Description = "all (default): API and export worker; api: API only; worker: export worker only." };
        var urls = new Option<string?>("--urls") { Description = $"Addresses to listen on. Default: {AnnexApp.DefaultUrl}" };

        var root = new RootCommand("Annex: annotation store and export server speaking the Avala Exports API.")
        {
            data, demo, role, urls,
        };
        root.TreatUnmatchedTokensAsErrors = false;
        root.SetAction(async (parse, ct) =>
        {
            var hostArgs = HostArgs(parse.GetValue(data), parse.UnmatchedTokens);
            if (parse.GetValue(demo))
            {
                hostArgs.Add("--Server:Demo=true");
            }

            if (parse.GetValue(role) is { } chosen)
            {
                hostArgs.Add($"--Server:Role={chosen}");
            }

            if (parse.GetValue(urls) is { } listen)
            {
                hostArgs.Add($"--urls={listen}");
            }

            await AnnexApp.Build([.. hostArgs]).RunAsync(ct);
            return 0;
        });

        root.Subcommands.Add(MigrateCommand(data));
        root.Subcommands.Add(AdminCommand(data));
        return root;
    }

    private static List<string> HostArgs(string? dataPath, IReadOnlyList<string> passThrough)
    {
        var hostArgs = new List<string>(passThrough);
        if (!string.IsNullOrWhiteSpace(dataPath))
        {
            hostArgs.Add($"--Storage:DataPath={dataPath}");
        }

        return hostArgs;
    }

    private static Command MigrateCommand(Option<string?> data)
    {
        var command = new Command("migrate", "Apply database migrations and exit.");
        command.SetAction(async (parse, ct) =>
        {
            await using var app = AnnexApp.Build([.. HostArgs(parse.GetValue(data), parse.UnmatchedTokens)]);
            await using var scope = app.Services.CreateAsyncScope();
            Directory.CreateDirectory(scope.ServiceProvider.GetRequiredService<Microsoft.Extensions.Options.IOptions<Annex.Server.Infrastructure.Storage.StorageOptions>>().Value.DataPath);
            await scope.ServiceProvider.GetRequiredService<AnnexDbContext>().Database.MigrateAsync(ct);
            Console.WriteLine("Database is up to date.");
            return 0;
        });
        return command;
    }

    private static Command AdminCommand(Option<string?> data)
    {
        var admin = new Command("admin", "Manage organizations, users and API keys.");

        var orgName = new Option<string>("--name") { Description = "Organization name.", Required = true };
        var createOrg = new Command("create-org", "Create an organization with an admin user and print the admin's API key.") { orgName };
        var adminEmail = new Option<string>("--admin-email") { Description = "Email of the organization's first admin.", Required = true };
        createOrg.Options.Add(adminEmail);
        createOrg.SetAction((parse, ct) => WithAccounts(parse, data, async accounts =>
        {
            var issued = await accounts.CreateOrganizationWithAdminAsync(parse.GetValue(orgName)!, parse.GetValue(adminEmail)!, ct);
            Console.WriteLine($"organization {issued.OrganizationUid}");
            Console.WriteLine($"user         {issued.UserUid}");
            Console.WriteLine($"api key      {issued.Key}   (uid {issued.Uid}; shown once)");
        }, ct));

        var org = new Option<Guid>("--org") { Description = "Organization uid.", Required = true };
        var email = new Option<string>("--email") { Description = "User email.", Required = true };
        var isAdmin = new Option<bool>("--admin") { Description = "Make the user an organization admin." };
        var createUser = new Command("create-user", "Create a user in an organization.") { org, email, isAdmin };
        createUser.SetAction((parse, ct) => WithAccounts(parse, data, async accounts =>
        {
            var user = await accounts.CreateUserAsync(parse.GetValue(org), parse.GetValue(email)!, parse.GetValue(isAdmin), ct);
            Console.WriteLine($"user {user.Uid}");
        }, ct));

        var user = new Option<Guid>("--user") { Description = "User uid.", Required = true };
        var keyName = new Option<string>("--name") { Description = "A name to recognise the key by.", DefaultValueFactory = _ => "cli" };
        var scopes = new Option<string[]>("--scope")
        {
            Description = $"Limit the key to a scope (repeatable; none: full organization access). Scopes: {string.Join(", ", ApiScopes.All)}.",
            AllowMultipleArgumentsPerToken = true,
        };
        var expiresInDays = new Option<int?>("--expires-in-days") { Description = "Refuse the key after this many days." };
        var createKey = new Command("create-key", "Create an API key for a user and print it (shown once).") { user, keyName, scopes, expiresInDays };
        createKey.SetAction((parse, ct) => WithAccounts(parse, data, async accounts =>
        {
            var days = parse.GetValue(expiresInDays);
            var expiresAt = days is { } d ? DateTime.UtcNow.AddDays(d) : (DateTime?)null;
            var issued = await accounts.CreateApiKeyAsync(parse.GetValue(user), parse.GetValue(keyName)!, ct, parse.GetValue(scopes) ?? [], expiresAt);
            Console.WriteLine($"api key {issued.Key}   (uid {issued.Uid}; shown once)");
        }, ct));

        var key = new Option<Guid>("--key") { Description = "API key uid.", Required = true };
        var revokeKey = new Command("revoke-key", "Revoke an API key; requests with it get 401 from now on (a running server stops accepting it within Auth:KeyCacheDuration, 5 s by default).") { key };
        revokeKey.SetAction((parse, ct) => WithAccounts(parse, data, async accounts =>
        {
            await accounts.RevokeApiKeyAsync(parse.GetValue(key), ct);
            Console.WriteLine("revoked");
        }, ct));

        admin.Subcommands.Add(createOrg);
        admin.Subcommands.Add(createUser);
        admin.Subcommands.Add(createKey);
        admin.Subcommands.Add(revokeKey);
        return admin;
    }

    private static async Task<int> WithAccounts(ParseResult parse, Option<string?> data, Func<Accounts, Task> action, CancellationToken ct)
    {
        await using var app = AnnexApp.Build([.. HostArgs(parse.GetValue(data), parse.UnmatchedTokens)]);
        await using var scope = app.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<AnnexDbContext>().Database.MigrateAsync(ct);
        try
        {
            await action(scope.ServiceProvider.GetRequiredService<Accounts>());
            return 0;
        }
        catch (AccountException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message);
            return 1;
        }
    }
}
