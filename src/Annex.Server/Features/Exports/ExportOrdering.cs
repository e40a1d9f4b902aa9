using Annex.Server.Infrastructure.Http;

namespace Annex.Server.Features.Exports;

/// <summary>A position in the export list: the sort value, created_at and uid of the row it is next to.
/// <see cref="Reverse"/> marks a cursor that pages backwards (a <c>previous</c> link).</summary>
public sealed record ExportCursor(string Ordering, string? Value, DateTime CreatedAt, Guid Uid, bool Reverse);

/// <summary>The orderings the export list supports. Every ordering is a keyset: the field, then
/// created_at, then uid, all in the same direction, so pages stay stable while exports are created.</summary>
public sealed class ExportOrdering
{
    public const string CreatedAt = "created_at";
    public const string Name = "name";
    public const string Status = "status";
    private static readonly string[] Allowed = ["created_at", "-created_at", "name", "-name", "status", "-status"];

    private ExportOrdering(string text)
    {
        Text = text;
        Descending = text.StartsWith('-');
        Field = text.TrimStart('-');
    }

    public string Text { get; }

    public string Field { get; }

    public bool Descending { get; }

    /// <summary>Reads <c>ordering</c>; newest first when absent.</summary>
    public static ExportOrdering? Parse(string? text, ValidationErrors errors)
    {
        text = string.IsNullOrWhiteSpace(text) ? "-created_at" : text.Trim();
        if (Allowed.Contains(text, StringComparer.Ordinal))
        {
            return new ExportOrdering(text);
        }

        errors.Add("ordering", $"Invalid ordering field \"{text}\". Allowed values: {string.Join(", ", Allowed)}.");
        return null;
    }

    public ExportCursor CursorAt(Export row, bool reverse) => new(Text, Field switch
    {
        Name => row.Name,
        Status => row.Status,
        _ => null,
    }, row.CreatedAt, row.Uid, reverse);

    /// <summary>Orders in list direction (forward) or against it (for a previous page).</summary>
    public IQueryable<Export> Sort(IQueryable<Export> query, bool forward)
    {
        var ascending = forward != Descending;
        return (Field, ascending) switch
        {
            (Name, true) => query.OrderBy(e => e.Name).ThenBy(e => e.CreatedAt).ThenBy(e => e.Uid),
            (Name, false) => query.OrderByDescending(e => e.Name).ThenByDescending(e => e.CreatedAt).ThenByDescending(e => e.Uid),
            (Status, true) => query.OrderBy(e => e.Status).ThenBy(e => e.CreatedAt).ThenBy(e => e.Uid),
            (Status, false) => query.OrderByDescending(e => e.Status).ThenByDescending(e => e.CreatedAt).ThenByDescending(e => e.Uid),
            (_, true) => query.OrderBy(e => e.CreatedAt).ThenBy(e => e.Uid),
            (_, false) => query.OrderByDescending(e => e.CreatedAt).ThenByDescending(e => e.Uid),
        };
    }

    /// <summary>Rows strictly beyond the cursor, in list direction (forward) or against it.</summary>
    public IQueryable<Export> Beyond(IQueryable<Export> query, ExportCursor cursor, bool forward)
    {
        var greater = forward != Descending;
        var v = cursor.Value ?? string.Empty;
        var c = cursor.CreatedAt;
        var u = cursor.Uid;
        // The first condition of each says nothing the second does not, but it is a range on the index's sort
        // column, so the database seeks to the cursor instead of walking every row before it.
        return (Field, greater) switch
        {
            (Name, true) => query.Where(e => string.Compare(e.Name, v) >= 0)
                .Where(e => string.Compare(e.Name, v) > 0 || (e.Name == v && (e.CreatedAt > c || (e.CreatedAt == c && e.Uid > u)))),
            (Name, false) => query.Where(e => string.Compare(e.Name, v) <= 0)
                .Where(e => string.Compare(e.Name, v) < 0 || (e.Name == v && (e.CreatedAt < c || (e.CreatedAt == c && e.Uid < u)))),
            (Status, true) => query.Where(e => string.Compare(e.Status, v) >= 0)
                .Where(e => string.Compare(e.Status, v) > 0 || (e.Status == v && (e.CreatedAt > c || (e.CreatedAt == c && e.Uid > u)))),
            (Status, false) => query.Where(e => string.Compare(e.Status, v) <= 0)
                .Where(e => string.Compare(e.Status, v) < 0 || (e.Status == v && (e.CreatedAt < c || (e.CreatedAt == c && e.Uid < u)))),
            (_, true) => query.Where(e => e.CreatedAt >= c).Where(e => e.CreatedAt > c || (e.CreatedAt == c && e.Uid > u)),
            (_, false) => query.Where(e => e.CreatedAt <= c).Where(e => e.CreatedAt < c || (e.CreatedAt == c && e.Uid < u)),
        };
    }
}
