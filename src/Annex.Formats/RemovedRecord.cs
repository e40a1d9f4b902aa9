using System.Text;
using System.Text.Json;

namespace Annex.Formats;

/// <summary>The part of a delta export that says what its base had and it no longer has: the uids of removed items
/// and of removed results (tasks). Applying a delta: drop these, then replace or add every item it holds with its
/// results.</summary>
public sealed record RemovedRecord(IReadOnlyList<Guid> Items, IReadOnlyList<Guid> Results)
{
    /// <summary>The entry training formats write it to, at the root of the archive.</summary>
    public const string EntryName = "removed.json";

    public void Write(Utf8JsonWriter json)
    {
        ArgumentNullException.ThrowIfNull(json);
        json.WriteStartObject();
        json.WriteStartArray("items");
        foreach (var uid in Items)
        {
            json.WriteStringValue(uid);
        }

        json.WriteEndArray();
        json.WriteStartArray("results");
        foreach (var uid in Results)
        {
            json.WriteStringValue(uid);
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            Write(json);
        }

        return Encoding.UTF8.GetString(buffer.ToArray()) + "\n";
    }
}
