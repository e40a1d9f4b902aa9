using System.Text.Json;
using Annex.Client;
using Annex.Client.Tests;
using Xunit;

namespace Annex.Cli.Tests;

public sealed class ExitCodeAndJsonTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private Task<CliHarness> NewTenantAsync() => CliHarness.ForNewTenantAsync(fixture.Server, fixture.NewFolder());

    [Fact]
    public async Task Formats_as_json_list_every_format_with_exit_code_0()
    {
        var cli = await NewTenantAsync();

        var run = await cli.RunAsync("formats", "--json");

        Assert.True(run.ExitCode == ExitCodes.Done, run.ToString());
        var names = run.Json().EnumerateArray().Select(f => f.GetProperty("name").GetString()).ToList();
        Assert.Contains("avala-json-external", names);
        Assert.Empty(run.Error);
    }

    [Fact]
    public async Task Create_list_get_abort_and_wait_speak_json_and_exit_with_the_outcome()
    {
        // No export worker: exports stay queued until aborted.
        using var apiOnly = new LiveServer(new Dictionary<string, string?> { ["Server:Role"] = "Api" });
        var cli = await CliHarness.ForNewTenantAsync(apiOnly, fixture.NewFolder());
        var dataset = (await cli.RunAsync("datasets", "create", "Highway", "--json")).Json().GetProperty("uid").GetString()!;

        var created = await cli.RunAsync("exports", "create", "--dataset", dataset, "--format", "avala-json-external", "--name", "Nightly", "--json");
        Assert.True(created.ExitCode == ExitCodes.Done, created.ToString());
        var export = created.Json();
        var uid = export.GetProperty("uid").GetString()!;
        Assert.Equal(("Nightly", ExportStatus.Requested), (export.GetProperty("name").GetString(), export.GetProperty("status").GetString()));
        Assert.Equal([dataset], export.GetProperty("datasets").EnumerateArray().Select(d => d.GetString()));

        var listed = await cli.RunAsync("exports", "list", "--json");
        Assert.Equal([uid], listed.Json().EnumerateArray().Select(e => e.GetProperty("uid").GetString()));

        var timedOut = await cli.RunAsync("exports", "wait", uid, "--interval", "0.05", "--timeout", "0.3", "--json");
        Assert.Equal(ExitCodes.Failed, timedOut.ExitCode);
        Assert.Contains("still requested", timedOut.ErrorJson().GetProperty("message").GetString(), StringComparison.Ordinal);

        var aborted = await cli.RunAsync("exports", "abort", uid, "--json");
        Assert.Equal(ExitCodes.Done, aborted.ExitCode);
        Assert.Equal(ExportStatus.Aborted, aborted.Json().GetProperty("status").GetString());

        var waited = await cli.RunAsync("exports", "wait", uid, "--interval", "0.05", "--json");
        Assert.Equal(ExitCodes.Failed, waited.ExitCode);
        Assert.Equal(ExportStatus.Aborted, waited.Json().GetProperty("status").GetString());

        var got = await cli.RunAsync("exports", "get", uid);
        Assert.Equal(ExitCodes.Done, got.ExitCode);
        Assert.Contains("aborted", got.Out, StringComparison.Ordinal);
        Assert.Contains(uid, got.Out, StringComparison.Ordinal);

        // Aborting twice is refused by the server with a 400: a usage error.
        var again = await cli.RunAsync("exports", "abort", uid, "--json");
        Assert.Equal(ExitCodes.Usage, again.ExitCode);
        Assert.Equal(400, again.ErrorJson().GetProperty("status").GetInt32());

        var download = await cli.RunAsync("exports", "download", uid);
        Assert.Equal(ExitCodes.Failed, download.ExitCode);
        Assert.Contains("aborted", download.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_objects_exit_4()
    {
        var cli = await NewTenantAsync();

        var run = await cli.RunAsync("exports", "get", Guid.NewGuid().ToString(), "--json");

        Assert.Equal(ExitCodes.NotFound, run.ExitCode);
        Assert.Equal(404, run.ErrorJson().GetProperty("status").GetInt32());
        Assert.Empty(run.Out);
        Assert.Equal(ExitCodes.NotFound, (await cli.RunAsync("exports", "abort", Guid.NewGuid().ToString())).ExitCode);
        Assert.Equal(ExitCodes.NotFound, (await cli.RunAsync("exports", "create", "--dataset", Guid.NewGuid().ToString(), "--format", "avala-json-external")).ExitCode);
    }

    [Fact]
    public async Task A_wrong_or_missing_key_exits_3()
    {
        var cli = await NewTenantAsync();

        var wrong = await cli.RunAsync("datasets", "list", "--api-key", "not-a-key");
        Assert.Equal(ExitCodes.Auth, wrong.ExitCode);
        Assert.Contains("401", wrong.Error, StringComparison.Ordinal);

        cli.WithVariable(ConnectionSettings.ApiKeyVariable, null);
        var missing = await cli.RunAsync("exports", "list");
        Assert.Equal(ExitCodes.Auth, missing.ExitCode);
        Assert.Contains("AVALA_API_KEY", missing.Error, StringComparison.Ordinal);

        // The option works where the variable is not set.
        var given = await cli.RunAsync("datasets", "list", "--api-key", cli.Key, "--json");
        Assert.Equal(ExitCodes.Done, given.ExitCode);
        Assert.Equal(JsonValueKind.Array, given.Json().ValueKind);
    }

    [Fact]
    public async Task Another_organizations_dataset_exits_3()
    {
        var owner = await NewTenantAsync();
        var other = await NewTenantAsync();
        var dataset = (await owner.RunAsync("datasets", "create", "Private", "--json")).Json().GetProperty("uid").GetString()!;

        var run = await other.RunAsync("exports", "create", "--dataset", dataset, "--format", "avala-json-external");

        Assert.Equal(ExitCodes.Auth, run.ExitCode);
    }

    [Theory]
    [InlineData("exports", "get", "not-a-uid")]
    [InlineData("exports", "create", "--format", "avala-json-external")]
    [InlineData("exports")]
    [InlineData("exports", "list", "--limit", "0")]
    [InlineData("no-such-command")]
    [InlineData("exports", "wait", "00000000-0000-0000-0000-000000000001", "--interval", "-1")]
    public async Task Bad_command_lines_exit_2_without_calling_the_server(params string[] args)
    {
        var cli = await NewTenantAsync();
        cli.WithVariable(ConnectionSettings.ServerVariable, "http://127.0.0.1:1");

        var run = await cli.RunAsync(args);

        Assert.True(run.ExitCode == ExitCodes.Usage, run.ToString());
        Assert.Contains("annex --help", run.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task What_the_server_refuses_exits_2_with_its_field_errors()
    {
        var cli = await NewTenantAsync();
        var dataset = (await cli.RunAsync("datasets", "create", "Highway", "--json")).Json().GetProperty("uid").GetString()!;

        var run = await cli.RunAsync("exports", "create", "--dataset", dataset, "--format", "no-such-format");

        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("format:", run.Error, StringComparison.Ordinal);
        var json = await cli.RunAsync("exports", "create", "--dataset", dataset, "--format", "no-such-format", "--json");
        Assert.True(json.ErrorJson().GetProperty("field_errors").TryGetProperty("format", out _), json.ToString());
    }

    [Fact]
    public async Task An_unreachable_server_exits_1_and_a_bad_address_exits_2()
    {
        var cli = await NewTenantAsync();

        var unreachable = await cli.RunAsync("formats", "--server", "http://127.0.0.1:1");
        Assert.Equal(ExitCodes.Failed, unreachable.ExitCode);
        Assert.Contains("cannot reach the server", unreachable.Error, StringComparison.Ordinal);

        cli.WithVariable(ConnectionSettings.ServerVariable, "ftp://example");
        Assert.Equal(ExitCodes.Usage, (await cli.RunAsync("formats")).ExitCode);
    }

    [Fact]
    public async Task Help_shows_examples_and_exits_0()
    {
        var cli = await NewTenantAsync();

        var root = await cli.RunAsync("--help");
        var wait = await cli.RunAsync("exports", "wait", "--help");

        Assert.Equal((0, 0), (root.ExitCode, wait.ExitCode));
        Assert.Contains("Exit codes: 0 done", root.Out, StringComparison.Ordinal);
        Assert.Contains("annex export --dataset", root.Out, StringComparison.Ordinal);
        Assert.Contains("Examples:\n  annex exports wait <uid>", wait.Out.ReplaceLineEndings("\n"), StringComparison.Ordinal);
    }
}
