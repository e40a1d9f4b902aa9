using Microsoft.Extensions.Options;

namespace Annex.Server.Infrastructure.Storage;

/// <summary>Checks the storage settings at start-up; every message names the setting that is wrong.</summary>
public sealed class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        var errors = new List<string>();
        if (string.IsNullOrWhiteSpace(options.DataPath))
        {
            errors.Add("Storage:DataPath must name a folder.");
        }

        if (!options.IsS3 && !string.Equals(options.Provider, StorageProviders.Local, StringComparison.OrdinalIgnoreCase))
        {
            errors.Add($"Storage:Provider must be Local or S3 (got '{options.Provider}').");
        }

        if (options.IsS3)
        {
            ValidateS3(options.S3, errors);
        }

        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    private static void ValidateS3(S3StorageOptions s3, List<string> errors)
    {
        if (string.IsNullOrWhiteSpace(s3.Bucket))
        {
            errors.Add("Storage:S3:Bucket is required when Storage:Provider is S3.");
        }

        if (!string.IsNullOrWhiteSpace(s3.ServiceUrl)
            && !(Uri.TryCreate(s3.ServiceUrl, UriKind.Absolute, out var url) && (url.Scheme == Uri.UriSchemeHttp || url.Scheme == Uri.UriSchemeHttps)))
        {
            errors.Add($"Storage:S3:ServiceUrl must be an absolute http:// or https:// URL (got '{s3.ServiceUrl}').");
        }

        if (string.IsNullOrWhiteSpace(s3.Region))
        {
            errors.Add("Storage:S3:Region is required (e.g. us-east-1; any name for stores that ignore it).");
        }

        if (string.IsNullOrWhiteSpace(s3.AccessKey) != string.IsNullOrWhiteSpace(s3.SecretKey))
        {
            errors.Add("Storage:S3:AccessKey and Storage:S3:SecretKey must be set together (or both left empty for the standard AWS credential sources).");
        }

        if (s3.PartSize < S3StorageOptions.MinPartSize || s3.PartSize > S3StorageOptions.MaxPartSize)
        {
            errors.Add($"Storage:S3:PartSize must be between {S3StorageOptions.MinPartSize} (5 MiB) and {S3StorageOptions.MaxPartSize} (5 GiB) bytes.");
        }

        if (s3.Prefix is { Length: > 0 } prefix && (prefix.StartsWith('/') || prefix.Contains("..", StringComparison.Ordinal)))
        {
            errors.Add("Storage:S3:Prefix must not start with '/' or contain '..'.");
        }

        if (s3.AbandonedUploadAge <= TimeSpan.Zero)
        {
            errors.Add("Storage:S3:AbandonedUploadAge must be positive.");
        }

        if (s3.SweepInterval <= TimeSpan.Zero)
        {
            errors.Add("Storage:S3:SweepInterval must be positive.");
        }
    }
}
