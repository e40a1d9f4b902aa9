using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Annex.Bench;

/// <summary>Distribution of a set of latencies in milliseconds (nearest-rank percentiles).</summary>
public sealed record LatencyStats(int Count, double Min, double P50, double P90, double P99, double Max)
{
    public static LatencyStats From(IEnumerable<double> milliseconds)
    {
        var sorted = milliseconds.Order().ToArray();
        if (sorted.Length == 0)
        {
            return new LatencyStats(0, double.NaN, double.NaN, double.NaN, double.NaN, double.NaN);
        }

        double Rank(double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
        return new LatencyStats(sorted.Length, sorted[0], Rank(0.50), Rank(0.90), Rank(0.99), sorted[^1]);
    }
}

/// <summary>Plain Markdown tables: the first column left-aligned, the others right-aligned.</summary>
public static class MarkdownTable
{
    public static string Render(IReadOnlyList<string> header, IReadOnlyList<IReadOnlyList<string>> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Count == 0 ? 0 : rows.Max(r => r[i].Length))).ToArray();
        var text = new StringBuilder();
        void Line(IReadOnlyList<string> values)
        {
            text.Append('|');
            for (var i = 0; i < values.Count; i++)
            {
                text.Append(' ').Append(i == 0 ? values[i].PadRight(widths[i]) : values[i].PadLeft(widths[i])).Append(" |");
            }

            text.AppendLine();
        }

        Line(header);
        text.Append('|');
        for (var i = 0; i < widths.Length; i++)
        {
            text.Append(i == 0 ? ":" + new string('-', widths[i] + 1) : new string('-', widths[i] + 1) + ":").Append('|');
        }

        text.AppendLine();
        foreach (var row in rows)
        {
            Line(row);
        }

        return text.ToString();
    }

    public static string Ms(double value) => double.IsNaN(value) ? "-" : value.ToString("F1", CultureInfo.InvariantCulture);

    public static string N(long value) => value.ToString("N0", CultureInfo.InvariantCulture);

    public static string JsonLine(object value) => JsonSerializer.Serialize(value) + "\n";

    public static double Round(double value) => double.IsNaN(value) ? 0 : Math.Round(value, 2);
}
