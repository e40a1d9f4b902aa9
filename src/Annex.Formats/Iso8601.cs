using System.Globalization;

namespace Annex.Formats;

/// <summary>The single timestamp format used in exports and API responses.</summary>
public static class Iso8601
{
    private const long TicksPerMicrosecond = TimeSpan.TicksPerMillisecond / 1000;

    /// <summary>
    /// Formats a UTC time as "yyyy-MM-ddTHH:mm:ssZ", adding up to six fractional digits (trailing zeros removed)
    /// only when there is a sub-second part. Sub-microsecond ticks are truncated.
    /// </summary>
    public static string Format(DateTime utc)
    {
        if (utc.Kind != DateTimeKind.Utc)
        {
            throw new ArgumentException($"Expected a UTC timestamp but got DateTimeKind.{utc.Kind}.", nameof(utc));
        }

        var seconds = utc.ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss", CultureInfo.InvariantCulture);
        var microseconds = utc.Ticks % TimeSpan.TicksPerSecond / TicksPerMicrosecond;
        if (microseconds == 0)
        {
            return seconds + "Z";
        }

        var fraction = microseconds.ToString("D6", CultureInfo.InvariantCulture).TrimEnd('0');
        return $"{seconds}.{fraction}Z";
    }
}
