using System.Diagnostics;
using System.Text;
using Annex.Server.Features.Exports.Filtering;
using Xunit;

namespace Annex.Server.Tests.Filtering;

public sealed class FilterParserTests
{
    private const string Uid = "550e8400-e29b-41d4-a716-446655440000";

    public static TheoryData<string, string> Conditions => new()
    {
        // label and ref_id: =, !=, IN, ~ with strings.
        { """label = "car" """, """(= label "car")""" },
        { """label != "car" """, """(!= label "car")""" },
        { """label IN ("car", "truck")""", """(IN label "car" "truck")""" },
        { """label IN ("car")""", """(IN label "car")""" },
        { """label ~ "car*" """, """(~ label "car*")""" },
        { """ref_id = "frame-0001" """, """(= ref_id "frame-0001")""" },
        { """ref_id ~ "frame-?" """, """(~ ref_id "frame-?")""" },
        { """ref_id IN ("a", "b")""", """(IN ref_id "a" "b")""" },
        { """label = "" """, """(= label "")""" },
        // type: the annotation types.
        { """type = "polygon" """, """(= type "polygon")""" },
        { """type != "keypoints" """, """(!= type "keypoints")""" },
        { """type IN ("bounding_box", "polyline", "classification", "cuboid")""", """(IN type "bounding_box" "polyline" "classification" "cuboid")""" },
        // dataset, project, slice: uids.
        { $"""dataset = "{Uid}" """, $"(= dataset uid:{Uid})" },
        { $"""project != "{Uid.ToUpperInvariant()}" """, $"(!= project uid:{Uid})" },
        { $"""slice IN ("{Uid}", "00000000-0000-0000-0000-000000000001")""", $"(IN slice uid:{Uid} uid:00000000-0000-0000-0000-000000000001)" },
        // created_at, updated_at: timestamps with an offset or Z, or a plain date, stored as UTC.
        { """created_at = "2025-01-01" """, "(= created_at ts:2025-01-01T00:00:00.0000000Z)" },
        { """created_at != "2025-01-01T10:00:00Z" """, "(!= created_at ts:2025-01-01T10:00:00.0000000Z)" },
        { """created_at < "2025-01-01T10:00:00+02:00" """, "(< created_at ts:2025-01-01T08:00:00.0000000Z)" },
        { """created_at <= "2025-06-30T23:59-05:00" """, "(<= created_at ts:2025-07-01T04:59:00.0000000Z)" },
        { """updated_at > "2025-01-01T10:00:00.123Z" """, "(> updated_at ts:2025-01-01T10:00:00.1230000Z)" },
        { """updated_at >= "2025-01-01t10:00:00z" """, "(>= updated_at ts:2025-01-01T10:00:00.0000000Z)" },
        { """updated_at IN ("2025-01-01", "2025-01-02T00:00:00Z")""", "(IN updated_at ts:2025-01-01T00:00:00.0000000Z ts:2025-01-02T00:00:00.0000000Z)" },
        // annotation_count: numbers with every comparison.
        { "annotation_count = 5", "(= annotation_count 5)" },
        { "annotation_count != 0", "(!= annotation_count 0)" },
        { "annotation_count < 10", "(< annotation_count 10)" },
        { "annotation_count <= 10", "(<= annotation_count 10)" },
        { "annotation_count > -1", "(> annotation_count -1)" },
        { "annotation_count >= 2.5", "(>= annotation_count 2.5)" },
        { "annotation_count IN (1, 2, 3)", "(IN annotation_count 1 2 3)" },
        // metadata.* and attributes.*: any literal for equality, numbers for ordering, strings for ~, EXISTS.
        { """metadata.weather = "sunny" """, """(= metadata.weather "sunny")""" },
        { """metadata.camera.model != "X100" """, """(!= metadata.camera.model "X100")""" },
        { "metadata.score < 0.5", "(< metadata.score 0.5)" },
        { "metadata.score <= 1", "(<= metadata.score 1)" },
        { "metadata.score > 2", "(> metadata.score 2)" },
        { "metadata.score >= 1e3", "(>= metadata.score 1000)" },
        { "metadata.flag = true", "(= metadata.flag true)" },
        { "metadata.flag != false", "(!= metadata.flag false)" },
        { "metadata.flag = null", "(= metadata.flag null)" },
        { "metadata.flag != null", "(!= metadata.flag null)" },
        { "metadata.score = 3", "(= metadata.score 3)" },
        { """metadata.x IN ("a", 1, true, false)""", """(IN metadata.x "a" 1 true false)""" },
        { """metadata.x ~ "a*b?" """, """(~ metadata.x "a*b?")""" },
        { "metadata.weather EXISTS", "(EXISTS metadata.weather)" },
        { "attributes.occluded = true", "(= attributes.occluded true)" },
        { "attributes.color EXISTS", "(EXISTS attributes.color)" },
        { """attributes.a-b_c.D9 = "x" """, """(= attributes.a-b_c.D9 "x")""" },
        { "metadata.2d.x_y = 1", "(= metadata.2d.x_y 1)" },
        { """attributes.size ~ "L*" """, """(~ attributes.size "L*")""" },
    };

