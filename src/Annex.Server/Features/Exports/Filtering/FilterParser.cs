using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Annex.Formats;

namespace Annex.Server.Features.Exports.Filtering;

/// <summary>Parses and type-checks the export filter language (see docs for the grammar). Recursive descent whose
/// depth is capped at <see cref="MaxDepth"/> before every nested call, with one token of lookahead and no
/// backtracking, so parsing is linear and cannot overflow the stack.</summary>
public static class FilterParser
{
    public const int MaxLength = 10_000;
    public const int MaxDepth = 64;
    public const int MaxInValues = 1_000;

    /// <summary>The fields, in the order the docs and error messages list them.</summary>
    public static IReadOnlyList<string> FieldNames { get; } =
    [
        "label", "type", "attributes.<key>", "ref_id", "metadata.<key>", "dataset", "project", "slice",
        "created_at", "updated_at", "annotation_count",
    ];

    /// <summary>Parses and type-checks. Exactly one of node/error is non-null.</summary>
    public static bool TryParse(string text, [NotNullWhen(true)] out FilterNode? node, [NotNullWhen(false)] out FilterError? error)
    {
        text ??= "";
        node = null;
        if (text.Length > MaxLength)
        {
            error = new FilterError(1, $"The filter is longer than {MaxLength} characters.");
            return false;
        }

        if (text.All(FilterLexer.IsSpace))
        {
            error = new FilterError(1, "The filter is empty.");
            return false;
        }

        var parser = new Parser(text);
        node = parser.Parse();
        error = node is null ? parser.Error ?? new FilterError(1, "The filter could not be parsed (position 1).") : null;
        return node is not null;
    }

    private enum Operator
    {
        Equal,
        NotEqual,
        Less,
        LessOrEqual,
        Greater,
        GreaterOrEqual,
        In,
        Glob,
    }

    private static readonly Dictionary<string, FilterField> PlainFields = new(StringComparer.Ordinal)
    {
        ["label"] = FilterField.Label,
        ["type"] = FilterField.Type,
        ["ref_id"] = FilterField.RefId,
        ["dataset"] = FilterField.Dataset,
        ["project"] = FilterField.Project,
        ["slice"] = FilterField.Slice,
        ["created_at"] = FilterField.CreatedAt,
        ["updated_at"] = FilterField.UpdatedAt,
        ["annotation_count"] = FilterField.AnnotationCount,
    };

    private static readonly string[] Keywords = ["AND", "OR", "NOT", "IN", "EXISTS", "TRUE", "FALSE", "NULL"];

    // Seconds and fractions are optional; an explicit offset or Z is required so a timestamp never silently
    // means the server's local time. A bare date is midnight UTC.
    private static readonly string[] TimestampFormats =
    [
        "yyyy-MM-dd'T'HH:mmzzz", "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz",
        "yyyy-MM-dd'T'HH:mm'Z'", "yyyy-MM-dd'T'HH:mm:ss'Z'", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'",
        "yyyy-MM-dd",
    ];

    private static string OperatorText(Operator op) => op switch
    {
        Operator.Equal => "=",
        Operator.NotEqual => "!=",
        Operator.Less => "<",
        Operator.LessOrEqual => "<=",
        Operator.Greater => ">",
        Operator.GreaterOrEqual => ">=",
        Operator.In => "IN",
        _ => "~",
    };

    private static bool IsKeyed(FilterField field) => field is FilterField.Metadata or FilterField.Attribute;

    private static bool IsOrdering(Operator op) => op is Operator.Less or Operator.LessOrEqual or Operator.Greater or Operator.GreaterOrEqual;

    /// <summary>The operators a field takes, as listed in the error message; null when it takes them all.</summary>
    private static string? AllowedOperators(FilterField field) => field switch
    {
        FilterField.Label or FilterField.RefId => "=, !=, IN or ~",
        FilterField.Type or FilterField.Dataset or FilterField.Project or FilterField.Slice => "=, != or IN",
        FilterField.CreatedAt or FilterField.UpdatedAt or FilterField.AnnotationCount => "=, !=, <, <=, >, >= or IN",
        _ => null,
    };

    private static bool Applies(FilterField field, Operator op) => field switch
    {
        FilterField.Label or FilterField.RefId => op is Operator.Equal or Operator.NotEqual or Operator.In or Operator.Glob,
        FilterField.Type or FilterField.Dataset or FilterField.Project or FilterField.Slice => op is Operator.Equal or Operator.NotEqual or Operator.In,
        FilterField.CreatedAt or FilterField.UpdatedAt or FilterField.AnnotationCount => op is not Operator.Glob,
        _ => true,
    };

