using System.Globalization;
using System.Text;

namespace Annex.Server.Features.Exports.Filtering;

internal enum TokenKind
{
    End,
    Word,
    String,
    Number,
    Equal,
    NotEqual,
    Less,
    LessOrEqual,
    Greater,
    GreaterOrEqual,
    Tilde,
    LeftParen,
    RightParen,
    Comma,
    Error,
}

/// <summary>A token; <see cref="Start"/> is 0-based. <see cref="Text"/> is the decoded value of a string literal.</summary>
internal readonly record struct FilterToken(TokenKind Kind, int Start, int Length, string? Text = null, double Number = 0)
{
    public int Position => Start + 1;
}

/// <summary>Produces tokens on demand, so an error late in the text never hides an earlier one.
/// Every loop moves forward, so lexing is linear; once an error is found it is returned forever.</summary>
internal sealed class FilterLexer(string text)
{
    private int _next;
    private FilterToken? _failed;

    public FilterError? Error { get; private set; }

    public FilterToken Next()
    {
        if (_failed is { } failed)
            return failed;

        while (_next < text.Length && IsSpace(text[_next]))
            _next++;
        if (_next >= text.Length)
            return new FilterToken(TokenKind.End, text.Length, 0);

        var start = _next;
        var c = text[start];
        switch (c)
        {
            case '"':
                return LexString(start);
            case '=':
                return Symbol(TokenKind.Equal, start, 1);
            case '~':
                return Symbol(TokenKind.Tilde, start, 1);
            case '(':
                return Symbol(TokenKind.LeftParen, start, 1);
            case ')':
                return Symbol(TokenKind.RightParen, start, 1);
            case ',':
                return Symbol(TokenKind.Comma, start, 1);
            case '<':
                return FollowedByEquals(start) ? Symbol(TokenKind.LessOrEqual, start, 2) : Symbol(TokenKind.Less, start, 1);
            case '>':
                return FollowedByEquals(start) ? Symbol(TokenKind.GreaterOrEqual, start, 2) : Symbol(TokenKind.Greater, start, 1);
            case '!' when FollowedByEquals(start):
                return Symbol(TokenKind.NotEqual, start, 2);
        }

        if (c == '-' || char.IsAsciiDigit(c))
            return LexNumber(start);
        if (char.IsAsciiLetter(c) || c == '_')
        {
            var end = start + 1;
            while (end < text.Length && IsWordChar(text[end]))
                end++;
            return Symbol(TokenKind.Word, start, end - start);
        }

        return UnexpectedCharacter(start);
    }

    public static bool IsSpace(char c) => c is ' ' or '\t' or '\r' or '\n';

    /// <summary>Field names and metadata keys: letters, digits, <c>_</c>, <c>-</c>, with dots between keys.</summary>
    private static bool IsWordChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '_' or '-' or '.';

    private bool FollowedByEquals(int start) => start + 1 < text.Length && text[start + 1] == '=';

    private FilterToken Symbol(TokenKind kind, int start, int length)
    {
        _next = start + length;
        return new FilterToken(kind, start, length);
    }

    private FilterToken UnexpectedCharacter(int start)
    {
        var c = text[start];
        string shown;
        if (char.IsHighSurrogate(c) && start + 1 < text.Length && char.IsLowSurrogate(text[start + 1]))
            shown = $"\"{text.Substring(start, 2)}\"";
        else if (char.IsControl(c) || char.IsSurrogate(c) || char.IsWhiteSpace(c))
            // Invisible characters would make the message unreadable, so name them by code point.
            shown = $"character U+{(int)c:X4}";
        else
            shown = $"\"{c}\"";
        return Fail(start, $"Unexpected {shown} at position {start + 1}.");
    }

