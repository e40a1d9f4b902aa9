using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;

namespace Annex.Client;

/// <summary>A snapshot of a running export, reported while waiting for it.</summary>
/// <param name="Export">The export as last read.</param>
/// <param name="Elapsed">Time since the wait began.</param>
public sealed record ExportProgress(Export Export, TimeSpan Elapsed)
{
    /// <summary>The export's status.</summary>
    public string Status => Export.Status;

    /// <summary>Tasks written so far (0 until the server says).</summary>
    public long ExportedTasks => Export.ExportedTaskCount ?? 0;

    /// <summary>Tasks in all, once the server knows.</summary>
    public long? TotalTasks => Export.TotalTaskCount;
}

/// <summary>Bytes of an archive received so far.</summary>
/// <param name="BytesReceived">Bytes on disk, including those of earlier, interrupted attempts.</param>
/// <param name="TotalBytes">The archive's size, once the server announced it.</param>
/// <param name="Attempt">1 for the first request, 2 after the first resume, and so on.</param>
public sealed record DownloadProgress(long BytesReceived, long? TotalBytes, int Attempt);

/// <summary>A finished download.</summary>
/// <param name="Path">The file written.</param>
/// <param name="Bytes">Its size, equal to the size the server announced.</param>
/// <param name="Resumes">How many times the download was resumed with a <c>Range</c> request after being cut.</param>
public sealed record DownloadResult(string Path, long Bytes, int Resumes);

public sealed partial class AnnexClient
{
    /// <summary>The longest pause between two polls of a queued export, as a multiple of the interval.</summary>
    private const int MaxQueuedBackoff = 6;

    /// <summary>The organization's exports, newest first unless <paramref name="ordering"/> says otherwise
    /// (<c>created_at</c>, <c>name</c> or <c>status</c>, prefixed with <c>-</c> to reverse). Pages are fetched as the sequence is read.</summary>
    public IAsyncEnumerable<Export> ListExportsAsync(string? ordering = null, CancellationToken cancellationToken = default) =>
        ListAsync<Export>(Url("exports/", ("ordering", ordering), ("limit", Limit())), cancellationToken);

    /// <summary>One export; <see cref="AnnexNotFoundException"/> when it does not exist.</summary>
    public Task<Export> GetExportAsync(Guid uid, CancellationToken cancellationToken = default) =>
        GetAsync<Export>(Url($"exports/{Segment(uid)}/"), cancellationToken);

    /// <summary>Creates (queues) an export. A wrong format or filter is an <see cref="AnnexValidationException"/>.</summary>
    public Task<Export> CreateExportAsync(CreateExportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PostAsync<Export>(Url("exports/"), request, cancellationToken);
    }

    /// <summary>How many items and tasks an export of <paramref name="request"/> would hold, in all and per source,
    /// without creating it. The server checks the request as a create would: a wrong format or filter is an
    /// <see cref="AnnexValidationException"/>.</summary>
    public Task<ExportPreview> PreviewExportAsync(CreateExportRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        return PostAsync<ExportPreview>(Url("exports/preview/"), request, cancellationToken);
    }

    /// <summary>Stops a requested or exporting export; it leaves no archive. An export that already finished
    /// is an <see cref="AnnexValidationException"/>.</summary>
    public Task<Export> AbortExportAsync(Guid uid, CancellationToken cancellationToken = default) =>
        PostAsync<Export>(Url($"exports/{Segment(uid)}/abort/"), null, cancellationToken);

