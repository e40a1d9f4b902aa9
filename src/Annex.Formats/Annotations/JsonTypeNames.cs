using System.Text.Json;

namespace Annex.Formats;

public static class JsonTypeNames
{
    /// <summary>The Python type name of a JSON value, as Django REST Framework's messages use it
    /// ("Expected a list of items but got type \"str\".").</summary>
    public static string Python(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "dict",
        JsonValueKind.Array => "list",
        JsonValueKind.String => "str",
        JsonValueKind.Number => value.TryGetInt64(out _) ? "int" : "float",
        JsonValueKind.True or JsonValueKind.False => "bool",
        _ => "NoneType",
    };
}