    private static bool TryParseTimestamp(string s, out DateTime utc)
    {
        // Upper-casing only touches the T and Z separators, which ISO 8601 also allows in lower case.
        if (DateTimeOffset.TryParseExact(s.ToUpperInvariant(), TimestampFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
        {
            utc = parsed.UtcDateTime;
            return true;
        }

        utc = default;
        return false;
    }

    private sealed class Parser(string text)
    {
        private readonly FilterLexer _lexer = new(text);
        private FilterToken _token;
        private int _depth;

        public FilterError? Error { get; private set; }

        public FilterNode? Parse()
        {
            Advance();
            var node = ParseOr(after: null);
            if (node is null)
                return null;
            if (_token.Kind == TokenKind.End)
                return node;
            if (_token.Kind == TokenKind.RightParen)
                return Fail(_token, $"Unexpected \")\" at position {_token.Position}.");
            return Fail(_token, $"Unexpected {Describe(_token)} at position {_token.Position}; expected AND, OR or the end of the filter.");
        }

        // `after` is the token that precedes the expression, named in "Expected a field after ..." messages.
        private FilterNode? ParseOr(string? after)
        {
            var left = ParseAnd(after);
            while (left is not null && IsKeyword(_token, "OR"))
            {
                var keyword = Raw(_token);
                Advance();
                var right = ParseAnd(keyword);
                left = right is null ? null : new FilterNode.Or(left, right, left.Position);
            }

            return left;
        }

        private FilterNode? ParseAnd(string? after)
        {
            var left = ParseUnary(after);
            while (left is not null && IsKeyword(_token, "AND"))
            {
                var keyword = Raw(_token);
                Advance();
                var right = ParseUnary(keyword);
                left = right is null ? null : new FilterNode.And(left, right, left.Position);
            }

            return left;
        }

        private FilterNode? ParseUnary(string? after)
        {
            // A run of NOTs is read in a loop rather than by recursion; each one still counts toward the depth.
            List<int>? nots = null;
            while (IsKeyword(_token, "NOT"))
            {
                if (_depth >= MaxDepth)
                    return DepthError();
                _depth++;
                (nots ??= []).Add(_token.Position);
                after = Raw(_token);
                Advance();
            }

            var operand = ParsePrimary(after);
            if (operand is null || nots is null)
                return operand;

            _depth -= nots.Count;
            for (var i = nots.Count - 1; i >= 0; i--)
                operand = new FilterNode.Not(operand, nots[i]);
            return operand;
        }

        private FilterNode? ParsePrimary(string? after)
        {
            if (_token.Kind == TokenKind.LeftParen)
            {
                if (_depth >= MaxDepth)
                    return DepthError();
                var open = _token.Position;
                _depth++;
                Advance();
                var inner = ParseOr("(");
                if (inner is null)
                    return null;
                if (_token.Kind != TokenKind.RightParen)
                    return Fail(_token, $"Expected \")\" at position {_token.Position} to close \"(\" at position {open}, found {Describe(_token)}.");
                _depth--;
                Advance();
                return inner;
            }

            if (_token.Kind == TokenKind.Word && !IsAnyKeyword(_token))
                return ParseCondition();

            var context = after is null ? "" : $" after \"{after}\"";
            return Fail(_token, $"Expected a field{context} at position {_token.Position}, found {Describe(_token)}.");
        }

        private FilterNode? ParseCondition()
        {
            var fieldToken = _token;
            var field = ParseField(fieldToken);
            if (field is null)
                return null;
            Advance();

            var at = fieldToken.Position;
            var opToken = _token;
            Operator op;
            switch (opToken.Kind)
            {
                case TokenKind.Equal: op = Operator.Equal; break;
                case TokenKind.NotEqual: op = Operator.NotEqual; break;
                case TokenKind.Less: op = Operator.Less; break;
                case TokenKind.LessOrEqual: op = Operator.LessOrEqual; break;
                case TokenKind.Greater: op = Operator.Greater; break;
                case TokenKind.GreaterOrEqual: op = Operator.GreaterOrEqual; break;
                case TokenKind.Tilde: op = Operator.Glob; break;
                case TokenKind.Word when IsKeyword(opToken, "IN"): op = Operator.In; break;
                case TokenKind.Word when IsKeyword(opToken, "EXISTS"):
                    if (!IsKeyed(field.Field))
                        return Fail(opToken, $"EXISTS applies only to metadata.<key> and attributes.<key>, not \"{field.Text}\", at position {opToken.Position}.");
                    Advance();
                    return new FilterNode.Exists(field, at);
                default:
                    return Fail(opToken, $"Expected an operator (=, !=, <, <=, >, >=, IN, ~, EXISTS) after \"{field.Text}\" at position {opToken.Position}, found {Describe(opToken)}.");
            }

            if (!Applies(field.Field, op))
                return Fail(opToken, $"Operator \"{OperatorText(op)}\" does not apply to \"{field.Text}\" at position {opToken.Position}; use {AllowedOperators(field.Field)}.");
            Advance();

            if (op == Operator.In)
                return ParseIn(field, at);

            if (!IsLiteral(_token))
                return ExpectedValue(OperatorText(op));

            if (op == Operator.Glob)
            {
                if (IsKeyword(_token, "NULL"))
                {
                    NullError();
                    return null;
                }

                if (_token.Kind != TokenKind.String)
                    return Fail(_token, $"Operator \"~\" needs a string pattern such as \"car*\", got {Shown(_token)} at position {_token.Position}.");
                var pattern = _token.Text!;
                Advance();
                return new FilterNode.Glob(field, pattern, at);
            }

            var value = CheckValue(field, op);
            if (value is null)
                return null;
            Advance();
            return new FilterNode.Compare(field, ToComparison(op), value, at);
        }

        private FilterNode? ParseIn(FieldReference field, int at)
        {
            if (_token.Kind != TokenKind.LeftParen)
                return Fail(_token, $"Expected \"(\" after \"IN\" at position {_token.Position}, found {Describe(_token)}.");
            Advance();

            var values = new List<FilterValue>();
            var after = "(";
            while (true)
            {
                if (!IsLiteral(_token))
                    return ExpectedValue(after);
                if (values.Count == MaxInValues)
                    return Fail(_token, $"IN takes at most {MaxInValues} values (position {_token.Position}).");
                var value = CheckValue(field, Operator.In);
                if (value is null)
                    return null;
                values.Add(value);
                Advance();

                if (_token.Kind == TokenKind.Comma)
                {
                    after = ",";
                    Advance();
                    continue;
                }

                if (_token.Kind == TokenKind.RightParen)
                {
                    Advance();
                    return new FilterNode.In(field, values, at);
                }

                return Fail(_token, $"Expected \",\" or \")\" at position {_token.Position}, found {Describe(_token)}.");
            }
        }

        /// <summary>Type-checks the literal at the current token against the field; the operator already applies.</summary>
        private FilterValue? CheckValue(FieldReference field, Operator op)
        {
            var token = _token;
            if (IsKeyword(token, "NULL"))
                return IsKeyed(field.Field) && op is Operator.Equal or Operator.NotEqual ? new FilterValue.Null() : NullError();

            var text = token.Kind == TokenKind.String ? token.Text : null;
            switch (field.Field)
            {
                case FilterField.Label or FilterField.RefId:
                    return text is not null ? new FilterValue.Text(text) : TypeError($"\"{field.Text}\" needs a string");
                case FilterField.Type:
                    return text is not null && AnnotationTypes.All.Contains(text)
                        ? new FilterValue.Text(text)
                        : TypeError($"\"{field.Text}\" must be one of {string.Join(", ", AnnotationTypes.All)};", separator: " ");
                case FilterField.Dataset or FilterField.Project or FilterField.Slice:
                    return text is not null && Guid.TryParse(text, out var uid) ? new FilterValue.Uid(uid) : TypeError($"\"{field.Text}\" needs a uid");
                case FilterField.CreatedAt or FilterField.UpdatedAt:
                    return text is not null && TryParseTimestamp(text, out var utc)
                        ? new FilterValue.Timestamp(utc)
                        : TypeError($"\"{field.Text}\" needs an ISO 8601 timestamp such as \"2025-01-01T00:00:00Z\"");
                case FilterField.AnnotationCount:
                    return token.Kind == TokenKind.Number ? new FilterValue.Number(token.Number) : TypeError($"\"{field.Text}\" needs a number");
            }

            // metadata.* and attributes.* hold any JSON value; only ordering needs a number.
            if (token.Kind == TokenKind.Number)
                return new FilterValue.Number(token.Number);
            if (IsOrdering(op))
                return TypeError($"Operator \"{OperatorText(op)}\" needs a number");
            if (text is not null)
                return new FilterValue.Text(text);
            return new FilterValue.Boolean(IsKeyword(token, "TRUE"));
        }

        private FieldReference? ParseField(FilterToken token)
        {
            var written = Raw(token);
            foreach (var (prefix, field, example) in new[] { ("metadata", FilterField.Metadata, "metadata.weather"), ("attributes", FilterField.Attribute, "attributes.occluded") })
            {
                if (written == prefix || written == prefix + ".")
                    return FailField($"\"{prefix}\" needs a key, e.g. {example}, at position {token.Position}.");
                if (!written.StartsWith(prefix + ".", StringComparison.Ordinal))
                    continue;

                var keys = written[(prefix.Length + 1)..].Split('.');
                if (keys.Contains(""))
                    return FailField($"\"{FilterText.Shorten(written)}\" has an empty key at position {token.Position}; separate keys with single dots, e.g. metadata.camera.model.");
                return new FieldReference(field, keys, written);
            }

            if (PlainFields.TryGetValue(written, out var plain))
                return new FieldReference(plain, [], written);

            var suggestion = FilterText.Suggest(written, FieldNames);
            return FailField(suggestion is null
                ? $"Unknown field \"{FilterText.Shorten(written)}\" at position {token.Position}; expected one of {string.Join(", ", FieldNames)}."
                : $"Unknown field \"{FilterText.Shorten(written)}\" at position {token.Position}; did you mean \"{suggestion}\"?");

            FieldReference? FailField(string message)
            {
                Fail(token, message);
                return null;
            }
        }

        private static ComparisonOperator ToComparison(Operator op) => op switch
        {
            Operator.Equal => ComparisonOperator.Equal,
            Operator.NotEqual => ComparisonOperator.NotEqual,
            Operator.Less => ComparisonOperator.Less,
            Operator.LessOrEqual => ComparisonOperator.LessOrEqual,
            Operator.Greater => ComparisonOperator.Greater,
            _ => ComparisonOperator.GreaterOrEqual,
        };

        private bool IsLiteral(FilterToken token) =>
            token.Kind is TokenKind.String or TokenKind.Number
            || IsKeyword(token, "TRUE") || IsKeyword(token, "FALSE") || IsKeyword(token, "NULL");

        private bool IsKeyword(FilterToken token, string keyword) =>
            token.Kind == TokenKind.Word && text.AsSpan(token.Start, token.Length).Equals(keyword, StringComparison.OrdinalIgnoreCase);

        private bool IsAnyKeyword(FilterToken token)
        {
            foreach (var keyword in Keywords)
            {
                if (IsKeyword(token, keyword))
                    return true;
            }

            return false;
        }

        private string Raw(FilterToken token) => text.Substring(token.Start, token.Length);

        /// <summary>A token as quoted in "found ..." messages; string literals already carry their quotes.</summary>
        private string Describe(FilterToken token) => token.Kind switch
        {
            TokenKind.End => "end of input",
            TokenKind.String => FilterText.Shorten(Raw(token)),
            _ => $"\"{FilterText.Shorten(Raw(token))}\"",
        };

        /// <summary>A literal as written, for "got ..." messages: strings keep their quotes, numbers and keywords have none.</summary>
        private string Shown(FilterToken token) => FilterText.Shorten(Raw(token));

        private FilterNode? ExpectedValue(string after) =>
            Fail(_token, $"Expected a value after \"{after}\" at position {_token.Position}, found {Describe(_token)}.");

        private FilterNode? DepthError() =>
            Fail(_token, $"The filter nests deeper than {MaxDepth} levels at position {_token.Position}.");

        private FilterValue? NullError()
        {
            Fail(_token, $"null can only be compared with = or != on metadata.<key> or attributes.<key> (position {_token.Position}).");
            return null;
        }

        private FilterValue? TypeError(string needs, string separator = ", ")
        {
            Fail(_token, $"{needs}{separator}got {Shown(_token)} at position {_token.Position}.");
            return null;
        }

        private void Advance()
        {
            _token = _lexer.Next();
            if (_token.Kind == TokenKind.Error)
                Error ??= _lexer.Error;
        }

        /// <summary>Records the first error only: once the lexer has failed, later "expected ..." complaints about
        /// its error token would be noise.</summary>
        private FilterNode? Fail(FilterToken token, string message)
        {
            Error ??= new FilterError(token.Position, message);
            return null;
        }
    }
}
