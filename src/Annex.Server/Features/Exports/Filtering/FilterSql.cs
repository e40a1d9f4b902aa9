using System.Globalization;
using System.Numerics;
using System.Text;

namespace Annex.Server.Features.Exports.Filtering;

/// <summary>
/// Translates a filter into a boolean SQL expression (SQLite or PostgreSQL) over <c>r</c> (the results
/// row) and <c>i</c> (its dataset item). User values only ever travel as parameters (<c>{0}</c>,
/// <c>{1}</c>, ... in EF's FromSqlRaw style); the SQL text is built from fixed fragments alone. Every
/// atom is wrapped so it is true or false, never NULL, which makes <c>NOT</c> and <c>!=</c> mean exactly
/// "not =" as the docs promise.
/// </summary>
/// <para>JSON is stored as text on both databases (so exports pass it through byte for byte); SQLite reads
/// it with <c>json_extract</c>/<c>json_type</c>, PostgreSQL casts it to <c>jsonb</c> and uses
/// <c>-&gt;</c>/<c>-&gt;&gt;</c> with text keys (which, unlike <c>#&gt;</c>, never index an array: a key is always
/// an object member, as in SQLite's quoted path) and <c>jsonb_typeof</c>. Stored numbers are compared as the
/// doubles a JSON parser reads (see <see cref="NumberAt"/>).</para>
public sealed class FilterSql
{
    private readonly StringBuilder _sql = new();
    private readonly List<object> _parameters = [];

    private readonly bool _postgres;
    private readonly int _firstParameter;
    private readonly bool _liveResults;

    private FilterSql(bool postgres, int firstParameter, bool liveResults)
    {
        _postgres = postgres;
        _firstParameter = firstParameter;
        _liveResults = liveResults;
    }

    /// <param name="filter">The parsed filter.</param>
    /// <param name="postgres">PostgreSQL's dialect rather than SQLite's.</param>
    /// <param name="firstParameter">Number of the first placeholder, for SQL that has parameters of its own before the filter's.</param>
    /// <param name="liveResults">Whether <c>r</c> is a row of the live <c>results</c> table, so that <c>label</c> and
    /// <c>type</c> conditions may read the <c>result_labels</c> index (the distinct label and type pairs of each
    /// result's annotations) and <c>attributes.&lt;key&gt;</c> conditions the <c>result_attributes</c> index (the distinct
    /// attribute paths and values of each result's annotations), both kept by triggers, rather than parse the
    /// annotations. Results read from a version's history have no such rows and must leave it false.</param>
    public static (string Sql, object[] Parameters) For(FilterNode filter, bool postgres, int firstParameter = 0, bool liveResults = false)
    {
        var builder = new FilterSql(postgres, firstParameter, liveResults);
        builder.Write(filter);
        return (builder._sql.ToString(), [.. builder._parameters]);
    }

    /// <summary>A rough price of evaluating a condition per row: columns are cheap, the item's metadata
    /// costs a JSON lookup, annotation conditions a scan of the task's annotations (or a seek into result_labels or
    /// result_attributes).</summary>
    private int Cost(FilterNode node) => node switch
    {
        FilterNode.And and => Cost(and.Left) + Cost(and.Right),
        FilterNode.Or or => Cost(or.Left) + Cost(or.Right),
        FilterNode.Not not => Cost(not.Operand),
        FilterNode.Compare c => Cost(c.Field, c.Value),
        FilterNode.In i => i.Values.Max(v => Cost(i.Field, v)) * Math.Min(i.Values.Count, 4),
        FilterNode.Glob g => Cost(g.Field, null) + 1,
        FilterNode.Exists e => Cost(e.Field, null),
        _ => 1,
    };

    // With result_attributes an attribute condition is an index seek, like a label's.
    private int Cost(FieldReference field, FilterValue? value) => AttributeRowsAnswer(field, value) is not null ? 3 : Cost(field);

    private int Cost(FieldReference field) => field.Field switch
    {
        // With result_labels a label or type is an index seek, still dearer than a column of the row.
        FilterField.Label or FilterField.Type when _liveResults => 3,
        FilterField.Label or FilterField.Type or FilterField.Attribute => 20,
        FilterField.Metadata => 4,
        FilterField.Slice or FilterField.Dataset or FilterField.Project => 2,
        _ => 1,
    };