    public static TheoryData<string, string> Expressions => new()
    {
        // Keywords are case-insensitive.
        { """label = "a" and label = "b" """, """(AND (= label "a") (= label "b"))""" },
        { """label = "a" Or label = "b" """, """(OR (= label "a") (= label "b"))""" },
        { """nOt label = "a" """, """(NOT (= label "a"))""" },
        { """label in ("a")""", """(IN label "a")""" },
        { "metadata.x exists", "(EXISTS metadata.x)" },
        { "metadata.x Exists", "(EXISTS metadata.x)" },
        { "metadata.x = TRUE", "(= metadata.x true)" },
        { "metadata.x = False", "(= metadata.x false)" },
        { "metadata.x = nUlL", "(= metadata.x null)" },
        // NOT binds tightest, then AND, then OR.
        { """label = "a" OR label = "b" AND NOT label = "c" """, """(OR (= label "a") (AND (= label "b") (NOT (= label "c"))))""" },
        { """label = "a" AND label = "b" OR label = "c" """, """(OR (AND (= label "a") (= label "b")) (= label "c"))""" },
        { """NOT label = "a" AND label = "b" """, """(AND (NOT (= label "a")) (= label "b"))""" },
        { """NOT label = "a" OR label = "b" """, """(OR (NOT (= label "a")) (= label "b"))""" },
        { """NOT NOT label = "a" """, """(NOT (NOT (= label "a")))""" },
        // AND and OR are left-associative.
        { """label = "a" AND label = "b" AND label = "c" """, """(AND (AND (= label "a") (= label "b")) (= label "c"))""" },
        { """label = "a" OR label = "b" OR label = "c" """, """(OR (OR (= label "a") (= label "b")) (= label "c"))""" },
        // Parentheses group and leave no node of their own.
        { """(label = "a" OR label = "b") AND label = "c" """, """(AND (OR (= label "a") (= label "b")) (= label "c"))""" },
        { """label = "a" AND (label = "b" OR label = "c")""", """(AND (= label "a") (OR (= label "b") (= label "c")))""" },
        { """NOT (label = "a" OR label = "b")""", """(NOT (OR (= label "a") (= label "b")))""" },
        { """((label = "a"))""", """(= label "a")""" },
        { """(NOT (metadata.x EXISTS))""", "(NOT (EXISTS metadata.x))" },
        { """label = "car" AND NOT metadata.weather EXISTS""", """(AND (= label "car") (NOT (EXISTS metadata.weather)))""" },
        // Whitespace is optional between tokens and may be any of space, tab, CR, LF.
        { """label="car"AND(type="polygon")""", """(AND (= label "car") (= type "polygon"))""" },
        { "annotation_count>=2 AND metadata.x!=null", "(AND (>= annotation_count 2) (!= metadata.x null))" },
        { "\r\n\tlabel\t=\r\n\"car\"\n OR\tmetadata.x EXISTS  ", """(OR (= label "car") (EXISTS metadata.x))""" },
        { """label IN("a","b")""", """(IN label "a" "b")""" },
        // String escapes.
        { """label = "a\"b" """, """(= label "a\"b")""" },
        { """label = "a\\b" """, """(= label "a\\b")""" },
        { """label = "line\nnext" """, """(= label "line\nnext")""" },
        { """label = "tab\there" """, """(= label "tab\there")""" },
        { """label = "\u0041\u00e9\u00C9" """, """(= label "AéÉ")""" },
        { """label = "\uD83D\uDE00" """, """(= label "\uD83D\uDE00")""" },
        { """label = "a b*? é" """, """(= label "a b*? é")""" },
        { """label = "\\\"" """, """(= label "\\\"")""" },
        // Numbers: sign, fraction, exponent.
        { "annotation_count = -3", "(= annotation_count -3)" },
        { "annotation_count = 1.5e2", "(= annotation_count 150)" },
        { "annotation_count = 2E-1", "(= annotation_count 0.2)" },
        { "annotation_count = -0.5e+1", "(= annotation_count -5)" },
        { "annotation_count = 007", "(= annotation_count 7)" },
        { "metadata.x = 0.000001", "(= metadata.x 1E-06)" },
        { "metadata.x IN (-1, 2.25, 3e0)", "(IN metadata.x -1 2.25 3)" },
    };

