/* test_json_schema.c — the JSON Schema subset custom data kinds validate with. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_schema.h"
#include "node.h"
#include "unit.h"

static eg_node *parse(const char *text)
{
    char err[256];
    eg_node *n = eg_yaml_parse(text, strlen(text), err, sizeof err);
    if (!n)
        fprintf(stderr, "  parse %s: %s\n", text, err);
    return n;
}

/* "" when doc validates, else the error text (static buffer). */
static const char *validate(const char *schema, const char *doc)
{
    static char err[1024];
    eg_node *s = parse(schema), *d = parse(doc);
    char cerr[512];
    if (!s || !d) {
        snprintf(err, sizeof err, "(unparsable)");
    } else if (!eg_json_schema_check(s, cerr, sizeof cerr)) {
        snprintf(err, sizeof err, "(bad schema) %s", cerr);
    } else if (eg_json_schema_validate(s, d, err, sizeof err)) {
        err[0] = '\0';
    }
    eg_node_free(s);
    eg_node_free(d);
    return err;
}

static const char *check_schema(const char *schema)
{
    static char err[512];
    eg_node *s = parse(schema);
    if (!s)
        return "(unparsable)";
    if (eg_json_schema_check(s, err, sizeof err))
        err[0] = '\0';
    eg_node_free(s);
    return err;
}

static void test_types(void)
{
    CHECK_STR(validate("{type: string}", "'a'"), "");
    CHECK_STR(validate("{type: string}", "1"), "(root): Invalid type. Expected: string, given: integer");
    CHECK_STR(validate("{type: integer}", "3"), "");
    CHECK_STR(validate("{type: integer}", "3.0"), "");
    CHECK_STR(validate("{type: integer}", "3.5"), "(root): Invalid type. Expected: integer, given: number");
    CHECK_STR(validate("{type: number}", "3"), "");
    CHECK_STR(validate("{type: [string, 'null']}", "null"), "");
    CHECK_STR(validate("{type: [string, 'null']}", "true"), "(root): Invalid type. Expected: string/null, given: boolean");
    CHECK_STR(validate("{type: object}", "[]"), "(root): Invalid type. Expected: object, given: array");
    CHECK_STR(validate("{type: boolean}", "false"), "");
}

static void test_objects(void)
{
    const char *s = "{type: object, required: [id, age], additionalProperties: false,"
                    " properties: {id: {type: string, minLength: 2}, age: {type: integer, minimum: 0, maximum: 150}}}";
    CHECK_STR(validate(s, "{id: ab, age: 3}"), "");
    CHECK_STR(validate(s, "{id: ab}"), "(root): age is required");
    CHECK_STR(validate(s, "{id: a, age: 200}"),
              "id: string length must be greater than or equal to 2; age: must be less than or equal to 150");
    CHECK_STR(validate(s, "{id: ab, age: 1, x: 1}"), "(root): additional property x is not allowed");
    CHECK_STR(validate("{additionalProperties: {type: integer}}", "{a: 1, b: x}"),
              "b: Invalid type. Expected: integer, given: string");
    CHECK_STR(validate("{patternProperties: {'^x-': {type: string}}, additionalProperties: false}", "{x-a: s}"), "");
    CHECK_STR(validate("{patternProperties: {'^x-': {type: string}}, additionalProperties: false}", "{y: s}"),
              "(root): additional property y is not allowed");
    CHECK_STR(validate("{minProperties: 1}", "{}"), "(root): must have at least 1 properties");
    /* nested paths */
    CHECK_STR(validate("{properties: {a: {properties: {b: {enum: [1, 2]}}}}}", "{a: {b: 3}}"),
              "a.b: must be one of the values of enum");
    /* keys are case-sensitive, unlike Go's struct decoding */
    CHECK_STR(validate("{required: [Name]}", "{name: x}"), "(root): Name is required");
}

static void test_arrays_strings_numbers(void)
{
    CHECK_STR(validate("{items: {type: string}, minItems: 1, uniqueItems: true}", "[a, b]"), "");
    CHECK_STR(validate("{items: {type: string}}", "[a, 1]"), "1: Invalid type. Expected: string, given: integer");
    CHECK_STR(validate("{uniqueItems: true}", "[1, {a: 1}, 1.0]"), "(root): array items must be unique (0 and 2 are equal)");
    CHECK_STR(validate("{maxItems: 1}", "[1, 2]"), "(root): array must have at most 1 items");
    CHECK_STR(validate("{items: [{type: string}, {type: integer}], additionalItems: false}", "[a, 1]"), "");
    CHECK_STR(validate("{items: [{type: string}], additionalItems: false}", "[a, 1]"), "(root): array must have at most 1 items");
    CHECK_STR(validate("{pattern: '^[a-z]+$'}", "abc"), "");
    CHECK_STR(validate("{pattern: '[0-9]'}", "a1b"), "");   /* unanchored */
    CHECK_STR(validate("{pattern: '^[a-z]+$'}", "aB"), "(root): does not match pattern '^[a-z]+$'");
    CHECK_STR(validate("{maxLength: 2}", "'éé'"), "");      /* characters, not bytes */
    CHECK_STR(validate("{exclusiveMinimum: 0}", "0"), "(root): must be greater than 0");
    CHECK_STR(validate("{minimum: 0, exclusiveMinimum: true}", "0"), "(root): must be greater than 0");
    CHECK_STR(validate("{multipleOf: 0.5}", "1.5"), "");
    CHECK_STR(validate("{multipleOf: 2}", "3"), "(root): must be a multiple of 2");
    CHECK_STR(validate("{const: {a: [1, 2]}}", "{a: [1, 2.0]}"), "");
}

static void test_combinators(void)
{
    CHECK_STR(validate("{anyOf: [{type: string}, {type: integer}]}", "1"), "");
    CHECK_STR(validate("{anyOf: [{type: string}, {type: integer}]}", "true"), "(root): must match at least one schema of anyOf");
    CHECK_STR(validate("{oneOf: [{minimum: 0}, {maximum: 10}]}", "5"), "(root): must match exactly one schema of oneOf (matches 2)");
    CHECK_STR(validate("{allOf: [{type: integer}, {minimum: 3}]}", "2"), "(root): must be greater than or equal to 3");
    CHECK_STR(validate("{not: {type: string}}", "a"), "(root): must not match the schema of not");
    CHECK_STR(validate("{properties: {a: false}}", "{a: 1}"), "a: no value is allowed here");
}

static void test_bad_schemas(void)
{
    CHECK_STR(check_schema("{type: strng}"), "(root): unknown type \"strng\"");
    CHECK_STR(check_schema("{properties: {a: {pattern: '('}}}"),
              "properties.a: pattern: invalid regexp \"(\": missing closing parenthesis (at offset 1)");
    CHECK_STR(check_schema("{required: [1]}"), "(root): required must be an array of strings");
    CHECK_STR(check_schema("{minLength: -1}"), "(root): minLength must be a non-negative integer");
    CHECK_STR(check_schema("{$ref: '#/definitions/x'}"), "(root): $ref is not supported");
    CHECK_STR(check_schema("{items: [1]}"), "items.0: a schema must be an object");
    CHECK_STR(check_schema("{title: t, description: d, format: email, default: 1}"), "");
}

int main(void)
{
    RUN(test_types);
    RUN(test_objects);
    RUN(test_arrays_strings_numbers);
    RUN(test_combinators);
    RUN(test_bad_schemas);
    UNIT_END("json_schema");
}
