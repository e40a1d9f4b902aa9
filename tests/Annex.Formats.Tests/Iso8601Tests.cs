using Xunit;

namespace Annex.Formats.Tests;

public class Iso8601Tests
{
    public static TheoryData<DateTime, string> Cases() => new()
    {
        { new DateTime(2025, 1, 21, 10, 0, 0, DateTimeKind.Utc), "2025-01-21T10:00:00Z" },
        { new DateTime(2025, 1, 21, 10, 0, 0, 500, DateTimeKind.Utc), "2025-01-21T10:00:00.5Z" },
        { new DateTime(2025, 1, 21, 10, 0, 0, 120, DateTimeKind.Utc), "2025-01-21T10:00:00.12Z" },
        { new DateTime(2025, 12, 31, 23, 59, 59, 999, 999, DateTimeKind.Utc), "2025-12-31T23:59:59.999999Z" },
        { new DateTime(2025, 1, 21, 10, 0, 0, 0, 10, DateTimeKind.Utc), "2025-01-21T10:00:00.00001Z" },
        { new DateTime(2025, 1, 21, 10, 0, 0, DateTimeKind.Utc).AddTicks(1), "2025-01-21T10:00:00Z" },
        { new DateTime(2025, 1, 21, 10, 0, 0, DateTimeKind.Utc).AddTicks(1_234_567), "2025-01-21T10:00:00.123456Z" },
        { DateTime.UnixEpoch, "1970-01-01T00:00:00Z" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Formats(DateTime utc, string expected) => Assert.Equal(expected, Iso8601.Format(utc));

    [Theory]
    [InlineData(DateTimeKind.Local)]
    [InlineData(DateTimeKind.Unspecified)]
    public void RejectsNonUtc(DateTimeKind kind) =>
        Assert.Throws<ArgumentException>(() => Iso8601.Format(new DateTime(2025, 1, 1, 0, 0, 0, kind)));
}