    [Theory]
    [MemberData(nameof(Conditions))]
    [MemberData(nameof(Expressions))]
    public void Parses(string text, string expected)
    {
        Assert.True(FilterParser.TryParse(text, out var node, out var error), error?.Message);
        Assert.Null(error);
        Assert.Equal(expected, FilterPrinter.Print(node));
    }

    public static TheoryData<string, string> Positions => new()
    {
        { """label = "a" OR NOT (type = "polygon" AND metadata.x EXISTS)""", """(OR@1 (=@1 label "a") (NOT@16 (AND@21 (=@21 type "polygon") (EXISTS@42 metadata.x))))""" },
        { """  (label IN ("a"))  AND annotation_count ~""".Replace(" ~", " > 1", StringComparison.Ordinal), """(AND@4 (IN@4 label "a") (>@25 annotation_count 1))""" },
        { """NOT NOT label ~ "x*" """, """(NOT@1 (NOT@5 (~@9 label "x*")))""" },
    };

    [Theory]
    [MemberData(nameof(Positions))]
    public void NodesStartWhereTheirTextStarts(string text, string expected)
    {
        Assert.True(FilterParser.TryParse(text, out var node, out var error), error?.Message);
        Assert.Equal(expected, FilterPrinter.Print(node, positions: true));
    }

    [Fact]
    public void KeyedFieldsKeepTheirPath()
    {
        Assert.True(FilterParser.TryParse("""metadata.camera.model = "X100" """, out var node, out _));
        var field = Assert.IsType<FilterNode.Compare>(node).Field;
        Assert.Equal(FilterField.Metadata, field.Field);
        Assert.Equal(["camera", "model"], field.Path);
        Assert.Equal("metadata.camera.model", field.Text);

        Assert.True(FilterParser.TryParse("attributes.occluded EXISTS", out node, out _));
        field = Assert.IsType<FilterNode.Exists>(node).Field;
        Assert.Equal(FilterField.Attribute, field.Field);
        Assert.Equal(["occluded"], field.Path);

        Assert.True(FilterParser.TryParse("""ref_id = "x" """, out node, out _));
        field = Assert.IsType<FilterNode.Compare>(node).Field;
        Assert.Equal(FilterField.RefId, field.Field);
        Assert.Empty(field.Path);
    }