    private FilterToken LexNumber(int start)
    {
        // Take the whole run of characters that could belong to a number, then check it against the grammar,
        // so "12abc" or "1.2.3" is reported as one bad number rather than as two confusing tokens.
        var end = start + 1;
        while (end < text.Length)
        {
            var c = text[end];
            if (char.IsAsciiLetterOrDigit(c) || c is '_' or '.' || (c is '+' or '-' && text[end - 1] is 'e' or 'E'))
                end++;
            else
                break;
        }

        var raw = text.Substring(start, end - start);
        if (!IsNumberSyntax(raw))
            return Fail(start, $"Invalid number \"{FilterText.Shorten(raw)}\" at position {start + 1}.");

        var value = double.Parse(raw, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
        if (!double.IsFinite(value))
            return Fail(start, $"The number {FilterText.Shorten(raw)} at position {start + 1} is out of range.");

        _next = end;
        return new FilterToken(TokenKind.Number, start, end - start, Number: value);
    }

    /// <summary><c>-?digits(.digits)?([eE][+-]?digits)?</c>, checked by hand so no regex runs on user input.</summary>
    private static bool IsNumberSyntax(string s)
    {
        var i = 0;
        if (i < s.Length && s[i] == '-')
            i++;
        if (!Digits(s, ref i))
            return false;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            if (!Digits(s, ref i))
                return false;
        }

        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '+' or '-')
                i++;
            if (!Digits(s, ref i))
                return false;
        }

        return i == s.Length;

        static bool Digits(string s, ref int i)
        {
            var first = i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
                i++;
            return i > first;
        }
    }

    private FilterToken LexString(int start)
    {
        var value = new StringBuilder();
        var i = start + 1;
        while (true)
        {
            if (i >= text.Length)
                return Unterminated(start);

            var c = text[i];
            if (c == '"')
            {
                _next = i + 1;
                return new FilterToken(TokenKind.String, start, i + 1 - start, value.ToString());
            }

            if (c == '\0')
                return NulCharacter(i);

            if (c != '\\')
            {
                value.Append(c);
                i++;
                continue;
            }

            if (i + 1 >= text.Length)
                return Unterminated(start);

            switch (text[i + 1])
            {
                case '"':
                    value.Append('"');
                    i += 2;
                    break;
                case '\\':
                    value.Append('\\');
                    i += 2;
                    break;
                case 'n':
                    value.Append('\n');
                    i += 2;
                    break;
                case 't':
                    value.Append('\t');
                    i += 2;
                    break;
                case 'u':
                    var unit = ReadUnicodeEscape(i, out var running);
                    if (running)
                        return Unterminated(start);
                    if (unit is not { } u)
                        return InvalidEscape(i);
                    if (u == '\0')
                        return NulCharacter(i);
                    if (char.IsLowSurrogate(u))
                        return InvalidEscape(i);
                    if (char.IsHighSurrogate(u))
                    {
                        // A lone surrogate is not text; accept it only as the first half of an escaped pair.
                        var low = ReadUnicodeEscape(i + 6, out running);
                        if (running)
                            return Unterminated(start);
                        if (low is not { } l || !char.IsLowSurrogate(l))
                            return InvalidEscape(i);
                        value.Append(u).Append(l);
                        i += 12;
                    }
                    else
                    {
                        value.Append(u);
                        i += 6;
                    }

                    break;
                default:
                    return InvalidEscape(i);
            }
        }
    }

    /// <summary>Reads <c>\uXXXX</c> at <paramref name="at"/>; <paramref name="ranOut"/> is set when the text ends
    /// inside it (which makes the string unterminated rather than the escape invalid).</summary>
    private char? ReadUnicodeEscape(int at, out bool ranOut)
    {
        ranOut = false;
        if (at + 1 >= text.Length)
        {
            ranOut = at >= text.Length || text[at] == '\\';
            return null;
        }

        if (text[at] != '\\' || text[at + 1] != 'u')
            return null;

        var code = 0;
        for (var k = 0; k < 4; k++)
        {
            var p = at + 2 + k;
            if (p >= text.Length)
            {
                ranOut = true;
                return null;
            }

            var digit = HexValue(text[p]);
            if (digit < 0)
                return null;
            code = (code * 16) + digit;
        }

        return (char)code;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    // PostgreSQL's text cannot hold it: such a filter would pass here and fail the export there.
    private FilterToken NulCharacter(int at) => Fail(at, $"A string cannot hold the NUL character (U+0000), found at position {at + 1}.");

    private FilterToken Unterminated(int start) => Fail(start, $"Unterminated string starting at position {start + 1}.");

    private FilterToken InvalidEscape(int at)
    {
        // Show the backslash, the letter and, for \u, the hex digits that were there.
        var end = at + 2;
        if (text[at + 1] == 'u')
        {
            while (end < text.Length && end < at + 6 && HexValue(text[end]) >= 0)
                end++;
        }

        return Fail(at, $"Invalid escape \"{text[at..end]}\" at position {at + 1}.");
    }

    private FilterToken Fail(int start, string message)
    {
        Error = new FilterError(start + 1, message);
        var token = new FilterToken(TokenKind.Error, start, 0);
        _failed = token;
        return token;
    }
}
