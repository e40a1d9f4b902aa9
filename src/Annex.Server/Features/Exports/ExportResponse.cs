using System.Text.Json;
using System.Text.Json.Serialization;

namespace Annex.Server.Features.Exports;

public sealed record OrganizationRef(Guid Uid, string Name, string Slug);

/// <summary>The export resource: Avala's twelve fields, then updated_at, filter_query_string, error and expires_at.
/// versions, since_version and since_export appear only on an export that uses them, so an export made with
/// Avala's body has exactly the documented shape.</summary>
public sealed record ExportResponse(
    Guid Uid,
    string Name,
    string Format,
    string Status,
    long? TotalTaskCount,
    long? ExportedTaskCount,
    string? DownloadUrl,
    IReadOnlyList<Guid> Datasets,
    IReadOnlyList<Guid> Slices,
    IReadOnlyList<Guid> Projects,
    OrganizationRef? Organization,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    string? FilterQueryString,
    string? Error,
    DateTime? ExpiresAt,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<Guid>? Versions,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? SinceVersion,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] Guid? SinceExport)
{
    public static ExportResponse From(Export export, OrganizationRef organization, Func<Export, string> downloadUrl) => new(
        export.Uid,
        export.Name,
        export.Format,
        export.Status,
        export.TotalTaskCount,
        export.ExportedTaskCount,
        export.Status == ExportStatus.Exported ? downloadUrl(export) : null,
        UidList.Parse(export.Datasets),
        UidList.Parse(export.Slices),
        UidList.Parse(export.Projects),
        organization,
        export.CreatedAt,
        export.UpdatedAt,
        export.FilterQueryString,
        export.Error,
        export.ExpiresAt,
        UidList.Parse(export.Versions) is { Count: > 0 } versions ? versions : null,
        export.SinceVersion,
        export.SinceExport);
}

/// <summary>Uid lists as stored on an export row.</summary>
public static class UidList
{
    public static string Serialize(IEnumerable<Guid> uids) => JsonSerializer.Serialize(uids.Select(u => u.ToString("D")));

    /// <summary>The empty list, which most rows hold in most of these columns, is answered without the parser.</summary>
    public static List<Guid> Parse(string json) => json == "[]" ? [] : [.. JsonSerializer.Deserialize<List<Guid>>(json) ?? []];
}