    [Fact]
    public void TimestampsAreUtc()
    {
        Assert.True(FilterParser.TryParse("""created_at > "2025-03-04T05:06:07-01:30" """, out var node, out _));
        var value = Assert.IsType<FilterValue.Timestamp>(Assert.IsType<FilterNode.Compare>(node).Value);
        Assert.Equal(DateTimeKind.Utc, value.Value.Kind);
        Assert.Equal(new DateTime(2025, 3, 4, 6, 36, 7, DateTimeKind.Utc), value.Value);
    }

    [Fact]
    public void FieldNamesListsEveryField()
    {
        Assert.Equal(
            ["label", "type", "attributes.<key>", "ref_id", "metadata.<key>", "dataset", "project", "slice", "created_at", "updated_at", "annotation_count"],
            FilterParser.FieldNames);
    }

    public static TheoryData<string, int, string> Errors => new()
    {
        // Unknown fields, with a suggestion when one is close.
        { """lable = "car" """, 1, "Unknown field \"lable\" at position 1; did you mean \"label\"?" },
        { """Label = "car" """, 1, "Unknown field \"Label\" at position 1; did you mean \"label\"?" },
        { """label = "a" AND tpye = "cuboid" """, 17, "Unknown field \"tpye\" at position 17; did you mean \"type\"?" },
        { """metdata.weather = "x" """, 1, "Unknown field \"metdata.weather\" at position 1; did you mean \"metadata.weather\"?" },
        { "annot > 1", 1, "Unknown field \"annot\" at position 1; did you mean \"annotation_count\"?" },
        { "meta EXISTS", 1, "Unknown field \"meta\" at position 1; did you mean \"metadata.<key>\"?" },
        { "createdat > 1", 1, "Unknown field \"createdat\" at position 1; did you mean \"created_at\"?" },
        { "xyz = 1", 1, "Unknown field \"xyz\" at position 1; expected one of label, type, attributes.<key>, ref_id, metadata.<key>, dataset, project, slice, created_at, updated_at, annotation_count." },
        { "metadata = 1", 1, "\"metadata\" needs a key, e.g. metadata.weather, at position 1." },
        { "metadata. = 1", 1, "\"metadata\" needs a key, e.g. metadata.weather, at position 1." },
        { """label = "a" AND attributes EXISTS""", 17, "\"attributes\" needs a key, e.g. attributes.occluded, at position 17." },
        { "metadata.a..b = 1", 1, "\"metadata.a..b\" has an empty key at position 1; separate keys with single dots, e.g. metadata.camera.model." },
        { "metadata.a. = 1", 1, "\"metadata.a.\" has an empty key at position 1; separate keys with single dots, e.g. metadata.camera.model." },
        // Missing pieces.
        { "label car", 7, "Expected an operator (=, !=, <, <=, >, >=, IN, ~, EXISTS) after \"label\" at position 7, found \"car\"." },
        { "label", 6, "Expected an operator (=, !=, <, <=, >, >=, IN, ~, EXISTS) after \"label\" at position 6, found end of input." },
        { """metadata.x "a" """, 12, "Expected an operator (=, !=, <, <=, >, >=, IN, ~, EXISTS) after \"metadata.x\" at position 12, found \"a\"." },
        { "label = ", 9, "Expected a value after \"=\" at position 9, found end of input." },
        { "label = car", 9, "Expected a value after \"=\" at position 9, found \"car\"." },
        { """label == "a" """, 8, "Expected a value after \"=\" at position 8, found \"=\"." },
        { "annotation_count >= )", 21, "Expected a value after \">=\" at position 21, found \")\"." },
        { "label ~", 8, "Expected a value after \"~\" at position 8, found end of input." },
        { "label IN ()", 11, "Expected a value after \"(\" at position 11, found \")\"." },
        { """label IN ("a",)""", 15, "Expected a value after \",\" at position 15, found \")\"." },
        { """label IN "a" """, 10, "Expected \"(\" after \"IN\" at position 10, found \"a\"." },
        { """label IN ("a" "b")""", 15, "Expected \",\" or \")\" at position 15, found \"b\"." },
        { """label IN ("a" """, 15, "Expected \",\" or \")\" at position 15, found end of input." },
        { """label = "a" AND""", 16, "Expected a field after \"AND\" at position 16, found end of input." },
        { """label = "a" OR OR label = "b" """, 16, "Expected a field after \"OR\" at position 16, found \"OR\"." },
        { "NOT", 4, "Expected a field after \"NOT\" at position 4, found end of input." },
        { """= "a" """, 1, "Expected a field at position 1, found \"=\"." },
        { "AND = 1", 1, "Expected a field at position 1, found \"AND\"." },
        { "true", 1, "Expected a field at position 1, found \"true\"." },
        { "()", 2, "Expected a field after \"(\" at position 2, found \")\"." },
        // Strings.
        { """label = "car""", 9, "Unterminated string starting at position 9." },
        { "label = \"car\\", 9, "Unterminated string starting at position 9." },
        { "label = \"car\\\"", 9, "Unterminated string starting at position 9." },
        { """label = "\u00""", 9, "Unterminated string starting at position 9." },
        { """label = "ca\qr" """, 12, "Invalid escape \"\\q\" at position 12." },
        { """label = "a\/" """, 11, "Invalid escape \"\\/\" at position 11." },
        { """label = "\u12G4" """, 10, "Invalid escape \"\\u12\" at position 10." },
        { """label = "\uD800" """, 10, "Invalid escape \"\\uD800\" at position 10." },
        { """label = "\uDE00\uD83D" """, 10, "Invalid escape \"\\uDE00\" at position 10." },
        { """label = "a\u0000b" """, 11, "A string cannot hold the NUL character (U+0000), found at position 11." },
        { "metadata.time ~ \"n\0*\"", 19, "A string cannot hold the NUL character (U+0000), found at position 19." },
        // Numbers.
        { "annotation_count = 1e999", 20, "The number 1e999 at position 20 is out of range." },
        { "annotation_count = 1.", 20, "Invalid number \"1.\" at position 20." },
        { "annotation_count = 12abc", 20, "Invalid number \"12abc\" at position 20." },
        { "annotation_count = 1.2.3", 20, "Invalid number \"1.2.3\" at position 20." },
        { "annotation_count = - 1", 20, "Invalid number \"-\" at position 20." },
        // Stray tokens and characters.
        { """label = "a" foo""", 13, "Unexpected \"foo\" at position 13; expected AND, OR or the end of the filter." },
        { """label = "a" "b" """, 13, "Unexpected \"b\" at position 13; expected AND, OR or the end of the filter." },
        { """label = "a")""", 12, "Unexpected \")\" at position 12." },
        { """label = 'car'""", 9, "Unexpected \"'\" at position 9." },
        { """label !~ "a" """, 7, "Unexpected \"!\" at position 7." },
        { "label = \u0001", 9, "Unexpected character U+0001 at position 9." },
        { "label\u00a0= \"a\"", 6, "Unexpected character U+00A0 at position 6." },
        { "(label = \"abcdefgh\"", 20, "Expected \")\" at position 20 to close \"(\" at position 1, found end of input." },
        { """(label = "a" OR (type = "cuboid") x""", 35, "Expected \")\" at position 35 to close \"(\" at position 1, found \"x\"." },
        // Blank filters.
        { "", 1, "The filter is empty." },
        { " \t\r\n ", 1, "The filter is empty." },
        // Type rules.
        { """created_at = "yesterday" """, 14, "\"created_at\" needs an ISO 8601 timestamp such as \"2025-01-01T00:00:00Z\", got \"yesterday\" at position 14." },
        { """created_at = "2025-01-01T00:00:00" """, 14, "\"created_at\" needs an ISO 8601 timestamp such as \"2025-01-01T00:00:00Z\", got \"2025-01-01T00:00:00\" at position 14." },
        { """updated_at > "2025-13-01" """, 14, "\"updated_at\" needs an ISO 8601 timestamp such as \"2025-01-01T00:00:00Z\", got \"2025-13-01\" at position 14." },
        { "updated_at > 20250101", 14, "\"updated_at\" needs an ISO 8601 timestamp such as \"2025-01-01T00:00:00Z\", got 20250101 at position 14." },
        { """dataset = "abc" """, 11, "\"dataset\" needs a uid, got \"abc\" at position 11." },
        { $"""slice IN ("{Uid}", "nope")""", 51, "\"slice\" needs a uid, got \"nope\" at position 51." },
        { """type = "box" """, 8, "\"type\" must be one of bounding_box, polygon, polyline, keypoints, classification, cuboid; got \"box\" at position 8." },
        { """type = "Polygon" """, 8, "\"type\" must be one of bounding_box, polygon, polyline, keypoints, classification, cuboid; got \"Polygon\" at position 8." },
        { "type = 5", 8, "\"type\" must be one of bounding_box, polygon, polyline, keypoints, classification, cuboid; got 5 at position 8." },
        { """label < "a" """, 7, "Operator \"<\" does not apply to \"label\" at position 7; use =, !=, IN or ~." },
        { """type ~ "poly*" """, 6, "Operator \"~\" does not apply to \"type\" at position 6; use =, != or IN." },
        { """project >= "a" """, 9, "Operator \">=\" does not apply to \"project\" at position 9; use =, != or IN." },
        { """annotation_count ~ "5" """, 18, "Operator \"~\" does not apply to \"annotation_count\" at position 18; use =, !=, <, <=, >, >= or IN." },
        { """created_at ~ "2025*" """, 12, "Operator \"~\" does not apply to \"created_at\" at position 12; use =, !=, <, <=, >, >= or IN." },
        { """annotation_count = "five" """, 20, "\"annotation_count\" needs a number, got \"five\" at position 20." },
        { "annotation_count IN (1, true)", 25, "\"annotation_count\" needs a number, got true at position 25." },
        { "label = 5", 9, "\"label\" needs a string, got 5 at position 9." },
        { "ref_id IN (\"a\", FALSE)", 17, "\"ref_id\" needs a string, got FALSE at position 17." },
        { """metadata.x < "high" """, 14, "Operator \"<\" needs a number, got \"high\" at position 14." },
        { "attributes.x >= true", 17, "Operator \">=\" needs a number, got true at position 17." },
        { "metadata.x ~ 5", 14, "Operator \"~\" needs a string pattern such as \"car*\", got 5 at position 14." },
        { "label ~ true", 9, "Operator \"~\" needs a string pattern such as \"car*\", got true at position 9." },
        { "label EXISTS", 7, "EXISTS applies only to metadata.<key> and attributes.<key>, not \"label\", at position 7." },
        { "annotation_count exists", 18, "EXISTS applies only to metadata.<key> and attributes.<key>, not \"annotation_count\", at position 18." },
        { "metadata.abcde < null", 18, "null can only be compared with = or != on metadata.<key> or attributes.<key> (position 18)." },
        { "label = null", 9, "null can only be compared with = or != on metadata.<key> or attributes.<key> (position 9)." },
        { "metadata.x IN (1, NULL)", 19, "null can only be compared with = or != on metadata.<key> or attributes.<key> (position 19)." },
        { "metadata.x ~ null", 14, "null can only be compared with = or != on metadata.<key> or attributes.<key> (position 14)." },
        // The first error wins, even when a later one is in the lexer's territory.
        { """lable = "unterminated""", 1, "Unknown field \"lable\" at position 1; did you mean \"label\"?" },
        { """label = "a" $ = "b""", 13, "Unexpected \"$\" at position 13." },
    };

