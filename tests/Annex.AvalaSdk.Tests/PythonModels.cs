using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Annex.AvalaSdk.Tests;

/// <summary>One field of a pydantic model as the Python SDK declares it: <c>name: annotation [= default]</c>.</summary>
public sealed record PythonField(string Name, string Annotation, bool HasDefault)
{
    /// <summary>Whether the model accepts <c>null</c> here (<c>Optional[...]</c>, <c>... | None</c>).</summary>
    public bool Nullable => PythonModels.Unwrap(Annotation).Nullable;

    /// <summary>Pydantic refuses a response without this field: no default and not Optional.</summary>
    public bool Required => !HasDefault && !Nullable;
}

/// <summary>Reads the Python SDK's models (<c>avala/types/*.py</c>) well enough to know which fields a response
/// must carry and what JSON each field's annotation accepts. Only the declarations are read; nothing is run.</summary>
public static partial class PythonModels
{
    [GeneratedRegex(@"^class (\w+)\(([\w., ]*)\):")]
    private static partial Regex ClassLine();

    [GeneratedRegex(@"^    (\w+)\s*:\s*(.+?)(?:\s*=\s*(.+))?\s*$")]
    private static partial Regex FieldLine();

    /// <summary>The models of every file in the folder, by class name, fields in declaration order (a model's
    /// fields follow those of a model it derives from).</summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<PythonField>> ReadFolder(string folder)
    {
        var declared = new Dictionary<string, (string Base, List<PythonField> Fields)>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(folder, "*.py").Order(StringComparer.Ordinal))
        {
            foreach (var (name, baseName, fields) in Parse(File.ReadAllText(file)))
            {
                declared[name] = (baseName, fields);
            }
        }

        List<PythonField> Resolve(string name) =>
            declared[name].Base is var b && declared.ContainsKey(b) ? [.. Resolve(b).Where(f => declared[name].Fields.All(o => o.Name != f.Name)), .. declared[name].Fields] : declared[name].Fields;

