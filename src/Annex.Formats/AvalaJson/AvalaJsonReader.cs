using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Annex.Formats;

/// <summary>
/// Checks a parsed document against the Avala Grouped JSON schema, including cross references.
/// Deliberately independent of <see cref="AvalaJsonWriter"/> so it can catch the writer's mistakes.
/// </summary>
public static class AvalaJsonSchema
{
    /// <summary>Returns human-readable violations, each prefixed with a JSON path; an empty list means valid.</summary>
    public static IReadOnlyList<string> Validate(JsonDocument document)
    {
        ArgumentNullException.ThrowIfNull(document);
        var check = new Checker();
        check.Root(document.RootElement);
        return check.Violations;
    }

    private static readonly SearchValues<char> HexDigits = SearchValues.Create("0123456789abcdefABCDEF");

    /// <summary>The checks, also run element by element by the streamed importer (which drains <see cref="Violations"/>
    /// after each element).</summary>
    internal sealed class Checker
    {
        /// <summary>The uids of the items checked so far, each at its position in document order.</summary>
        public ItemUidTable ItemUids { get; } = new();
        private readonly Dictionary<string, HashSet<string>> _projectLabels = new(StringComparer.Ordinal);

        public List<string> Violations { get; } = [];

        public void Root(JsonElement root)
        {
            if (root.ValueKind != JsonValueKind.Object)
            {
                Add("$", "expected an object");
                return;
            }

            RequireString(root, "scheme_version", "$");
            if (Require(root, "export_info", JsonValueKind.Object, "$", out var info))
            {
                const string path = "$.export_info";
                RequireString(info, "name", path);
                RequireString(info, "created_at", path);
                RequireString(info, "format", path);
                RequireStringOrNull(info, "filter_query_string", path);
            }

            // Datasets and projects first, so results can be checked against what they declare.
            if (Require(root, "datasets", JsonValueKind.Array, "$", out var datasets))
            {
                ForEach(datasets, "$.datasets", Dataset);
            }

            if (Require(root, "projects", JsonValueKind.Array, "$", out var projects))
            {
                ForEach(projects, "$.projects", Project);
            }

            if (Require(root, "results", JsonValueKind.Array, "$", out var results))
            {
                ForEach(results, "$.results", Result);
            }
        }

        internal void Dataset(JsonElement dataset, string path)
        {
            RequireString(dataset, "uid", path);
            RequireString(dataset, "name", path);
            if (Require(dataset, "items", JsonValueKind.Array, path, out var items))
            {
                ForEach(items, path + ".items", Item);
            }
        }

        internal void Item(JsonElement item, string path)
        {
            if (RequireString(item, "uid", path) is { } uid && !ItemUids.Add(uid))
            {
                Add(path + ".uid", $"duplicate item uid \"{uid}\"");
            }

            RequireString(item, "ref_id", path);
            Require(item, "metadata", JsonValueKind.Object, path, out _);
            OptionalNumberOrNull(item, "width", path);
            OptionalNumberOrNull(item, "height", path);
        }

        internal void Project(JsonElement project, string path)
        {
            var uid = RequireString(project, "uid", path);
            RequireString(project, "name", path);
            var labels = new HashSet<string>(StringComparer.Ordinal);
            if (Require(project, "labels", JsonValueKind.Array, path, out var labelArray))
            {
                ForEach(labelArray, path + ".labels", (label, labelPath) =>
                {
                    if (RequireString(label, "name", labelPath) is { } name && !labels.Add(name))
                    {
                        Add(labelPath + ".name", $"duplicate label name \"{name}\"");
                    }

                    if (RequireString(label, "color", labelPath) is { } color && !IsHexColor(color))
                    {
                        Add(labelPath + ".color", $"expected a color like \"#RRGGBB\" but got \"{color}\"");
                    }
                });
            }

            if (uid is not null && !_projectLabels.TryAdd(uid, labels))
            {
                Add(path + ".uid", $"duplicate project uid \"{uid}\"");
            }
        }

