namespace Annex.Server.Features.Exports;

/// <summary>What a format needs to write one export: the row's settings and the resolved scope.</summary>
public sealed record ExportJob(
    long ExportId,
    Guid ExportUid,
    string Name,
    string Format,
    DateTime CreatedAt,
    string? FilterQueryString,
    ExportScope Scope);
