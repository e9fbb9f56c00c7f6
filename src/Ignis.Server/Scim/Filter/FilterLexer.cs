using System.Globalization;
using System.Text;

namespace Ignis.Server.Scim.Filter;

public enum TokenKind { Word, String, Number, LParen, RParen, LBracket, RBracket, Dot, End }

public readonly record struct Token(TokenKind Kind, string Text, int Position, decimal Number = 0)
{
    public bool Is(string keyword) => Kind == TokenKind.Word && string.Equals(Text, keyword, StringComparison.OrdinalIgnoreCase);

    public override string ToString() => Kind switch
    {
        TokenKind.End => "the end of the expression",
        TokenKind.String => $"\"{Text}\"",
        _ => $"'{Text}'",
    };
}

/// <summary>
/// Splits a filter (RFC 7644 §3.4.2.2) or a PATCH path (§3.5.2) into tokens. A word is an attribute path
/// (with an optional schema URN prefix, colons and dots included), an operator or a literal; strings are
/// JSON strings with their escapes.
/// </summary>
public sealed class FilterLexer(string text, string errorType)
{
    private int _pos;

    public List<Token> Tokenize()
    {
        var tokens = new List<Token>();
        while (true)
        {
            var token = Next();
            tokens.Add(token);
            if (token.Kind == TokenKind.End) return tokens;
        }
    }

    private Token Next()
    {
        while (_pos < text.Length && text[_pos] is ' ' or '\t' or '\r' or '\n') _pos++;
        if (_pos >= text.Length) return new Token(TokenKind.End, "", _pos);
        var start = _pos;
        var c = text[_pos];
        switch (c)
        {
            case '(': _pos++; return new Token(TokenKind.LParen, "(", start);
            case ')': _pos++; return new Token(TokenKind.RParen, ")", start);
            case '[': _pos++; return new Token(TokenKind.LBracket, "[", start);
            case ']': _pos++; return new Token(TokenKind.RBracket, "]", start);
            case '.': _pos++; return new Token(TokenKind.Dot, ".", start);
            case '"': return ReadString();
        }
        if (c == '-' || char.IsAsciiDigit(c)) return ReadNumber();
        if (char.IsAsciiLetter(c) || c == '$') return ReadWord();
        throw Error($"Unexpected character '{c}' at position {start + 1}.");
    }

    private Token ReadWord()
    {
        var start = _pos;
        while (_pos < text.Length && (char.IsAsciiLetterOrDigit(text[_pos]) || text[_pos] is '_' or '-' or '$' or ':' or '.'))
            _pos++;
        // A word never ends with a dot: "emails[...].value" keeps its dot as a separate token.
        while (_pos > start + 1 && text[_pos - 1] == '.') _pos--;
        return new Token(TokenKind.Word, text[start.._pos], start);
    }

    private Token ReadNumber()
    {
        var start = _pos;
        if (text[_pos] == '-') _pos++;
        while (_pos < text.Length && (char.IsAsciiDigit(text[_pos]) || text[_pos] is '.' or 'e' or 'E' or '+' or '-')) _pos++;
        var raw = text[start.._pos];
        if (!decimal.TryParse(raw, NumberStyles.Float, CultureInfo.InvariantCulture, out var value))
            throw Error($"'{raw}' at position {start + 1} is not a number.");
        return new Token(TokenKind.Number, raw, start, value);
    }

    private Token ReadString()
    {
        var start = _pos;
        _pos++;
        var sb = new StringBuilder();
        while (_pos < text.Length)
        {
            var c = text[_pos++];
            if (c == '"') return new Token(TokenKind.String, sb.ToString(), start);
            if (c != '\\')
            {
                sb.Append(c);
                continue;
            }
            if (_pos >= text.Length) break;
            var e = text[_pos++];
            switch (e)
            {
                case '"' or '\\' or '/': sb.Append(e); break;
                case 'b': sb.Append('\b'); break;
                case 'f': sb.Append('\f'); break;
                case 'n': sb.Append('\n'); break;
                case 'r': sb.Append('\r'); break;
                case 't': sb.Append('\t'); break;
                case 'u' when _pos + 4 <= text.Length
                    && ushort.TryParse(text.AsSpan(_pos, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture, out var code):
                    sb.Append((char)code);
                    _pos += 4;
                    break;
                default: throw Error($"Invalid escape '\\{e}' in the string at position {start + 1}.");
            }
        }
        throw Error($"The string starting at position {start + 1} is not terminated.");
    }

    private ScimException Error(string detail) => ScimException.BadRequest(errorType, detail);
}