    /// <summary>Whether the SQL of <paramref name="filter"/> reads <c>i</c>, the task's item (its ref_id, metadata,
    /// dataset or slices); when it does not, a query may leave the item out.</summary>
    public static bool ReadsItem(FilterNode filter) => filter switch
    {
        FilterNode.And and => ReadsItem(and.Left) || ReadsItem(and.Right),
        FilterNode.Or or => ReadsItem(or.Left) || ReadsItem(or.Right),
        FilterNode.Not not => ReadsItem(not.Operand),
        FilterNode.Compare c => ReadsItem(c.Field),
        FilterNode.In i => ReadsItem(i.Field),
        FilterNode.Glob g => ReadsItem(g.Field),
        FilterNode.Exists e => ReadsItem(e.Field),
        _ => true,
    };

    private static bool ReadsItem(FieldReference field) => field.Field is FilterField.RefId or FilterField.Metadata or FilterField.Dataset or FilterField.Slice;

    /// <summary>The operands of a chain of the same connective, e.g. a AND b AND (c AND d) gives a, b, c, d.</summary>
    private static List<FilterNode> Chain(FilterNode node, bool and)
    {
        var operands = new List<FilterNode>();
        var pending = new Stack<FilterNode>();
        pending.Push(node);
        while (pending.Count > 0)
        {
            switch (pending.Pop())
            {
                case FilterNode.And a when and:
                    pending.Push(a.Right);
                    pending.Push(a.Left);
                    break;
                case FilterNode.Or o when !and:
                    pending.Push(o.Right);
                    pending.Push(o.Left);
                    break;
                case var operand:
                    operands.Add(operand);
                    break;
            }
        }

        return operands;
    }

    private void Write(FilterNode node)
    {
        switch (node)
        {
            case FilterNode.And or FilterNode.Or:
                // Cheapest first; with every atom 0 or 1 (never NULL) the order does not change the result.
                var and = node is FilterNode.And;
                var operands = Chain(node, and).OrderBy(Cost).ToList();
                Connect(operands.Count, and, k => Write(operands[k]));
                break;
            case FilterNode.Not not:
                _sql.Append("(NOT ");
                Write(not.Operand);
                _sql.Append(')');
                break;
            default:
                _sql.Append("COALESCE((");
                Atom(node);
                _sql.Append("), FALSE)");
                break;
        }
    }

    /// <summary>Joins operands <paramref name="first"/> to <paramref name="count"/> - 1 with AND or OR as
    /// nested CASE expressions, the only form in which SQLite (and PostgreSQL) promise to evaluate them in
    /// order and stop early (so the cheap conditions put first really spare the expensive ones). Operands come in groups
    /// of at most <see cref="GroupSize"/>, so nesting stays far below SQLite's expression depth limit of
    /// 1000 even for a 1,000-value IN list.</summary>
    private void Connect(int count, bool and, Action<int> writeOperand, int first = 0)
    {
        var span = 1;
        while (span * GroupSize < count - first)
        {
            span *= GroupSize;
        }

        var starts = new List<int>();
        for (var start = first; start < count; start += span)
        {
            starts.Add(start);
        }

        void WriteItem(int k)
        {
            if (span == 1)
            {
                writeOperand(starts[k]);
            }
            else
            {
                Connect(Math.Min(count, starts[k] + span), and, writeOperand, starts[k]);
            }
        }

        _sql.Append('(');
        for (var k = 0; k < starts.Count - 1; k++)
        {
            _sql.Append("CASE WHEN ");
            WriteItem(k);
            _sql.Append(and ? " THEN " : " THEN TRUE ELSE ");
        }

        WriteItem(starts.Count - 1);
        for (var k = 0; k < starts.Count - 1; k++)
        {
            _sql.Append(and ? " ELSE FALSE END" : " END");
        }

        _sql.Append(')');
    }

    private const int GroupSize = 32;

