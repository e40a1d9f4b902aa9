namespace Annex.Formats;

/// <summary>A validation failure for one field; <see cref="Path"/> is dot-separated, e.g. "coordinates.vertices.2", and empty for the whole value.</summary>
public sealed record FieldError(string Path, string Message);
