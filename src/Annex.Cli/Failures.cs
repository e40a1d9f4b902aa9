using Annex.Client;
using Annex.Formats.Import;

namespace Annex.Cli;

/// <summary>A failure as the command reports it (and, with <c>--json</c>, writes it to standard error).</summary>
public sealed record Failure(int ExitCode, string Message, int? Status, IReadOnlyDictionary<string, IReadOnlyList<string>> FieldErrors);

public static class Failures
{
    private static readonly Dictionary<string, IReadOnlyList<string>> NoFields = [];

    /// <summary>The exit code and message for <paramref name="error"/>, or null for an exception the command does
    /// not expect (which then surfaces as a crash with its stack trace).</summary>
    public static Failure? Describe(Exception error) => error switch
    {
        CliException e => new Failure(e.ExitCode, e.Message, null, NoFields),
        AnnexValidationException e => Api(ExitCodes.Usage, e),
        AnnexAuthenticationException or AnnexPermissionException => Api(ExitCodes.Auth, (AnnexApiException)error),
        AnnexNotFoundException e => Api(ExitCodes.NotFound, e),
        AnnexApiException e => Api(ExitCodes.Failed, e),
        AnnexDownloadException e => new Failure(ExitCodes.Failed, e.Message, null, NoFields),
        ImportException e => new Failure(ExitCodes.Failed, $"cannot import: {e.Message}", null, NoFields),
        HttpRequestException e => new Failure(ExitCodes.Failed, $"cannot reach the server: {e.Message}", null, NoFields),
        TimeoutException e => new Failure(ExitCodes.Failed, e.Message, null, NoFields),
        OperationCanceledException => new Failure(ExitCodes.Failed, "cancelled", null, NoFields),
        _ => null,
    };

    private static Failure Api(int exitCode, AnnexApiException e) => new(exitCode, e.Message, (int)e.StatusCode, e.FieldErrors);
}