    private void Atom(FilterNode node)
    {
        switch (node)
        {
            case FilterNode.Compare compare when compare.Operator == ComparisonOperator.NotEqual:
                _sql.Append("NOT COALESCE((");
                Equal(compare.Field, compare.Value);
                _sql.Append("), FALSE)");
                break;
            case FilterNode.Compare { Operator: ComparisonOperator.Equal } compare:
                Equal(compare.Field, compare.Value);
                break;
            case FilterNode.Compare compare:
                Order(compare.Field, compare.Operator, compare.Value);
                break;
            case FilterNode.In @in:
                Connect(@in.Values.Count, and: false, k =>
                {
                    _sql.Append("COALESCE((");
                    Equal(@in.Field, @in.Values[k]);
                    _sql.Append("), FALSE)");
                });
                break;
            case FilterNode.Glob glob:
                Glob(glob.Field, glob.Pattern);
                break;
            case FilterNode.Exists exists when AttributeRowsAnswer(exists.Field, null) is { } path:
                // Every value has a row at its path, null, objects and arrays included.
                AttributeRows(path, () => { });
                break;
            case FilterNode.Exists exists:
                OnJson(exists.Field, path => TypeOf(path).Append(" IS NOT NULL"));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(node), node.GetType().Name, "Not an atom.");
        }
    }

    private string Document { get; set; } = "";

    private void Equal(FieldReference field, FilterValue value)
    {
        switch (field.Field)
        {
            case FilterField.Label:
                Annotations(() => AnnotationKey("label").Append(" = ").Append(Parameter(Text(value))), keysOnly: true);
                break;
            case FilterField.Type:
                Annotations(() => AnnotationKey("type").Append(" = ").Append(Parameter(Text(value))), keysOnly: true);
                break;
            case FilterField.RefId:
                _sql.Append("i.\"RefId\" = ").Append(Parameter(Text(value)));
                break;
            case FilterField.Dataset:
                _sql.Append("i.\"DatasetId\" IN (SELECT d.\"Id\" FROM datasets AS d WHERE d.\"Uid\" = ").Append(Parameter(Uid(value))).Append(')');
                break;
            case FilterField.Project:
                _sql.Append("r.\"ProjectId\" IN (SELECT p.\"Id\" FROM projects AS p WHERE p.\"Uid\" = ").Append(Parameter(Uid(value))).Append(')');
                break;
            case FilterField.Slice:
                _sql.Append("EXISTS (SELECT 1 FROM slice_items AS si INNER JOIN slices AS s ON s.\"Id\" = si.\"SliceId\" WHERE si.\"DatasetItemId\" = i.\"Id\" AND s.\"Uid\" = ")
                    .Append(Parameter(Uid(value))).Append(')');
                break;
            case FilterField.CreatedAt or FilterField.UpdatedAt or FilterField.AnnotationCount:
                Order(field, ComparisonOperator.Equal, value);
                break;
            case FilterField.Attribute when AttributeRowsAnswer(field, value) is { } path:
                AttributeRows(path, () =>
                {
                    _ = value switch
                    {
                        FilterValue.Text text => _sql.Append(" AND t.\"Type\" = 'string' AND t.\"Text\" = ").Append(Parameter(text.Value)),
                        FilterValue.Number number => _sql.Append(" AND t.\"Type\" = 'number' AND t.\"Number\" = ").Append(Parameter(number.Value)),
                        FilterValue.Boolean boolean => _sql.Append(boolean.Value ? " AND t.\"Type\" = 'true'" : " AND t.\"Type\" = 'false'"),
                        _ => throw new ArgumentOutOfRangeException(nameof(value), value.GetType().Name, "Not a JSON literal."),
                    };
                });
                break;
            case FilterField.Metadata or FilterField.Attribute:
                OnJson(field, path => JsonEqual(path, value));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(field), field.Field, null);
        }
    }

    private void JsonEqual(string path, FilterValue value)
    {
        switch (value)
        {
            case FilterValue.Text text:
                // The value first: most rows fail it, and the type is then read only where it matched.
                TextAt(path).Append(" = ").Append(Parameter(text.Value)).Append(" AND ");
                IsText(path);
                break;
            case FilterValue.Number number:
                NumberAt(path, " = ", Parameter(number.Value));
                break;
            case FilterValue.Boolean boolean when _postgres:
                TypeOf(path).Append(" = 'boolean' AND ");
                TextAt(path).Append(boolean.Value ? " = 'true'" : " = 'false'");
                break;
            case FilterValue.Boolean boolean:
                TypeOf(path).Append(" = ").Append(boolean.Value ? "'true'" : "'false'");
                break;
            case FilterValue.Null:
                // Absent and null both count as null.
                _sql.Append("COALESCE(");
                TypeOf(path).Append(", 'null') = 'null'");
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(value), value.GetType().Name, "Not a JSON literal.");
        }
    }

    private void Order(FieldReference field, ComparisonOperator op, FilterValue value)
    {
        var symbol = op switch
        {
            ComparisonOperator.Equal => " = ",
            ComparisonOperator.Less => " < ",
            ComparisonOperator.LessOrEqual => " <= ",
            ComparisonOperator.Greater => " > ",
            ComparisonOperator.GreaterOrEqual => " >= ",
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, null),
        };
        switch (field.Field)
        {
            case FilterField.CreatedAt:
                _sql.Append("r.\"CreatedAt\"").Append(symbol).Append(Parameter(StoredTimestamp(value)));
                break;
            case FilterField.UpdatedAt:
                _sql.Append("r.\"UpdatedAt\"").Append(symbol).Append(Parameter(StoredTimestamp(value)));
                break;
            case FilterField.AnnotationCount:
                _sql.Append("r.\"AnnotationCount\"").Append(symbol).Append(Parameter(Number(value)));
                break;
            case FilterField.Attribute when AttributeRowsAnswer(field, value) is { } path:
                AttributeRows(path, () => _sql.Append(" AND t.\"Type\" = 'number' AND t.\"Number\"").Append(symbol).Append(Parameter(Number(value))));
                break;
            case FilterField.Metadata or FilterField.Attribute:
                OnJson(field, path => NumberAt(path, symbol, Parameter(Number(value))));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(field), field.Field, "Not an ordered field.");
        }
    }

    private void Glob(FieldReference field, string pattern)
    {
        var matches = (_postgres ? " LIKE " : " GLOB ") + Parameter(_postgres ? PostgresLike(pattern) : SqliteGlob(pattern));
        switch (field.Field)
        {
            case FilterField.Label:
                Annotations(() => AnnotationKey("label").Append(matches), keysOnly: true);
                break;
            case FilterField.RefId:
                _sql.Append("i.\"RefId\"").Append(matches);
                break;
            case FilterField.Attribute when AttributeRowsAnswer(field, null) is { } path:
                AttributeRows(path, () => _sql.Append(" AND t.\"Type\" = 'string' AND t.\"Text\"").Append(matches));
                break;
            case FilterField.Metadata or FilterField.Attribute:
                OnJson(field, path =>
                {
                    TextAt(path).Append(matches).Append(" AND ");
                    IsText(path);
                });
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(field), field.Field, "Not a text field.");
        }
    }

    /// <summary>Runs <paramref name="write"/> with <see cref="Document"/> set to the JSON the field lives
    /// in: the item's metadata, or each annotation (inside an EXISTS over the task's annotations).</summary>
    private void OnJson(FieldReference field, Action<string> write)
    {
        string[] keys = field.Field == FilterField.Attribute ? ["attributes", .. field.Path] : [.. field.Path];
        // On PostgreSQL the path is the chain of member accesses: " -> {k} -> {k+1}".
        var path = _postgres ? string.Concat(keys.Select(k => " -> " + Parameter(k))) : Parameter(JsonPath(keys));
        if (field.Field == FilterField.Attribute)
        {
            Annotations(() => write(path));
            return;
        }

        Document = _postgres ? "i.\"Metadata\"::jsonb" : "i.\"Metadata\"";
        write(path);
    }

    /// <summary>Longest dotted path (in characters) that <c>result_attributes</c> holds rows for; a condition on a longer one
    /// reads the annotations.</summary>
    private const int AttributePathLimit = 500;

    /// <summary>The dotted path under which <c>result_attributes</c> answers a condition on <paramref name="field"/> with
    /// <paramref name="value"/> exactly, or null when the annotations must be read: the rows are per result, not per
    /// annotation, so they say which values some annotation has at a path but not whether some annotation lacks it, which
    /// is what <c>= null</c> asks (and <c>!= null</c> denies).</summary>
    private string? AttributeRowsAnswer(FieldReference field, FilterValue? value)
    {
        if (!_liveResults || field.Field != FilterField.Attribute || value is FilterValue.Null)
        {
            return null;
        }

        var path = string.Join('.', field.Path);
        return path.Length <= AttributePathLimit ? path : null;
    }

    /// <summary>A condition that holds when the task's <c>result_attributes</c> rows at <paramref name="path"/> include one
    /// that satisfies what <paramref name="condition"/> appends (<c> AND ...</c> over <c>t</c>): one index seek.</summary>
    private void AttributeRows(string path, Action condition)
    {
        _sql.Append("EXISTS (SELECT 1 FROM result_attributes AS t WHERE t.\"ResultId\" = r.\"Id\" AND t.\"Path\" = ").Append(Parameter(path));
        condition();
        _sql.Append(')');
    }

    private void Annotations(Action predicate) => Annotations(predicate, keysOnly: false);

    /// <summary>A condition that holds when one of the task's annotations satisfies <paramref name="predicate"/>. When
    /// the predicate reads only the annotation's label and type (<paramref name="keysOnly"/>) and the live results are
    /// read, it runs on the task's rows of <c>result_labels</c> (one index seek) instead of parsing its annotations.</summary>
    private void Annotations(Action predicate, bool keysOnly)
    {
        if (keysOnly && _liveResults)
        {
            _sql.Append("EXISTS (SELECT 1 FROM result_labels AS a WHERE a.\"ResultId\" = r.\"Id\" AND ");
            _keysFromTable = true;
            predicate();
            _keysFromTable = false;
            _sql.Append(')');
            return;
        }

        _sql.Append(_postgres
            ? "EXISTS (SELECT 1 FROM jsonb_array_elements(r.\"Annotations\"::jsonb) AS a(value) WHERE "
            : "EXISTS (SELECT 1 FROM json_each(r.\"Annotations\") AS a WHERE ");
        Document = "a.value";
        predicate();
        _sql.Append(')');
    }

    private bool _keysFromTable;

    /// <summary>A top-level string member of the current annotation (<c>label</c> or <c>type</c>).</summary>
    private StringBuilder AnnotationKey(string key)
    {
        if (_keysFromTable)
        {
            return _sql.Append(key == "label" ? "a.\"Label\"" : "a.\"Type\"");
        }

        return _postgres
            ? _sql.Append("(a.value ->> '").Append(key).Append("')")
            : _sql.Append("json_extract(a.value, '$.").Append(key).Append("')");
    }

    /// <summary>The JSON type at <paramref name="path"/> in <see cref="Document"/>, NULL when absent.</summary>
    private StringBuilder TypeOf(string path) => _postgres
        ? _sql.Append("jsonb_typeof(").Append(Document).Append(path).Append(')')
        : _sql.Append("json_type(").Append(Document).Append(", ").Append(path).Append(')');

    /// <summary>The value at <paramref name="path"/> as SQL text (strings unquoted).</summary>
    private StringBuilder TextAt(string path) => _postgres
        ? _sql.Append('(').Append(Document).Append(PostgresTextPath(path)).Append(')')
        : _sql.Append("json_extract(").Append(Document).Append(", ").Append(path).Append(')');

    /// <summary>The PostgreSQL member chain with its last access as text (<c>-&gt;&gt;</c>).</summary>
    private static string PostgresTextPath(string path)
    {
        var last = path.LastIndexOf(" -> ", StringComparison.Ordinal);
        return string.Concat(path.AsSpan(0, last), " ->> ", path.AsSpan(last + 4));
    }

    private StringBuilder IsText(string path) => TypeOf(path).Append(_postgres ? " = 'string'" : " = 'text'");

    /// <summary>Compares the number at <paramref name="path"/>; false when the value there is not a number. The
    /// stored number counts as the double nearest to it, as JSON parsers (and SQLite) read it: beyond double's
    /// range it is infinity, too close to zero it is 0, and an integer beyond 2^53 is rounded.</summary>
    private void NumberAt(string path, string symbol, string parameter)
    {
        if (_postgres)
        {
            // CASE, not AND: PostgreSQL may evaluate AND's operands in any order, and the cast fails on text.
            // jsonb keeps numbers exact, and casting one a double cannot hold fails; those are settled first.
            _sql.Append("CASE WHEN ");
            TypeOf(path).Append(" = 'number' THEN (SELECT CASE WHEN n >= ").Append(DoubleOverflow)
                .Append(" THEN 'Infinity'::double precision WHEN n <= -").Append(DoubleOverflow)
                .Append(" THEN '-Infinity'::double precision WHEN abs(n) <= ").Append(DoubleUnderflow)
                .Append(" THEN 0::double precision ELSE n::double precision END FROM (SELECT (");
            TextAt(path).Append(")::numeric AS n) AS stored)").Append(symbol).Append(parameter).Append(" ELSE FALSE END");
            return;
        }

        // An integer within 64 bits comes back as one, and SQLite compares it with a double exactly; + 0.0 makes
        // it the nearest double first, as everywhere else.
        TypeOf(path).Append(" IN ('integer', 'real') AND (");
        TextAt(path).Append(" + 0.0)").Append(symbol).Append(parameter);
    }

    /// <summary>2^1024 - 2^970, exactly: from here on a number rounds to infinity as a double.</summary>
    private static readonly string DoubleOverflow = (BigInteger.Pow(2, 1024) - BigInteger.Pow(2, 970)).ToString(CultureInfo.InvariantCulture);

    /// <summary>2^-1075 (half the smallest double), exactly: up to here a number rounds to 0 as a double.</summary>
    private static readonly string DoubleUnderflow = "0." + BigInteger.Pow(5, 1075).ToString(CultureInfo.InvariantCulture).PadLeft(1075, '0');

    private string Parameter(object value)
    {
        _parameters.Add(value);
        return "{" + (_firstParameter + _parameters.Count - 1).ToString(CultureInfo.InvariantCulture) + "}";
    }

    /// <summary>A JSON path with every key quoted; keys are letters, digits, '_' and '-' only.</summary>
    public static string JsonPath(IEnumerable<string> keys) => "$" + string.Concat(keys.Select(k => ".\"" + k + "\""));

    /// <summary>The filter's glob (<c>*</c>, <c>?</c>) as a SQLite GLOB pattern, where '[' is special too.</summary>
    public static string SqliteGlob(string pattern) => pattern.Replace("[", "[[]", StringComparison.Ordinal);

    /// <summary>The filter's glob as a PostgreSQL LIKE pattern (backslash escapes LIKE's own wildcards).</summary>
    public static string PostgresLike(string pattern)
    {
        var like = new StringBuilder(pattern.Length + 8);
        foreach (var c in pattern)
        {
            _ = c switch
            {
                '*' => like.Append('%'),
                '?' => like.Append('_'),
                '%' or '_' or '\\' => like.Append('\\').Append(c),
                _ => like.Append(c),
            };
        }

        return like.ToString();
    }

    private static string Text(FilterValue value) => value is FilterValue.Text text ? text.Value : throw Mismatch(value);

    private static double Number(FilterValue value) => value is FilterValue.Number number ? number.Value : throw Mismatch(value);

    // On SQLite, stored the way EF Core's provider stores them: uppercase text for uids, and sortable text
    // for times. PostgreSQL has uuid and timestamptz columns and takes the values as they are.
    private object Uid(FilterValue value) => value is FilterValue.Uid uid
        ? _postgres ? uid.Value : uid.Value.ToString("D").ToUpperInvariant()
        : throw Mismatch(value);

    private object StoredTimestamp(FilterValue value) => value is FilterValue.Timestamp timestamp
        ? _postgres ? DateTime.SpecifyKind(timestamp.Value, DateTimeKind.Utc) : timestamp.Value.ToString("yyyy-MM-dd HH:mm:ss.FFFFFFF", CultureInfo.InvariantCulture)
        : throw Mismatch(value);

    private static ArgumentException Mismatch(FilterValue value) => new($"A {value.GetType().Name} value does not fit this field; the parser should have refused it.");
}