    [Theory]
    [MemberData(nameof(Errors))]
    public void Rejects(string text, int position, string message)
    {
        Assert.False(FilterParser.TryParse(text, out var node, out var error));
        Assert.Null(node);
        Assert.NotNull(error);
        Assert.Equal(message, error.Message);
        Assert.Equal(position, error.Position);
        AssertNamesPosition(error);
    }

    [Fact]
    public void LongUnknownFieldsAreShortenedInTheMessage()
    {
        var field = new string('x', 100);
        Assert.False(FilterParser.TryParse(field + " = 1", out _, out var error));
        Assert.StartsWith($"Unknown field \"{new string('x', 37)}...\" at position 1; expected one of ", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LengthIsLimited()
    {
        var atLimit = "label = \"" + new string('a', FilterParser.MaxLength - 10) + "\"";
        Assert.Equal(FilterParser.MaxLength, atLimit.Length);
        Assert.True(FilterParser.TryParse(atLimit, out _, out _));

        Assert.False(FilterParser.TryParse(atLimit + " ", out _, out var error));
        Assert.Equal(new FilterError(1, "The filter is longer than 10000 characters."), error);
    }

    public static TheoryData<string, int> TooDeep => new()
    {
        { new string('(', FilterParser.MaxLength), 65 },
        { string.Concat(Enumerable.Repeat("NOT ", FilterParser.MaxLength / 4)), 257 },
        { string.Concat(Enumerable.Repeat("NOT (", FilterParser.MaxLength / 5)), 161 },
        { new string('(', 64) + "NOT label = \"a\"" + new string(')', 64), 65 },
        { string.Concat(Enumerable.Repeat("NOT ", 65)) + "label = \"a\"", 257 },
    };

    [Theory]
    [MemberData(nameof(TooDeep))]
    public void DepthIsLimited(string text, int position)
    {
        var clock = Stopwatch.StartNew();
        Assert.False(FilterParser.TryParse(text, out _, out var error));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        Assert.Equal(new FilterError(position, $"The filter nests deeper than 64 levels at position {position}."), error);
    }

    [Fact]
    public void SixtyFourLevelsAreAllowed()
    {
        var parens = new string('(', 63) + "NOT label = \"a\"" + new string(')', 63);
        Assert.True(FilterParser.TryParse(parens, out var node, out var error), error?.Message);
        Assert.Equal("""(NOT (= label "a"))""", FilterPrinter.Print(node));

        var nots = string.Concat(Enumerable.Repeat("NOT ", 64)) + "label = \"a\"";
        Assert.True(FilterParser.TryParse(nots, out node, out error), error?.Message);
        Assert.Equal(string.Concat(Enumerable.Repeat("(NOT ", 64)) + """(= label "a")""" + new string(')', 64), FilterPrinter.Print(node));

        // Depth is nesting, not a count: many sibling groups are fine.
        var siblings = string.Join(" AND ", Enumerable.Repeat("(NOT (label = \"a\"))", 200));
        Assert.True(FilterParser.TryParse(siblings, out _, out error), error?.Message);
    }

    [Theory]
    [InlineData('(')]
    [InlineData('N')]
    public void HugeNestingFailsFastWithoutOverflowingTheStack(char kind)
    {
        var text = kind == '(' ? new string('(', 100_000) : string.Concat(Enumerable.Repeat("NOT ", 100_000));
        var clock = Stopwatch.StartNew();
        Assert.False(FilterParser.TryParse(text, out _, out var error));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
        // The length check comes first: the text is far over the limit before its depth matters.
        Assert.Equal(new FilterError(1, "The filter is longer than 10000 characters."), error);
    }

    [Fact]
    public void InListsAreLimited()
    {
        var thousand = Enumerable.Range(0, FilterParser.MaxInValues).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var text = "annotation_count IN (" + string.Join(", ", thousand) + ")";
        Assert.True(FilterParser.TryParse(text, out var node, out var error), error?.Message);
        Assert.Equal(FilterParser.MaxInValues, Assert.IsType<FilterNode.In>(node).Values.Count);

        var prefix = "annotation_count IN (" + string.Join(", ", thousand) + ", ";
        Assert.False(FilterParser.TryParse(prefix + "1000)", out _, out error));
        Assert.Equal(new FilterError(prefix.Length + 1, $"IN takes at most 1000 values (position {prefix.Length + 1})."), error);
    }

    [Fact]
    public void RandomInputNeverThrows()
    {
        string[] pieces =
        [
            "label", "type", "ref_id", "dataset", "project", "slice", "created_at", "updated_at", "annotation_count",
            "metadata.x", "attributes.a.b", "metadata", "metadata.", "lable", "AND", "or", "Not", "NOT", "IN", "in", "EXISTS",
            "true", "FALSE", "null", "=", "!=", "<", "<=", ">", ">=", "~", "!", "(", "(", ")", ")", ",", "\"car\"",
            "\"polygon\"", "\"2025-01-01\"", "\"2025-01-01T00:00:00Z\"", $"\"{Uid}\"", "1", "-2.5e3", "1e999", "1.",
            "\"", "\\", "\\u", "\\uD83D", "\"\\u00", "\"a\\", " ", " ", " ", "\t", "\n", "\r",
        ];
        var random = new Random(20_251_128);
        var clock = Stopwatch.StartNew();
        var accepted = 0;
        for (var round = 0; round < 20_000; round++)
        {
            // Half the inputs are token soup; the other half are valid filters with a few random edits,
            // which reach the deeper states (type checks, IN lists, nesting) more often.
            var input = round % 2 == 0 ? Soup(random, pieces) : Mutate(random, ValidFilter(random), pieces);
            if (FilterParser.TryParse(input, out var node, out var error))
            {
                Assert.Null(error);
                Assert.NotEmpty(FilterPrinter.Print(node));
                accepted++;
            }
            else
            {
                Assert.Null(node);
                Assert.NotNull(error);
                Assert.InRange(error.Position, 1, input.Length + 1);
                AssertNamesPosition(error);
            }
        }

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), $"took {clock.Elapsed}");
        Assert.True(accepted > 0, "no random input parsed; the generator is too noisy to exercise the parser");
    }

