namespace Annex.Server.Infrastructure;

public static class Clock
{
    /// <summary>UTC now, truncated to microseconds: the precision every supported database keeps, so
    /// values read back (and cursors built from them) compare equal to what was written.</summary>
    public static DateTime UtcNow(TimeProvider time)
    {
        var now = time.GetUtcNow().UtcDateTime;
        return new DateTime(now.Ticks - (now.Ticks % 10), DateTimeKind.Utc);
    }
}
