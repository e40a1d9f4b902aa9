namespace Annex.Server.Infrastructure.Data;

/// <summary>Rows with a database-assigned id, which lists use as their keyset.</summary>
public interface IHasId
{
    long Id { get; }
}
