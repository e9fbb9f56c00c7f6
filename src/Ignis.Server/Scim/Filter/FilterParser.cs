namespace Ignis.Server.Scim.Filter;

/// <summary>
/// Recursive descent over the RFC 7644 §3.4.2.2 grammar (Figure 1), with the precedence the RFC gives:
/// grouping and not, then and, then or.
/// <code>
/// filter    = or
/// or        = and *("or" and)
/// and       = unary *("and" unary)
/// unary     = "not" "(" filter ")" / "(" filter ")" / attrExp
/// attrExp   = attrPath "[" valFilter "]" / attrPath "pr" / attrPath compareOp compValue
/// valFilter = the same grammar without a nested "[...]"
/// </code>
/// PATCH paths use <see cref="ParsePath"/>: attrPath ["[" valFilter "]" ["." subAttr]].
/// </summary>
public sealed class FilterParser
{
    public const int MaxLength = 10_000;
    public const int MaxDepth = 50;

    private readonly List<Token> _tokens;
    private readonly string _errorType;
    private int _index;
    private int _depth;

    private FilterParser(string text, string errorType)
    {
        _errorType = errorType;
        if (text.Length > MaxLength) throw Error($"The expression is longer than {MaxLength} characters.");
        _tokens = new FilterLexer(text, errorType).Tokenize();
    }

    /// <summary>Parses a filter; a syntax error is a 400 with scimType invalidFilter.</summary>
    public static FilterNode Parse(string filter)
    {
        if (string.IsNullOrWhiteSpace(filter)) throw ScimException.BadRequest(ScimErrorType.InvalidFilter, "The filter is empty.");
        var parser = new FilterParser(filter, ScimErrorType.InvalidFilter);
        var node = parser.ParseOr(inValuePath: false);
        parser.Expect(TokenKind.End, "the end of the filter");
        return node;
    }

    /// <summary>Parses a PATCH path; a syntax error is a 400 with scimType invalidPath.</summary>
    public static PatchPath ParsePath(string path)
    {
        if (string.IsNullOrWhiteSpace(path)) throw ScimException.BadRequest(ScimErrorType.InvalidPath, "The path is empty.");
        var parser = new FilterParser(path, ScimErrorType.InvalidPath);
        var attr = parser.ParseAttributePath();
        FilterNode? filter = null;
        string? sub = null;
        if (parser.Peek.Kind == TokenKind.LBracket)
        {
            parser._index++;
            filter = parser.ParseOr(inValuePath: true);
            parser.Expect(TokenKind.RBracket, "']'");
            if (parser.Peek.Kind == TokenKind.Dot)
            {
                parser._index++;
                var word = parser.Expect(TokenKind.Word, "a sub-attribute name after '.'");
                if (word.Text.Contains('.') || word.Text.Contains(':')) throw parser.Error($"'{word.Text}' is not a sub-attribute name.");
                sub = word.Text;
            }
        }
        parser.Expect(TokenKind.End, "the end of the path");
        return new PatchPath(attr, filter, sub);
    }

    private Token Peek => _tokens[_index];

    private FilterNode ParseOr(bool inValuePath)
    {
        Enter();
        var left = ParseAnd(inValuePath);
        while (Peek.Is("or"))
        {
            _index++;
            left = new OrNode(left, ParseAnd(inValuePath));
        }
        _depth--;
        return left;
    }

    private FilterNode ParseAnd(bool inValuePath)
    {
        var left = ParseUnary(inValuePath);
        while (Peek.Is("and"))
        {
            _index++;
            left = new AndNode(left, ParseUnary(inValuePath));
        }
        return left;
    }

    private FilterNode ParseUnary(bool inValuePath)
    {
        var token = Peek;
        if (token.Is("not"))
        {
            _index++;
            Expect(TokenKind.LParen, "'(' after not");
            var inner = ParseOr(inValuePath);
            Expect(TokenKind.RParen, "')'");
            return new NotNode(inner);
        }
        if (token.Kind == TokenKind.LParen)
        {
            _index++;
            var inner = ParseOr(inValuePath);
            Expect(TokenKind.RParen, "')'");
            return inner;
        }
        return ParseAttributeExpression(inValuePath);
    }

    private FilterNode ParseAttributeExpression(bool inValuePath)
    {
        var path = ParseAttributePath();
        var token = Peek;
        if (token.Kind == TokenKind.LBracket)
        {
            if (inValuePath) throw Error($"A value filter cannot be nested inside another (position {token.Position + 1}).");
            _index++;
            var inner = ParseOr(inValuePath: true);
            Expect(TokenKind.RBracket, "']'");
            return new ValuePathNode(path, inner);
        }
        if (token.Is("pr"))
        {
            _index++;
            return new PresentNode(path);
        }
        if (token.Kind != TokenKind.Word || !TryOperator(token.Text, out var op))
            throw Error($"Expected an operator (eq, ne, co, sw, ew, gt, ge, lt, le, pr) after '{path}' but found {token} at position {token.Position + 1}.");
        _index++;
        return new CompareNode(path, op, ParseValue());
    }

    private AttributePath ParseAttributePath()
    {
        var token = Peek;
        if (token.Kind != TokenKind.Word || IsKeyword(token.Text))
            throw Error($"Expected an attribute path but found {token} at position {token.Position + 1}.");
        _index++;
        var path = AttributePath.Parse(token.Text);
        if (path.Name.Length == 0 || (path.Sub is not null && (path.Sub.Length == 0 || path.Sub.Contains('.'))))
            throw Error($"'{token.Text}' is not a valid attribute path.");
        return path;
    }

    private FilterValue ParseValue()
    {
        var token = Peek;
        _index++;
        return token.Kind switch
        {
            TokenKind.String => new FilterValue(token.Text, null, null),
            TokenKind.Number => new FilterValue(null, token.Number, null),
            TokenKind.Word when token.Is("true") => new FilterValue(null, null, true),
            TokenKind.Word when token.Is("false") => new FilterValue(null, null, false),
            TokenKind.Word when token.Is("null") => new FilterValue(null, null, null),
            _ => throw Error($"Expected a value (a \"string\", a number, true, false or null) but found {token} at position {token.Position + 1}."),
        };
    }

    private static bool TryOperator(string word, out CompareOp op) =>
        Enum.TryParse(word, ignoreCase: true, out op) && word.Length == 2;

    private static bool IsKeyword(string word) =>
        word.Equals("and", StringComparison.OrdinalIgnoreCase) || word.Equals("or", StringComparison.OrdinalIgnoreCase)
        || word.Equals("not", StringComparison.OrdinalIgnoreCase);

    private Token Expect(TokenKind kind, string what)
    {
        var token = Peek;
        if (token.Kind != kind) throw Error($"Expected {what} but found {token} at position {token.Position + 1}.");
        _index++;
        return token;
    }

    private void Enter()
    {
        if (++_depth > MaxDepth) throw Error($"The expression is nested more than {MaxDepth} levels deep.");
    }

    private ScimException Error(string detail) => ScimException.BadRequest(_errorType, detail);
}
