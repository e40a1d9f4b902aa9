using System.Globalization;
using System.Text.Json;

namespace Annex.Server.Features.Exports.Filtering;

/// <summary>What a filter can see of one task.</summary>
public sealed record TaskFacts(
    string RefId,
    JsonElement Metadata,
    Guid DatasetUid,
    Guid ProjectUid,
    IReadOnlySet<Guid> SliceUids,
    DateTime CreatedAt,
    DateTime UpdatedAt,
    int AnnotationCount,
    JsonElement Annotations);

/// <summary>
/// Evaluates a filter in memory with the same meaning as <see cref="FilterSql"/>: the reference the
/// database translation is tested against, and the fallback for anything a database cannot evaluate.
/// </summary>
public static class FilterEvaluator
{
    public static bool Matches(FilterNode node, TaskFacts task) => node switch
    {
        FilterNode.And and => Matches(and.Left, task) && Matches(and.Right, task),
        FilterNode.Or or => Matches(or.Left, task) || Matches(or.Right, task),
        FilterNode.Not not => !Matches(not.Operand, task),
        FilterNode.Compare { Operator: ComparisonOperator.NotEqual } compare => !Equal(compare.Field, compare.Value, task),
        FilterNode.Compare { Operator: ComparisonOperator.Equal } compare => Equal(compare.Field, compare.Value, task),
        FilterNode.Compare compare => Ordered(compare.Field, compare.Operator, compare.Value, task),
        FilterNode.In @in => @in.Values.Any(v => Equal(@in.Field, v, task)),
        FilterNode.Glob glob => Glob(glob.Field, glob.Pattern, task),
        FilterNode.Exists exists => OnJson(exists.Field, task, value => value is not null),
        _ => throw new ArgumentOutOfRangeException(nameof(node), node.GetType().Name, null),
    };

    private static bool Equal(FieldReference field, FilterValue value, TaskFacts task) => field.Field switch
    {
        FilterField.Label => AnyAnnotation(task, a => a.GetProperty("label").GetString() == ((FilterValue.Text)value).Value),
        FilterField.Type => AnyAnnotation(task, a => a.GetProperty("type").GetString() == ((FilterValue.Text)value).Value),
        FilterField.RefId => string.Equals(task.RefId, ((FilterValue.Text)value).Value, StringComparison.Ordinal),
        FilterField.Dataset => task.DatasetUid == ((FilterValue.Uid)value).Value,
        FilterField.Project => task.ProjectUid == ((FilterValue.Uid)value).Value,
        FilterField.Slice => task.SliceUids.Contains(((FilterValue.Uid)value).Value),
        FilterField.CreatedAt or FilterField.UpdatedAt or FilterField.AnnotationCount => Ordered(field, ComparisonOperator.Equal, value, task),
        FilterField.Metadata or FilterField.Attribute => OnJson(field, task, json => JsonEqual(json, value)),
        _ => throw new ArgumentOutOfRangeException(nameof(field), field.Field, null),
    };

    private static bool JsonEqual(JsonElement? json, FilterValue value) => value switch
    {
        FilterValue.Null => json is null || json.Value.ValueKind == JsonValueKind.Null,
        FilterValue.Text text => json is { ValueKind: JsonValueKind.String } s && string.Equals(s.GetString(), text.Value, StringComparison.Ordinal),
        FilterValue.Number number => json is { ValueKind: JsonValueKind.Number } n && NumberOf(n) == number.Value,
        FilterValue.Boolean boolean => json is { } b && b.ValueKind == (boolean.Value ? JsonValueKind.True : JsonValueKind.False),
        _ => false,
    };

    private static bool Ordered(FieldReference field, ComparisonOperator op, FilterValue value, TaskFacts task) => field.Field switch
    {
        FilterField.CreatedAt => Compare(task.CreatedAt.CompareTo(((FilterValue.Timestamp)value).Value), op),
        FilterField.UpdatedAt => Compare(task.UpdatedAt.CompareTo(((FilterValue.Timestamp)value).Value), op),
        FilterField.AnnotationCount => Compare(((double)task.AnnotationCount).CompareTo(((FilterValue.Number)value).Value), op),
        FilterField.Metadata or FilterField.Attribute => OnJson(field, task, json => json is { ValueKind: JsonValueKind.Number } n && Compare(NumberOf(n).CompareTo(((FilterValue.Number)value).Value), op)),
        _ => throw new ArgumentOutOfRangeException(nameof(field), field.Field, null),
    };

    private static bool Compare(int order, ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => order == 0,
        ComparisonOperator.Less => order < 0,
        ComparisonOperator.LessOrEqual => order <= 0,
        ComparisonOperator.Greater => order > 0,
        ComparisonOperator.GreaterOrEqual => order >= 0,
        _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
    };

    private static bool Glob(FieldReference field, string pattern, TaskFacts task) => field.Field switch
    {
        FilterField.Label => AnyAnnotation(task, a => GlobMatches(pattern, a.GetProperty("label").GetString()!)),
        FilterField.RefId => GlobMatches(pattern, task.RefId),
        FilterField.Metadata or FilterField.Attribute => OnJson(field, task, json => json is { ValueKind: JsonValueKind.String } s && GlobMatches(pattern, s.GetString()!)),
        _ => throw new ArgumentOutOfRangeException(nameof(field), field.Field, null),
    };

    /// <summary>Applies <paramref name="test"/> to the value at the field's key path (null when absent):
    /// in the item's metadata, or in each annotation's attributes until one passes.</summary>
    private static bool OnJson(FieldReference field, TaskFacts task, Func<JsonElement?, bool> test) =>
        field.Field == FilterField.Attribute
            ? AnyAnnotation(task, a => test(a.TryGetProperty("attributes", out var attributes) ? At(attributes, field.Path) : null))
            : test(At(task.Metadata, field.Path));

    /// <summary>The double nearest to a stored number: infinity beyond double's range, 0 too close to zero
    /// (<see cref="JsonElement.GetDouble"/> refuses both).</summary>
    private static double NumberOf(JsonElement number) =>
        number.TryGetDouble(out var value) ? value : double.Parse(number.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);

    /// <summary>The value at the key path, following object members only: a key never indexes an array.</summary>
    private static JsonElement? At(JsonElement document, IReadOnlyList<string> path)
    {
        var current = document;
        foreach (var key in path)
        {
            if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(key, out current))
            {
                return null;
            }
        }

        return current;
    }

    private static bool AnyAnnotation(TaskFacts task, Func<JsonElement, bool> test) =>
        task.Annotations.ValueKind == JsonValueKind.Array && task.Annotations.EnumerateArray().Any(test);

    /// <summary>Glob matching with <c>*</c> and <c>?</c> in linear-time-per-step, without backtracking blow-up.</summary>
    public static bool GlobMatches(string pattern, string text)
    {
        int p = 0, t = 0, star = -1, resume = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && (pattern[p] == '?' || (pattern[p] != '*' && pattern[p] == text[t])))
            {
                p++;
                t++;
            }
            else if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                resume = t;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++resume;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