    private static readonly string[] ValidConditions =
    [
        "label = \"car\"", "type IN (\"polygon\", \"cuboid\")", "metadata.x EXISTS", "annotation_count >= 2",
        "created_at < \"2025-01-01T00:00:00Z\"", $"dataset = \"{Uid}\"", "attributes.a ~ \"b*\"", "metadata.y = null",
        "ref_id != \"r\\\"1\"", "metadata.z IN (1, \"a\", true)",
    ];

    private static string Soup(Random random, string[] pieces)
    {
        var text = new StringBuilder();
        var count = random.Next(0, 16);
        for (var i = 0; i < count; i++)
        {
            if (random.Next(5) == 0)
                text.Append((char)random.Next(0, 0xFFFF));
            else
                text.Append(pieces[random.Next(pieces.Length)]);
            if (random.Next(2) == 0)
                text.Append(' ');
        }

        return text.ToString();
    }

    private static string ValidFilter(Random random, int depth = 0)
    {
        var condition = depth < 3 && random.Next(4) == 0
            ? "(" + ValidFilter(random, depth + 1) + ")"
            : ValidConditions[random.Next(ValidConditions.Length)];
        if (random.Next(4) == 0)
            condition = "NOT " + condition;
        return depth >= 3 || random.Next(3) == 0 ? condition : condition + (random.Next(2) == 0 ? " AND " : " or ") + ValidFilter(random, depth + 1);
    }

    private static string Mutate(Random random, string text, string[] pieces)
    {
        var edits = random.Next(0, 3);
        for (var i = 0; i < edits && text.Length > 0; i++)
        {
            var at = random.Next(text.Length);
            text = random.Next(3) switch
            {
                0 => text.Remove(at, 1),
                1 => text.Insert(at, pieces[random.Next(pieces.Length)]),
                _ => text.Insert(at, ((char)random.Next(0, 0xFFFF)).ToString()),
            };
        }

        return text;
    }

    /// <summary>Every message points at its position, apart from the two that are about the whole filter.</summary>
    private static void AssertNamesPosition(FilterError error)
    {
        if (error.Message is "The filter is empty." or "The filter is longer than 10000 characters.")
            return;
        Assert.Contains($"position {error.Position}", error.Message, StringComparison.Ordinal);
    }
}