    /// <summary>The export formats the server supports.</summary>
    /// <remarks>Asks <c>/exports/formats/</c> (names, descriptions and annotation types) and falls back to
    /// <c>/formats/</c> (names only) on servers without it.</remarks>
    public async Task<IReadOnlyList<ExportFormat>> ListFormatsAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            return await GetAsync<List<ExportFormat>>(Url("exports/formats/"), cancellationToken).ConfigureAwait(false);
        }
        catch (AnnexNotFoundException)
        {
            return await GetAsync<List<ExportFormat>>(Url("formats/"), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Polls an export until it is exported, failed or aborted, and returns it in that state.</summary>
    /// <param name="uid">The export.</param>
    /// <param name="interval">Pause between polls while it runs; 5 s when null, as the API documentation recommends.
    /// While the export is still queued the pause grows (up to six times the interval).</param>
    /// <param name="timeout">Give up after this long with a <see cref="TimeoutException"/>; null waits without limit.</param>
    /// <param name="progress">Told of every poll.</param>
    /// <param name="cancellationToken">Stops waiting (the export itself goes on).</param>
    /// <returns>The export in its final state; check <see cref="Export.Status"/> for failed or aborted.</returns>
    public async Task<Export> WaitForExportAsync(
        Guid uid,
        TimeSpan? interval = null,
        TimeSpan? timeout = null,
        IProgress<ExportProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        var every = interval ?? TimeSpan.FromSeconds(5);
        if (every <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(interval), "The interval must be positive.");
        }

        var clock = Stopwatch.StartNew();
        var pause = every;
        while (true)
        {
            var export = await GetExportAsync(uid, cancellationToken).ConfigureAwait(false);
            progress?.Report(new ExportProgress(export, clock.Elapsed));
            if (ExportStatus.IsFinal(export.Status))
            {
                return export;
            }

            // A queued export may wait behind others for a while; asking less often costs nothing.
            pause = export.Status == ExportStatus.Requested
                ? TimeSpan.FromTicks(Math.Min((long)(pause.Ticks * 1.5), every.Ticks * MaxQueuedBackoff))
                : every;
            if (timeout is { } limit)
            {
                var left = limit - clock.Elapsed;
                if (left <= TimeSpan.Zero)
                {
                    throw new TimeoutException($"Export {uid} is still {export.Status} after {limit}.");
                }

                if (pause > left)
                {
                    pause = left;
                }
            }

            await Task.Delay(pause, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Downloads an exported archive to <paramref name="destination"/>. A connection cut midway is
    /// resumed with an HTTP <c>Range</c> request (with a fresh signed link), and the file's size is checked
    /// against the size the server announced before it is put in place.</summary>
    /// <param name="uid">An export whose status is <c>exported</c>.</param>
    /// <param name="destination">The file to write; bytes arrive in <c>destination.part</c> first, so an
    /// interrupted run can be resumed by calling again.</param>
    /// <param name="progress">Told as bytes arrive.</param>
    /// <param name="cancellationToken">Stops the download, keeping the partial file.</param>
    /// <exception cref="InvalidOperationException">The export has no archive (it is not exported).</exception>
    /// <exception cref="AnnexDownloadException">The size never matched after every attempt.</exception>
    public async Task<DownloadResult> DownloadExportAsync(Guid uid, string destination, IProgress<DownloadProgress>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(destination);
        var partial = destination + ".part";
        long? total = null;
        var resumes = 0;
        Exception? lastError = null;
        for (var attempt = 1; attempt <= Options.MaxDownloadAttempts; attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250 * attempt), cancellationToken).ConfigureAwait(false);
            }

            var export = await GetExportAsync(uid, cancellationToken).ConfigureAwait(false);
            if (export.Status != ExportStatus.Exported || string.IsNullOrEmpty(export.DownloadUrl))
            {
                throw new InvalidOperationException($"Export {uid} is {export.Status}; only an exported export has an archive to download.");
            }

            var have = File.Exists(partial) ? new FileInfo(partial).Length : 0;
            try
            {
                var outcome = await DownloadOnceAsync(new Uri(ApiBase, export.DownloadUrl), partial, have, attempt, progress, cancellationToken).ConfigureAwait(false);
                total = outcome.Total ?? total;
                if (outcome.Resumed)
                {
                    resumes++;
                }

                var length = new FileInfo(partial).Length;
                if (total is null || length == total)
                {
                    File.Move(partial, destination, overwrite: true);
                    return new DownloadResult(destination, length, resumes);
                }

                lastError = new AnnexDownloadException($"Received {length} of {total} bytes.");
            }
            catch (AnnexApiException ex) when (ex.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable)
            {
                // The partial file is longer than the archive (a different archive, say): start over.
                File.Delete(partial);
                lastError = ex;
            }
            catch (Exception ex) when (ex is HttpRequestException or IOException && !cancellationToken.IsCancellationRequested)
            {
                lastError = ex;
            }
        }

        throw new AnnexDownloadException($"The archive of export {uid} could not be downloaded whole in {Options.MaxDownloadAttempts} attempts.", lastError!);
    }

    private async Task<(long? Total, bool Resumed)> DownloadOnceAsync(Uri url, string partial, long have, int attempt, IProgress<DownloadProgress>? progress, CancellationToken ct)
    {
        using var response = await SendAsync(
            () =>
            {
                var request = new HttpRequestMessage(HttpMethod.Get, url);
                if (have > 0)
                {
                    request.Headers.Range = new RangeHeaderValue(have, null);
                }

                return request;
            },
            HttpCompletionOption.ResponseHeadersRead,
            ct).ConfigureAwait(false);

        long offset;
        long? total;
        if (response.StatusCode == HttpStatusCode.PartialContent && response.Content.Headers.ContentRange is { From: { } from } range)
        {
            offset = from;
            total = range.Length;
            if (offset != have)
            {
                throw new IOException($"Asked for bytes from {have} but the server sent them from {offset}.");
            }
        }
        else
        {
            // A server that ignores Range sends the whole archive again.
            offset = 0;
            total = response.Content.Headers.ContentLength;
        }

        await using var file = new FileStream(partial, FileMode.OpenOrCreate, FileAccess.Write, FileShare.None, 1 << 16, useAsync: true);
        file.SetLength(offset);
        file.Position = offset;
        await using var body = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = new byte[1 << 16];
        var received = offset;
        var lastReport = Stopwatch.StartNew();
        progress?.Report(new DownloadProgress(received, total, attempt));
        int read;
        while ((read = await body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            await file.WriteAsync(buffer.AsMemory(0, read), ct).ConfigureAwait(false);
            received += read;
            if (lastReport.ElapsedMilliseconds >= 100)
            {
                progress?.Report(new DownloadProgress(received, total, attempt));
                lastReport.Restart();
            }
        }

        await file.FlushAsync(ct).ConfigureAwait(false);
        progress?.Report(new DownloadProgress(received, total, attempt));
        return (total, offset > 0);
    }
}
