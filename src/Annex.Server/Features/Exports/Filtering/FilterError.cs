namespace Annex.Server.Features.Exports.Filtering;

/// <summary>Why a filter was rejected. <see cref="Message"/> is the full user-facing text and already
/// names the position; <see cref="Position"/> is the 1-based character offset, for clients that point at it.</summary>
public sealed record FilterError(int Position, string Message);
