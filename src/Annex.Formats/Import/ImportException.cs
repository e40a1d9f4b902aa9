using System.Globalization;

namespace Annex.Formats.Import;

/// <summary>Malformed import input. The message reads like a compiler's: <c>labels/train/a.txt:3: expected 5 values, found 4</c>.</summary>
public sealed class ImportException : Exception
{
    public ImportException(string file, int? line, string reason)
        : base(Describe(file, line, reason))
    {
        File = file;
        Line = line;
        Reason = reason;
    }

    public ImportException(string file, int? line, string reason, Exception innerException)
        : base(Describe(file, line, reason), innerException)
    {
        File = file;
        Line = line;
        Reason = reason;
    }

    /// <summary>The file at fault, relative to the import root where there is one.</summary>
    public string File { get; }

    /// <summary>The 1-based line, when known.</summary>
    public int? Line { get; }

    public string Reason { get; }

    internal static string Describe(string file, int? line, string reason) => line is { } number
        ? string.Create(CultureInfo.InvariantCulture, $"{file}:{number}: {reason}")
        : $"{file}: {reason}";
}