        return declared.Keys.ToDictionary(n => n, n => (IReadOnlyList<PythonField>)Resolve(n), StringComparer.Ordinal);
    }

    /// <summary>The classes of one module: name, first base class and the fields declared in its body.</summary>
    public static IEnumerable<(string Name, string Base, List<PythonField> Fields)> Parse(string source)
    {
        (string Name, string Base, List<PythonField> Fields)? current = null;
        var inDocstring = false;
        foreach (var raw in source.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var trimmed = line.Trim();
            if (inDocstring)
            {
                inDocstring = !trimmed.Contains("\"\"\"", StringComparison.Ordinal);
                continue;
            }

            if (trimmed.StartsWith("\"\"\"", StringComparison.Ordinal))
            {
                inDocstring = trimmed.Length < 6 || !trimmed[3..].Contains("\"\"\"", StringComparison.Ordinal);
                continue;
            }

            if (line.Length > 0 && !char.IsWhiteSpace(line[0]) && !trimmed.StartsWith('#'))
            {
                if (current is { } done)
                {
                    yield return done;
                }

                var match = ClassLine().Match(line);
                current = match.Success ? (match.Groups[1].Value, match.Groups[2].Value.Split(',')[0].Trim(), []) : null;
                continue;
            }

            if (current is { } model && FieldLine().Match(line) is { Success: true } field && !field.Groups[2].Value.StartsWith("ClassVar", StringComparison.Ordinal))
            {
                var defaultText = field.Groups[3].Success ? field.Groups[3].Value : null;
                // Field(...) with the Ellipsis as its default is pydantic's spelling of "required".
                var hasDefault = defaultText is not null && !(defaultText.StartsWith("Field(", StringComparison.Ordinal) && !defaultText.Contains("default", StringComparison.Ordinal));
                model.Fields.Add(new PythonField(field.Groups[1].Value, field.Groups[2].Value, hasDefault));
            }
        }

        if (current is { } last)
        {
            yield return last;
        }
    }

    /// <summary>The annotation without its <c>Optional[...]</c> or <c>| None</c>, and whether it had one.</summary>
    public static (string Type, bool Nullable) Unwrap(string annotation)
    {
        var text = annotation.Trim();
        if (text.StartsWith("Optional[", StringComparison.Ordinal) && text.EndsWith(']'))
        {
            return (Unwrap(text["Optional[".Length..^1]).Type, true);
        }

        var parts = SplitTop(text, '|');
        if (parts.Count > 1 && parts.Any(p => p == "None"))
        {
            return (string.Join(" | ", parts.Where(p => p != "None")), true);
        }

        return (text, false);
    }

    /// <summary>Why <paramref name="value"/> does not fit the annotation, or null when it does.</summary>
    public static string? Mismatch(string annotation, JsonNode? value, IReadOnlyDictionary<string, IReadOnlyList<PythonField>> models)
    {
        var (type, nullable) = Unwrap(annotation);
        if (value is null)
        {
            return nullable || type is "Any" ? null : $"null, but {annotation} does not allow null";
        }

        var union = SplitTop(type, '|');
        if (union.Count > 1)
        {
            return union.Any(t => Mismatch(t, value, models) is null) ? null : $"{value.ToJsonString()} is none of {type}";
        }

        if (type.StartsWith("Union[", StringComparison.Ordinal) && type.EndsWith(']'))
        {
            var options = SplitTop(type["Union[".Length..^1], ',');
            return options.Any(t => Mismatch(t, value, models) is null) ? null : $"{value.ToJsonString()} is none of {type}";
        }

        var kind = value.GetValueKind();
        var (head, arguments) = Generic(type);
        switch (head)
        {
            case "Any" or "object":
                return null;
            case "str":
                return kind == JsonValueKind.String ? null : $"{value.ToJsonString()} is not a string";
            case "datetime":
                return kind == JsonValueKind.String && DateTimeOffset.TryParse(value.GetValue<string>(), CultureInfo.InvariantCulture, DateTimeStyles.None, out _)
                    ? null
                    : $"{value.ToJsonString()} is not an ISO 8601 date-time";
            case "int":
                return kind == JsonValueKind.Number && JsonSerializer.SerializeToElement(value).TryGetDecimal(out var number) && number % 1 == 0
                    ? null
                    : $"{value.ToJsonString()} is not an integer";
            case "float":
                return kind == JsonValueKind.Number ? null : $"{value.ToJsonString()} is not a number";
            case "bool":
                return kind is JsonValueKind.True or JsonValueKind.False ? null : $"{value.ToJsonString()} is not a boolean";
            case "List" or "list" or "Sequence":
                if (kind != JsonValueKind.Array)
                {
                    return $"{value.ToJsonString()} is not an array";
                }

                return arguments.Count == 1
                    ? value.AsArray().Select(element => Mismatch(arguments[0], element, models)).FirstOrDefault(m => m is not null) is { } inner ? $"an element: {inner}" : null
                    : null;
            case "Dict" or "dict":
                return kind == JsonValueKind.Object ? null : $"{value.ToJsonString()} is not an object";
            case "Literal":
                return arguments.Select(a => a.Trim('"', '\'')).Contains(value.ToString()) ? null : $"{value.ToJsonString()} is not one of {type}";
            default:
                if (models.TryGetValue(head, out var fields))
                {
                    return kind == JsonValueKind.Object ? MissingOrWrong(fields, value.AsObject(), models).FirstOrDefault() : $"{value.ToJsonString()} is not an object";
                }

                throw new NotSupportedException($"No JSON check for the Python annotation {annotation}.");
        }
    }

    /// <summary>Every way <paramref name="body"/> fails the model: a required field missing, or any field present
    /// with JSON its annotation refuses.</summary>
    public static IEnumerable<string> MissingOrWrong(IReadOnlyList<PythonField> fields, JsonObject body, IReadOnlyDictionary<string, IReadOnlyList<PythonField>> models)
    {
        foreach (var field in fields)
        {
            if (!body.TryGetPropertyValue(field.Name, out var value))
            {
                if (field.Required)
                {
                    yield return $"{field.Name} ({field.Annotation}) is required but missing";
                }

                continue;
            }

            if (Mismatch(field.Annotation, value, models) is { } problem)
            {
                yield return $"{field.Name} ({field.Annotation}): {problem}";
            }
        }
    }

    private static (string Head, List<string> Arguments) Generic(string type)
    {
        var open = type.IndexOf('[', StringComparison.Ordinal);
        return open < 0 || !type.EndsWith(']') ? (type, []) : (type[..open], SplitTop(type[(open + 1)..^1], ','));
    }

    /// <summary>Splits on <paramref name="separator"/> outside brackets.</summary>
    private static List<string> SplitTop(string text, char separator)
    {
        var parts = new List<string>();
        var depth = 0;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            depth += text[i] switch { '[' => 1, ']' => -1, _ => 0 };
            if (text[i] == separator && depth == 0)
            {
                parts.Add(text[start..i].Trim());
                start = i + 1;
            }
        }

        parts.Add(text[start..].Trim());
        return parts;
    }
}
