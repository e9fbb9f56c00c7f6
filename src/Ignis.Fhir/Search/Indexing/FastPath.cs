using System.Collections;
using Hl7.Fhir.Model;

namespace Ignis.Fhir.Search.Indexing;

/// <summary>
/// A direct evaluator for the FHIRPath shapes that make up nearly all search parameter expressions:
/// dotted paths over POCO properties, unions, parentheses, <c>as</c>/<c>as()</c>/<c>ofType()</c> casts,
/// <c>where(resolve() is T)</c>, <c>where(child = 'literal')</c> and <c>%resource</c>.
/// It reads the POCO model without building FHIRPath nodes, which costs a fraction of the general engine.
/// <see cref="TryParse"/> returns null for anything else, and the caller falls back to FHIRPath.
/// </summary>
internal sealed class FastPath
{
    private readonly Node _root;

    private FastPath(Node root) => _root = root;

    /// <summary>Adds the elements the expression selects, starting at <paramref name="focus"/> inside <paramref name="resource"/>.</summary>
    public void Evaluate(Resource resource, Base focus, List<Base> output) => _root.Evaluate(resource, focus, output);

    public static FastPath? TryParse(string expression)
    {
        var tokens = Tokenize(expression);
        if (tokens is null) return null;
        var parser = new Parser(tokens);
        var node = parser.ParseUnion();
        return node is not null && parser.AtEnd ? new FastPath(node) : null;
    }

    // ---- evaluation -------------------------------------------------------------------------------

    private abstract class Node
    {
        public abstract void Evaluate(Resource resource, Base focus, List<Base> output);
    }

    private sealed class UnionNode(Node[] branches) : Node
    {
        public override void Evaluate(Resource resource, Base focus, List<Base> output)
        {
            foreach (var b in branches) b.Evaluate(resource, focus, output);
        }
    }

    /// <summary>A start (type name or child, %resource, or a parenthesised expression) followed by steps.</summary>
    private sealed class ChainNode(Start start, Step[] steps) : Node
    {
        public override void Evaluate(Resource resource, Base focus, List<Base> output)
        {
            switch (start.Kind)
            {
                case StartKind.Identifier:
                    // As in FHIRPath, a leading type name selects the focus itself when it is of that type
                    // ("Observation.code" evaluated on an Observation); otherwise the name is a child element.
                    if (start.Name == focus.TypeName || (focus is Resource && start.Name is "Resource" or "DomainResource"))
                        Continue(resource, focus, 0, output);
                    else
                        ForEachChild(resource, focus, start.Name!, 0, output);
                    break;
                case StartKind.ResourceVariable:
                    Continue(resource, resource, 0, output);
                    break;
                case StartKind.Group:
                    if (steps.Length == 0)
                    {
                        start.Group!.Evaluate(resource, focus, output);
                        break;
                    }
                    var items = new List<Base>();
                    start.Group!.Evaluate(resource, focus, items);
                    foreach (var item in items) Continue(resource, item, 0, output);
                    break;
            }
        }

        private void Continue(Resource resource, Base item, int stepIndex, List<Base> output)
        {
            if (stepIndex == steps.Length)
            {
                output.Add(item);
                return;
            }
            var step = steps[stepIndex];
            switch (step.Kind)
            {
                case StepKind.Child:
                    ForEachChild(resource, item, step.Name!, stepIndex + 1, output);
                    break;
                case StepKind.Cast:
                    if (step.Type!.IsInstanceOfType(item)) Continue(resource, item, stepIndex + 1, output);
                    break;
                case StepKind.WhereResolveIs:
                    if (item is ResourceReference r && ResolvedType(resource, r.Reference) is { } t && step.Type!.IsAssignableFrom(t))
                        Continue(resource, item, stepIndex + 1, output);
                    break;
                case StepKind.WhereEquals:
                    if (ChildEquals(item, step.Name!, step.Literal!)) Continue(resource, item, stepIndex + 1, output);
                    break;
            }
        }

