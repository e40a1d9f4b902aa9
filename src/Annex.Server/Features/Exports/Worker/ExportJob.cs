namespace Annex.Server.Features.Exports;

/// <summary>The settings of the export being written.</summary>
public sealed record ExportJob(long ExportId, Guid ExportUid, string Name, string Format, DateTime CreatedAt, string? FilterQueryString)
{
    public static ExportJob From(Export export) =>
        new(export.Id, export.Uid, export.Name, export.Format, export.CreatedAt, export.FilterQueryString);
}
