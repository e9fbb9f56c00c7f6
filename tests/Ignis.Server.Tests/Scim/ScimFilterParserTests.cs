using System.Text.Json.Nodes;
using Ignis.Server.Scim;
using Ignis.Server.Scim.Filter;
using Ignis.Server.Scim.Schema;

namespace Ignis.Server.Tests.Scim;

/// <summary>The filter grammar of RFC 7644 §3.4.2.2 and PATCH paths of §3.5.2: tokenizer, parser, binder, evaluator.</summary>
public sealed class ScimFilterParserTests
{
    private static string Parsed(string filter) => FilterParser.Parse(filter).ToString();

    /// <summary>Every example filter of RFC 7644 §3.4.2.2 parses and binds against the User resource type.</summary>
    [Theory]
    [InlineData("userName eq \"bjensen\"", "userName eq \"bjensen\"")]
    [InlineData("name.familyName co \"O'Malley\"", "name.familyName co \"O'Malley\"")]
    [InlineData("userName sw \"J\"", "userName sw \"J\"")]
    [InlineData("urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"", "urn:ietf:params:scim:schemas:core:2.0:User:userName sw \"J\"")]
    [InlineData("title pr", "title pr")]
    [InlineData("meta.lastModified gt \"2011-05-13T04:42:34Z\"", "meta.lastModified gt \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified ge \"2011-05-13T04:42:34Z\"", "meta.lastModified ge \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified lt \"2011-05-13T04:42:34Z\"", "meta.lastModified lt \"2011-05-13T04:42:34Z\"")]
    [InlineData("meta.lastModified le \"2011-05-13T04:42:34Z\"", "meta.lastModified le \"2011-05-13T04:42:34Z\"")]
    [InlineData("title pr and userType eq \"Employee\"", "(title pr and userType eq \"Employee\")")]
    [InlineData("title pr or userType eq \"Intern\"", "(title pr or userType eq \"Intern\")")]
    [InlineData("schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"", "schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"")]
    [InlineData("userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")",
        "(userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\"))")]
    [InlineData("userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")",
        "(userType ne \"Employee\" and not((emails co \"example.com\" or emails.value co \"example.org\")))")]
    [InlineData("userType eq \"Employee\" and (emails.type eq \"work\")", "(userType eq \"Employee\" and emails.type eq \"work\")")]
    [InlineData("userType eq \"Employee\" and emails[type eq \"work\" and value co \"@example.com\"]",
        "(userType eq \"Employee\" and emails[(type eq \"work\" and value co \"@example.com\")])")]
    [InlineData("emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]",
        "(emails[(type eq \"work\" and value co \"@example.com\")] or ims[(type eq \"xmpp\" and value co \"@foo.com\")])")]
    public void The_RFC_examples_parse_and_bind(string filter, string expected)
    {
        var node = FilterParser.Parse(filter);
        node.ToString().ShouldBe(expected);
        FilterBinder.Bind(node, ScimSchemas.UserType).ShouldNotBeNull();
    }

    [Fact]
    public void And_binds_tighter_than_or_and_parentheses_group()
    {
        Parsed("a eq \"1\" or b eq \"2\" and c eq \"3\"").ShouldBe("(a eq \"1\" or (b eq \"2\" and c eq \"3\"))");
        Parsed("(a eq \"1\" or b eq \"2\") and c eq \"3\"").ShouldBe("((a eq \"1\" or b eq \"2\") and c eq \"3\")");
        Parsed("a pr and b pr and c pr").ShouldBe("((a pr and b pr) and c pr)");
        Parsed("not (a pr) or b pr").ShouldBe("(not(a pr) or b pr)");
    }

    [Fact]
    public void Operators_and_keywords_are_case_insensitive()
    {
        Parsed("userName EQ \"x\" AND title PR OR NOT (active Eq TRUE)").ShouldBe("((userName eq \"x\" and title pr) or not(active eq true))");
    }

    [Fact]
    public void Every_comparison_operator_parses()
    {
        foreach (var op in new[] { "eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le" })
            Parsed($"title {op} \"x\"").ShouldBe($"title {op} \"x\"");
    }

    [Fact]
    public void Values_are_json_strings_numbers_booleans_and_null()
    {
        Parsed("title eq \"a \\\"quoted\\\" \\\\ \\u00e9\"").ShouldBe("title eq \"a \\\"quoted\\\" \\\\ é\"");
        ((CompareNode)FilterParser.Parse("title eq \"a \\\"b\\\" \\u00e9\"")).Value.String.ShouldBe("a \"b\" é");
        ((CompareNode)FilterParser.Parse("x eq 42")).Value.Number.ShouldBe(42m);
        ((CompareNode)FilterParser.Parse("x eq -1.5e2")).Value.Number.ShouldBe(-150m);
        ((CompareNode)FilterParser.Parse("x eq false")).Value.Bool.ShouldBe(false);
        ((CompareNode)FilterParser.Parse("x eq null")).Value.IsNull.ShouldBeTrue();
    }

    [Fact]
    public void Schema_urns_with_dots_stay_whole()
    {
        var node = (CompareNode)FilterParser.Parse("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915-6090-4610-87e4-49d8ca9f808d\"");
        node.Path.SchemaUrn.ShouldBe(ScimSchemas.EnterpriseUserUrn);
        node.Path.Name.ShouldBe("manager");
        node.Path.Sub.ShouldBe("value");
        var bound = (CompareNode)FilterBinder.Bind(node, ScimSchemas.UserType);
        bound.Target!.Extension.ShouldBe(ScimSchemas.EnterpriseUser);
    }

    [Theory]
    [InlineData("")]
    [InlineData("userName")]
    [InlineData("userName eq")]
    [InlineData("userName eq bjensen")]
    [InlineData("userName xx \"a\"")]
    [InlineData("userName eq \"unterminated")]
    [InlineData("(userName eq \"a\"")]
    [InlineData("userName eq \"a\")")]
    [InlineData("userName eq \"a\" and")]
    [InlineData("userName eq \"a\" userName eq \"b\"")]
    [InlineData("not userName eq \"a\"")]
    [InlineData("emails[type eq \"work\"")]
    [InlineData("emails[type[value eq \"x\"]]")]
    [InlineData("and eq \"a\"")]
    [InlineData("userName eq \"a\" # comment")]
    [InlineData("title eq \"bad \\x escape\"")]
    public void Malformed_filters_are_invalidFilter(string filter)
    {
        var error = Should.Throw<ScimException>(() => FilterBinder.Bind(FilterParser.Parse(filter), ScimSchemas.UserType));
        error.Status.ShouldBe(400);
        error.ScimType.ShouldBe("invalidFilter");
    }

    [Fact]
    public void Nesting_and_length_are_bounded()
    {
        var deep = string.Concat(Enumerable.Repeat("(", 200)) + "title pr" + string.Concat(Enumerable.Repeat(")", 200));
        Should.Throw<ScimException>(() => FilterParser.Parse(deep)).ScimType.ShouldBe("invalidFilter");
        var longFilter = string.Join(" or ", Enumerable.Repeat("title eq \"x\"", 2000));
        Should.Throw<ScimException>(() => FilterParser.Parse(longFilter)).ScimType.ShouldBe("invalidFilter");
    }

    [Theory]
    [InlineData("foo eq \"x\"")]
    [InlineData("name.nickname eq \"x\"")]
    [InlineData("userName.first eq \"x\"")]
    [InlineData("urn:example:unknown:User:x eq \"y\"")]
    [InlineData("active gt true")]
    [InlineData("active eq \"true\"")]
    [InlineData("meta.created gt \"yesterday\"")]
    [InlineData("meta.created co \"2020\"")]
    [InlineData("name eq \"x\"")]
    [InlineData("addresses eq \"x\"")]
    [InlineData("emails[foo eq \"x\"]")]
    [InlineData("userName[value eq \"x\"]")]
    [InlineData("title eq 42")]
    [InlineData("title gt null")]
    public void Filters_that_do_not_fit_the_schema_are_invalidFilter(string filter)
    {
        var error = Should.Throw<ScimException>(() => FilterBinder.Bind(FilterParser.Parse(filter), ScimSchemas.UserType));
        error.ScimType.ShouldBe("invalidFilter");
    }

    private static readonly JsonObject Babs = JsonNode.Parse("""
        {
          "schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
          "id":"2819c223","userName":"BJensen","title":"Tour Guide","userType":"Employee","active":true,
          "name":{"familyName":"O'Malley","givenName":"Barbara"},
          "emails":[{"value":"bjensen@example.com","type":"work","primary":true},{"value":"babs@jensen.org","type":"home"}],
          "ims":[{"value":"babs@foo.com","type":"xmpp"}],
          "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User":{"employeeNumber":"701984","manager":{"value":"26118915"}},
          "meta":{"created":"2011-05-13T04:42:34Z","lastModified":"2011-05-13T04:42:34.5Z"}
        }
        """)!.AsObject();

    [Theory]
    [InlineData("userName eq \"bjensen\"", true)]
    [InlineData("userName eq \"bjensen2\"", false)]
    [InlineData("id eq \"2819C223\"", false)]
    [InlineData("id eq \"2819c223\"", true)]
    [InlineData("name.familyName co \"malley\"", true)]
    [InlineData("userName sw \"bj\"", true)]
    [InlineData("userName ew \"SEN\"", true)]
    [InlineData("title pr", true)]
    [InlineData("nickName pr", false)]
    [InlineData("nickName ne \"x\"", true)]
    [InlineData("nickName eq null", true)]
    [InlineData("title ne null", true)]
    [InlineData("userName gt \"a\"", true)]
    [InlineData("userName lt \"a\"", false)]
    [InlineData("userName ge \"BJENSEN\"", true)]
    [InlineData("userName le \"bjensen\"", true)]
    [InlineData("meta.lastModified gt \"2011-05-13T04:42:34Z\"", true)]
    [InlineData("meta.lastModified gt \"2011-05-13T06:42:34+02:00\"", true)]
    [InlineData("meta.created ge \"2011-05-13T04:42:34Z\"", true)]
    [InlineData("meta.created lt \"2011-05-13T04:42:34Z\"", false)]
    [InlineData("meta.created le \"2011-05-13T04:42:34Z\"", true)]
    [InlineData("active eq true", true)]
    [InlineData("active ne true", false)]
    [InlineData("title pr and userType eq \"Employee\"", true)]
    [InlineData("title pr and userType eq \"Intern\"", false)]
    [InlineData("nickName pr or userType eq \"employee\"", true)]
    [InlineData("schemas eq \"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User\"", true)]
    [InlineData("userType eq \"Employee\" and (emails co \"example.com\" or emails.value co \"example.org\")", true)]
    [InlineData("userType ne \"Employee\" and not (emails co \"example.com\" or emails.value co \"example.org\")", false)]
    [InlineData("not (emails co \"example.com\")", false)]
    [InlineData("emails.type eq \"work\"", true)]
    [InlineData("emails[type eq \"work\" and value co \"@example.com\"]", true)]
    [InlineData("emails[type eq \"home\" and value co \"@example.com\"]", false)]
    [InlineData("emails[type eq \"work\" and value co \"@example.com\"] or ims[type eq \"xmpp\" and value co \"@foo.com\"]", true)]
    [InlineData("emails[not (type eq \"work\")]", true)]
    [InlineData("emails[primary eq true and type eq \"home\"]", false)]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"701984\"", true)]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq \"26118915\"", true)]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department pr", false)]
    public void Evaluation_follows_the_attribute_types(string filter, bool expected)
    {
        var bound = FilterBinder.Bind(FilterParser.Parse(filter), ScimSchemas.UserType);
        FilterEvaluator.Matches(bound, Babs).ShouldBe(expected, filter);
    }

    [Theory]
    [InlineData("members", "members", null, null)]
    [InlineData("name.givenName", "name", null, null)]
    [InlineData("emails[type eq \"work\"].value", "emails", "type eq \"work\"", "value")]
    [InlineData("members[value eq \"2819c223-7f76-453a-919d-413861904646\"]", "members", "value eq \"2819c223-7f76-453a-919d-413861904646\"", null)]
    [InlineData("addresses[type eq \"work\"].streetAddress", "addresses", "type eq \"work\"", "streetAddress")]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber", "employeeNumber", null, null)]
    public void Patch_paths_parse(string text, string attribute, string? filter, string? sub)
    {
        var path = FilterParser.ParsePath(text);
        path.Path.Name.ShouldBe(attribute);
        path.ValueFilter?.ToString().ShouldBe(filter);
        path.SubAttribute.ShouldBe(sub);
    }

    [Theory]
    [InlineData("")]
    [InlineData("emails[")]
    [InlineData("emails[type eq \"work\"]value")]
    [InlineData("emails[type eq \"work\"].")]
    [InlineData("emails[type eq \"work\"].value.x")]
    [InlineData("emails eq \"x\"")]
    public void Malformed_patch_paths_are_invalidPath(string text)
    {
        var error = Should.Throw<ScimException>(() => FilterParser.ParsePath(text));
        error.ScimType.ShouldBe("invalidPath");
    }
}