        private void ForEachChild(Resource resource, Base item, string name, int nextStep, List<Base> output)
        {
            if (!item.TryGetValue(name, out var child) || child is null) return;
            if (child is Base single)
            {
                Continue(resource, single, nextStep, output);
                return;
            }
            if (child is IList list)
            {
                for (var i = 0; i < list.Count; i++)
                {
                    if (list[i] is Base b) Continue(resource, b, nextStep, output);
                }
            }
        }
    }

    // FHIRPath "=" between a singleton and a literal: the child must be exactly one primitive equal to it.
    private static bool ChildEquals(Base item, string name, string literal)
    {
        if (!item.TryGetValue(name, out var child)) return false;
        if (child is IList { Count: 1 } list) child = list[0];
        return child is PrimitiveType p && IndexValueConverter.PrimitiveString(p) == literal;
    }

    // resolve() on a reference: a contained resource by its id, else the type named in the reference.
    private static Type? ResolvedType(Resource resource, string? reference)
    {
        if (string.IsNullOrEmpty(reference)) return null;
        if (reference[0] == '#')
        {
            if (resource is not DomainResource { Contained: { } contained }) return null;
            var id = reference[1..];
            foreach (var c in contained)
            {
                if (c.Id == id) return c.GetType();
            }
            return null;
        }
        var type = ReferenceParser.TargetTypeOf(reference);
        return type is null ? null : ModelInfo.GetTypeForFhirType(type);
    }

    private enum StartKind { Identifier, ResourceVariable, Group }

    private sealed record Start(StartKind Kind, string? Name, Node? Group);

    private enum StepKind { Child, Cast, WhereResolveIs, WhereEquals }

    private sealed record Step(StepKind Kind, string? Name = null, Type? Type = null, string? Literal = null);

    /// <summary>"X as T": the operator form of a cast, applied to a whole expression.</summary>
    private sealed class CastNode(Node inner, Type type) : Node
    {
        public override void Evaluate(Resource resource, Base focus, List<Base> output)
        {
            var start = output.Count;
            inner.Evaluate(resource, focus, output);
            for (var i = output.Count - 1; i >= start; i--)
            {
                if (!type.IsInstanceOfType(output[i])) output.RemoveAt(i);
            }
        }
    }

    // ---- parsing ---------------------------------------------------------------------------------

    private enum TokenKind { Identifier, Variable, String, Symbol }

    private readonly record struct Token(TokenKind Kind, string Text);