        internal void Result(JsonElement result, string path)
        {
            RequireString(result, "uid", path);
            if (RequireString(result, "dataset_item_uid", path) is { } itemUid && !ItemUids.Contains(itemUid))
            {
                Add(path + ".dataset_item_uid", $"no dataset item has uid \"{itemUid}\"");
            }

            HashSet<string>? labels = null;
            if (RequireString(result, "project_uid", path) is { } projectUid
                && !_projectLabels.TryGetValue(projectUid, out labels))
            {
                Add(path + ".project_uid", $"no project has uid \"{projectUid}\"");
            }

            if (Require(result, "annotations", JsonValueKind.Array, path, out var annotations))
            {
                ForEach(annotations, path + ".annotations", (annotation, annotationPath) =>
                {
                    if (RequireString(annotation, "label", annotationPath) is { } label
                        && labels is not null && !labels.Contains(label))
                    {
                        Add(annotationPath + ".label", $"\"{label}\" is not a label of the result's project");
                    }

                    RequireString(annotation, "type", annotationPath);
                    if (!annotation.TryGetProperty("coordinates", out var coordinates))
                    {
                        Add(annotationPath + ".coordinates", "missing");
                    }
                    else if (coordinates.ValueKind is not (JsonValueKind.Object or JsonValueKind.Null))
                    {
                        Add(annotationPath + ".coordinates", $"expected an object or null but got {Kind(coordinates)}");
                    }

                    Require(annotation, "attributes", JsonValueKind.Object, annotationPath, out _);
                });
            }
        }

        /// <summary>Runs <paramref name="check"/> on each element that is an object, reporting the others.</summary>
        private void ForEach(JsonElement array, string path, Action<JsonElement, string> check)
        {
            var index = 0;
            foreach (var element in array.EnumerateArray())
            {
                Element(element, string.Create(CultureInfo.InvariantCulture, $"{path}[{index}]"), check);
                index++;
            }
        }

        /// <summary>One element of an array of objects: <paramref name="check"/> when it is an object, else reported.</summary>
        internal void Element(JsonElement element, string path, Action<JsonElement, string> check)
        {
            if (element.ValueKind == JsonValueKind.Object)
            {
                check(element, path);
            }
            else
            {
                Add(path, $"expected an object but got {Kind(element)}");
            }
        }

        private bool Require(JsonElement parent, string name, JsonValueKind kind, string path, out JsonElement value)
        {
            if (!parent.TryGetProperty(name, out value))
            {
                Add($"{path}.{name}", "missing");
                return false;
            }

            if (value.ValueKind != kind)
            {
                Add($"{path}.{name}", $"expected {Describe(kind)} but got {Kind(value)}");
                return false;
            }

            return true;
        }

        private string? RequireString(JsonElement parent, string name, string path) =>
            Require(parent, name, JsonValueKind.String, path, out var value) ? value.GetString() : null;

        private void RequireStringOrNull(JsonElement parent, string name, string path)
        {
            if (!parent.TryGetProperty(name, out var value))
            {
                Add($"{path}.{name}", "missing");
            }
            else if (value.ValueKind is not (JsonValueKind.String or JsonValueKind.Null))
            {
                Add($"{path}.{name}", $"expected a string or null but got {Kind(value)}");
            }
        }

        private void OptionalNumberOrNull(JsonElement parent, string name, string path)
        {
            if (parent.TryGetProperty(name, out var value)
                && value.ValueKind is not (JsonValueKind.Number or JsonValueKind.Null))
            {
                Add($"{path}.{name}", $"expected a number or null but got {Kind(value)}");
            }
        }

        private void Add(string path, string message) => Violations.Add($"{path}: {message}");

        private static bool IsHexColor(string color) =>
            color.Length == 7 && color[0] == '#' && !color.AsSpan(1).ContainsAnyExcept(HexDigits);

        private static string Kind(JsonElement element) => Describe(element.ValueKind);

        private static string Describe(JsonValueKind kind) => kind switch
        {
            JsonValueKind.Object => "an object",
            JsonValueKind.Array => "an array",
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            JsonValueKind.True or JsonValueKind.False => "a boolean",
            JsonValueKind.Null => "null",
            _ => "nothing",
        };
    }
}
