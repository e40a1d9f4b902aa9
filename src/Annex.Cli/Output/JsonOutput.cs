using System.Text.Json;
using System.Text.Json.Serialization;

namespace Annex.Cli.Output;

/// <summary>The <c>--json</c> form of every answer: the API's own snake_case field names, indented.</summary>
public static class JsonOutput
{
    public static readonly JsonSerializerOptions Options = new(JsonSerializerDefaults.Web)
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    public static string Serialize(object value) => JsonSerializer.Serialize(value, value.GetType(), Options);

    public static void Write(TextWriter writer, object value)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteLine(Serialize(value));
        writer.Flush();
    }
}