    private static List<Token>? Tokenize(string s)
    {
        var tokens = new List<Token>();
        var i = 0;
        while (i < s.Length)
        {
            var c = s[i];
            if (char.IsWhiteSpace(c))
            {
                i++;
            }
            else if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = i;
                while (i < s.Length && (char.IsAsciiLetterOrDigit(s[i]) || s[i] == '_')) i++;
                tokens.Add(new Token(TokenKind.Identifier, s[start..i]));
            }
            else if (c == '`')
            {
                var end = s.IndexOf('`', i + 1);
                if (end < 0) return null;
                tokens.Add(new Token(TokenKind.Identifier, s[(i + 1)..end]));
                i = end + 1;
            }
            else if (c == '%')
            {
                var start = ++i;
                while (i < s.Length && char.IsAsciiLetterOrDigit(s[i])) i++;
                tokens.Add(new Token(TokenKind.Variable, s[start..i]));
            }
            else if (c == '\'')
            {
                var end = s.IndexOf('\'', i + 1);
                if (end < 0) return null;
                var literal = s[(i + 1)..end];
                if (literal.Contains('\\')) return null; // escapes: leave to FHIRPath
                tokens.Add(new Token(TokenKind.String, literal));
                i = end + 1;
            }
            else if (c is '.' or '(' or ')' or '|' or '=')
            {
                tokens.Add(new Token(TokenKind.Symbol, c.ToString()));
                i++;
            }
            else
            {
                return null;
            }
        }
        return tokens;
    }

    private sealed class Parser(List<Token> tokens)
    {
        private int _pos;

        public bool AtEnd => _pos == tokens.Count;

        private bool IsSymbol(string s, int offset = 0) =>
            _pos + offset < tokens.Count && tokens[_pos + offset].Kind == TokenKind.Symbol && tokens[_pos + offset].Text == s;

        private bool IsIdentifier(string s, int offset = 0) =>
            _pos + offset < tokens.Count && tokens[_pos + offset].Kind == TokenKind.Identifier && tokens[_pos + offset].Text == s;

        private bool Accept(string symbol)
        {
            if (!IsSymbol(symbol)) return false;
            _pos++;
            return true;
        }

        private string? Identifier()
        {
            if (_pos >= tokens.Count || tokens[_pos].Kind != TokenKind.Identifier) return null;
            return tokens[_pos++].Text;
        }

        public Node? ParseUnion()
        {
            var branches = new List<Node>();
            do
            {
                var term = ParseTerm();
                if (term is null) return null;
                branches.Add(term);
            } while (Accept("|"));
            return branches.Count == 1 ? branches[0] : new UnionNode([.. branches]);
        }

        private Node? ParseTerm()
        {
            var chain = ParseChain();
            if (chain is null) return null;
            if (IsIdentifier("as"))
            {
                _pos++;
                var type = TypeSpecifier();
                return type is null ? null : new CastNode(chain, type);
            }
            return chain;
        }

        private Node? ParseChain()
        {
            Start start;
            if (Accept("("))
            {
                var group = ParseUnion();
                if (group is null || !Accept(")")) return null;
                start = new Start(StartKind.Group, null, group);
            }
            else if (_pos < tokens.Count && tokens[_pos].Kind == TokenKind.Variable)
            {
                if (tokens[_pos++].Text != "resource") return null;
                start = new Start(StartKind.ResourceVariable, null, null);
            }
            else if (Identifier() is { } name && !IsSymbol("("))
            {
                start = new Start(StartKind.Identifier, name, null);
            }
            else
            {
                return null;
            }

            var steps = new List<Step>();
            while (Accept("."))
            {
                var name = Identifier();
                if (name is null) return null;
                if (!Accept("("))
                {
                    steps.Add(new Step(StepKind.Child, name));
                    continue;
                }
                var step = name switch
                {
                    "as" or "ofType" => TypeSpecifier() is { } t ? new Step(StepKind.Cast, Type: t) : null,
                    "where" => ParseWhere(),
                    _ => null,
                };
                if (step is null || !Accept(")")) return null;
                steps.Add(step);
            }
            return new ChainNode(start, [.. steps]);
        }

        // where(resolve() is T) or where(child = 'literal')
        private Step? ParseWhere()
        {
            if (IsIdentifier("resolve") && IsSymbol("(", 1) && IsSymbol(")", 2) && IsIdentifier("is", 3))
            {
                _pos += 4;
                return TypeSpecifier() is { } t ? new Step(StepKind.WhereResolveIs, Type: t) : null;
            }
            var child = Identifier();
            if (child is null || !Accept("=")) return null;
            if (_pos >= tokens.Count || tokens[_pos].Kind != TokenKind.String) return null;
            return new Step(StepKind.WhereEquals, child, Literal: tokens[_pos++].Text);
        }

        // FHIRPath type names are case-sensitive: "dateTime" is FHIR's, "DateTime" is System's and
        // matches no FHIR element, so only exact FHIR type names are taken.
        private Type? TypeSpecifier()
        {
            var name = Identifier();
            if (name is null) return null;
            if (name == "FHIR" && Accept(".")) name = Identifier();
            if (name is null) return null;
            var type = ModelInfo.GetTypeForFhirType(name);
            if (type is null || ModelInfo.GetFhirTypeNameForType(type) != name) return null;
            return type;
        }
    }
}
