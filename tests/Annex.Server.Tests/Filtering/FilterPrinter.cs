using System.Globalization;
using System.Text;
using Annex.Server.Features.Exports.Filtering;

namespace Annex.Server.Tests.Filtering;

/// <summary>Prints a filter tree as one canonical line, e.g. <c>(AND (= label "car") (NOT (EXISTS metadata.weather)))</c>,
/// because records holding IReadOnlyList members compare those lists by reference.</summary>
internal static class FilterPrinter
{
    public static string Print(FilterNode node, bool positions = false)
    {
        var output = new StringBuilder();
        Write(node, positions, output);
        return output.ToString();
    }

    private static void Write(FilterNode node, bool positions, StringBuilder output)
    {
        var at = positions ? "@" + node.Position.ToString(CultureInfo.InvariantCulture) : "";
        switch (node)
        {
            case FilterNode.And and:
                output.Append("(AND").Append(at).Append(' ');
                Write(and.Left, positions, output);
                output.Append(' ');
                Write(and.Right, positions, output);
                output.Append(')');
                break;
            case FilterNode.Or or:
                output.Append("(OR").Append(at).Append(' ');
                Write(or.Left, positions, output);
                output.Append(' ');
                Write(or.Right, positions, output);
                output.Append(')');
                break;
            case FilterNode.Not not:
                output.Append("(NOT").Append(at).Append(' ');
                Write(not.Operand, positions, output);
                output.Append(')');
                break;
            case FilterNode.Compare compare:
                output.Append('(').Append(Operator(compare.Operator)).Append(at).Append(' ').Append(Field(compare.Field))
                    .Append(' ').Append(Value(compare.Value)).Append(')');
                break;
            case FilterNode.In @in:
                output.Append("(IN").Append(at).Append(' ').Append(Field(@in.Field));
                foreach (var value in @in.Values)
                    output.Append(' ').Append(Value(value));
                output.Append(')');
                break;
            case FilterNode.Glob glob:
                output.Append("(~").Append(at).Append(' ').Append(Field(glob.Field)).Append(' ').Append(Quote(glob.Pattern)).Append(')');
                break;
            case FilterNode.Exists exists:
                output.Append("(EXISTS").Append(at).Append(' ').Append(Field(exists.Field)).Append(')');
                break;
            default:
                throw new InvalidOperationException($"Unknown node {node.GetType().Name}.");
        }
    }

    /// <summary>The field as written, after checking that its enum value and key path agree with that text.</summary>
    private static string Field(FieldReference field)
    {
        var expected = field.Field switch
        {
            FilterField.Metadata => "metadata." + string.Join('.', field.Path),
            FilterField.Attribute => "attributes." + string.Join('.', field.Path),
            FilterField.Label => "label",
            FilterField.Type => "type",
            FilterField.RefId => "ref_id",
            FilterField.Dataset => "dataset",
            FilterField.Project => "project",
            FilterField.Slice => "slice",
            FilterField.CreatedAt => "created_at",
            FilterField.UpdatedAt => "updated_at",
            FilterField.AnnotationCount => "annotation_count",
            _ => throw new InvalidOperationException($"Unknown field {field.Field}."),
        };
        var keyed = field.Field is FilterField.Metadata or FilterField.Attribute;
        if (expected != field.Text || (keyed ? field.Path.Count == 0 : field.Path.Count != 0))
            throw new InvalidOperationException($"Field {field.Field} [{string.Join(',', field.Path)}] does not match its text \"{field.Text}\".");
        return field.Text;
    }

    private static string Operator(ComparisonOperator op) => op switch
    {
        ComparisonOperator.Equal => "=",
        ComparisonOperator.NotEqual => "!=",
        ComparisonOperator.Less => "<",
        ComparisonOperator.LessOrEqual => "<=",
        ComparisonOperator.Greater => ">",
        ComparisonOperator.GreaterOrEqual => ">=",
        _ => throw new InvalidOperationException($"Unknown operator {op}."),
    };

    private static string Value(FilterValue value) => value switch
    {
        FilterValue.Text text => Quote(text.Value),
        FilterValue.Number number => number.Value.ToString("R", CultureInfo.InvariantCulture),
        FilterValue.Boolean boolean => boolean.Value ? "true" : "false",
        FilterValue.Null => "null",
        // "O" ends in Z only for DateTimeKind.Utc, so the printout also checks the kind.
        FilterValue.Timestamp timestamp => "ts:" + timestamp.Value.ToString("O", CultureInfo.InvariantCulture),
        FilterValue.Uid uid => "uid:" + uid.Value.ToString("D"),
        _ => throw new InvalidOperationException($"Unknown value {value.GetType().Name}."),
    };

    /// <summary>Double quotes with backslash escapes; other control characters as \uXXXX.</summary>
    private static string Quote(string s)
    {
        var output = new StringBuilder("\"");
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': output.Append("\\\""); break;
                case '\\': output.Append("\\\\"); break;
                case '\n': output.Append("\\n"); break;
                case '\t': output.Append("\\t"); break;
                default:
                    if (char.IsControl(c) || char.IsSurrogate(c))
                        output.Append("\\u").Append(((int)c).ToString("X4", CultureInfo.InvariantCulture));
                    else
                        output.Append(c);
                    break;
            }
        }

        return output.Append('"').ToString();
    }
}
