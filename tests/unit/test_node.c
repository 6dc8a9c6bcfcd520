/* test_node.c — the document tree: YAML/JSON parsing, scalar resolution, output, durations
 * and the spec decoder. */
#include "node.h"
#include "unit.h"

#include <math.h>
#include <stdlib.h>

static eg_node *P(const char *text)
{
    char err[256];
    eg_node *n = eg_yaml_parse(text, strlen(text), err, sizeof err);
    if (!n)
        fprintf(stderr, "  parse error: %s\n", err);
    return n;
}

/* Parse a one-key map "v: <scalar>" and return the value's type. */
static eg_node_type scalar_type(const char *scalar, eg_node **keep)
{
    char buf[256];
    snprintf(buf, sizeof buf, "v: %s\n", scalar);
    eg_node *n = P(buf);
    if (!n)
        return (eg_node_type)-1;
    eg_node *v = eg_node_get(n, "v");
    eg_node_type t = v ? v->type : (eg_node_type)-1;
    if (keep)
        *keep = n;
    else
        eg_node_free(n);
    return t;
}

static void test_scalar_table(void)
{
    static const struct {
        const char *text;
        eg_node_type type;
    } cases[] = {
        {"~", EG_NODE_NULL}, {"null", EG_NODE_NULL}, {"Null", EG_NODE_NULL}, {"NULL", EG_NODE_NULL},
        {"", EG_NODE_NULL}, {"nULL", EG_NODE_STRING},
        {"true", EG_NODE_BOOL}, {"True", EG_NODE_BOOL}, {"TRUE", EG_NODE_BOOL},
        {"false", EG_NODE_BOOL}, {"False", EG_NODE_BOOL}, {"FALSE", EG_NODE_BOOL}, {"tRue", EG_NODE_STRING},
        /* yaml.v3 into interface{} (what Easegress's YAML->JSON uses): YAML 1.1 words stay strings */
        {"yes", EG_NODE_STRING}, {"no", EG_NODE_STRING}, {"on", EG_NODE_STRING}, {"off", EG_NODE_STRING},
        {"y", EG_NODE_STRING}, {"n", EG_NODE_STRING}, {"NO", EG_NODE_STRING},
        {"0", EG_NODE_INT}, {"12", EG_NODE_INT}, {"-12", EG_NODE_INT}, {"+12", EG_NODE_INT},
        {"1_000", EG_NODE_INT}, {"0x1F", EG_NODE_INT}, {"0o17", EG_NODE_INT}, {"017", EG_NODE_INT},
        {"0b101", EG_NODE_INT}, {"-0x10", EG_NODE_INT}, {"9223372036854775807", EG_NODE_INT},
        {"-9223372036854775808", EG_NODE_INT}, {"9223372036854775808", EG_NODE_FLOAT},
        {"08", EG_NODE_FLOAT}, {"0x", EG_NODE_STRING}, {"0xG", EG_NODE_STRING},
        {"1.5", EG_NODE_FLOAT}, {"1e3", EG_NODE_FLOAT}, {".5", EG_NODE_FLOAT}, {"1.", EG_NODE_FLOAT},
        {"-1.5e-3", EG_NODE_FLOAT}, {".inf", EG_NODE_FLOAT}, {"-.inf", EG_NODE_FLOAT},
        {"+.inf", EG_NODE_FLOAT}, {".nan", EG_NODE_FLOAT}, {".NaN", EG_NODE_FLOAT},
        {"1e400", EG_NODE_STRING}, {"inf", EG_NODE_STRING}, {"nan", EG_NODE_STRING},
        {"0x1p3", EG_NODE_STRING}, {".5_5", EG_NODE_FLOAT}, {"._5", EG_NODE_STRING}, {".5_", EG_NODE_STRING},
        {".5__5", EG_NODE_STRING}, {"1_0.5", EG_NODE_FLOAT}, {"_1", EG_NODE_STRING}, {"1.5.5", EG_NODE_STRING}, {"1e", EG_NODE_STRING}, {".", EG_NODE_STRING},
        {"1h", EG_NODE_STRING}, {"500ms", EG_NODE_STRING}, {"2001-12-14", EG_NODE_STRING},
        {"127.0.0.1", EG_NODE_STRING}, {"-x", EG_NODE_STRING}, {"abc", EG_NODE_STRING},
        {"'12'", EG_NODE_STRING}, {"\"true\"", EG_NODE_STRING}, {"'~'", EG_NODE_STRING},
        {"''", EG_NODE_STRING}, {"!!str 12", EG_NODE_STRING}, {"!!float 1", EG_NODE_FLOAT},
        {"!!int \"12\"", EG_NODE_INT}, {"!custom 12", EG_NODE_STRING}, {"! 12", EG_NODE_STRING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        eg_node_type t = scalar_type(cases[i].text, NULL);
        if (t != cases[i].type) {
            fprintf(stderr, "  scalar %s: type %d, expected %d\n", cases[i].text, (int)t, (int)cases[i].type);
            unit_case_failed = 1;
        }
    }
}

static void test_scalar_values(void)
{
    eg_node *n = P("a: 0x1F\nb: 0o17\nc: 017\nd: 0b101\ne: -1_000\nf: 1.5e3\ng: .nan\nh: -.inf\n"
                   "i: True\nj: 'x y'\nk: \"a\\tb\"\nl: |\n  line1\n  line2\nm: ~\n");
    CHECK(n);
    if (!n)
        return;
    CHECK_INT(eg_node_get(n, "a")->v.i, 31);
    CHECK_INT(eg_node_get(n, "b")->v.i, 15);
    CHECK_INT(eg_node_get(n, "c")->v.i, 15);
    CHECK_INT(eg_node_get(n, "d")->v.i, 5);
    CHECK_INT(eg_node_get(n, "e")->v.i, -1000);
    CHECK(eg_node_get(n, "f")->v.f == 1500.0);
    CHECK(isnan(eg_node_get(n, "g")->v.f));
    CHECK(isinf(eg_node_get(n, "h")->v.f) && eg_node_get(n, "h")->v.f < 0);
    CHECK(eg_node_get(n, "i")->v.b);
    CHECK_STR(eg_node_str(n, "j"), "x y");
    CHECK_STR(eg_node_str(n, "k"), "a\tb");
    CHECK_STR(eg_node_str(n, "l"), "line1\nline2\n");
    CHECK_STR(eg_node_get(n, "a")->text, "0x1F"); /* the text is kept */
    CHECK_STR(eg_node_get(n, "m")->text, "~");
    CHECK_INT(eg_node_get(n, "a")->line, 1);
    CHECK_INT(eg_node_get(n, "a")->col, 4);
    CHECK_INT(eg_node_get(n, "b")->line, 2);
    eg_node_free(n);

    n = P("{\"a\": [1, 2.5, \"x\", true, null], \"b\": {}}");
    CHECK(n && n->type == EG_NODE_MAP);
    if (n) {
        eg_node *a = eg_node_get(n, "a");
        CHECK(a && a->type == EG_NODE_SEQ && a->count == 5);
        CHECK(a->items[0]->type == EG_NODE_INT && a->items[1]->type == EG_NODE_FLOAT);
        CHECK(a->items[2]->type == EG_NODE_STRING && a->items[3]->type == EG_NODE_BOOL);
        CHECK(a->items[4]->type == EG_NODE_NULL);
        CHECK(eg_node_get(n, "b")->type == EG_NODE_MAP);
    }
    eg_node_free(n);
}

static void test_parse_errors(void)
{
    char err[256];
    eg_node *n = eg_yaml_parse("a: b\n c: d\n", 11, err, sizeof err);
    CHECK(!n);
    CHECK(strncmp(err, "line 2, column ", 15) == 0);
    n = eg_yaml_parse("a: [1, 2\n", 9, err, sizeof err);
    CHECK(!n);
    CHECK(strncmp(err, "line ", 5) == 0);
    const char *two = "a: 1\n---\nb: 2\n";
    n = eg_yaml_parse(two, strlen(two), err, sizeof err);
    CHECK(!n);
    CHECK(strstr(err, "line 2") != NULL);
    const char *dup = "a: 1\nb: 2\na: 3\n";
    n = eg_yaml_parse(dup, strlen(dup), err, sizeof err);
    CHECK(!n);
    CHECK_STR(err, "line 3, column 1: mapping key \"a\" already defined at line 1");
    const char *bad_tag = "a: !!int abc\n";
    n = eg_yaml_parse(bad_tag, strlen(bad_tag), err, sizeof err);
    CHECK(!n);
    const char *complex_key = "? [a, b]\n: c\n";
    n = eg_yaml_parse(complex_key, strlen(complex_key), err, sizeof err);
    CHECK(!n);
    CHECK(strstr(err, "mapping key must be a scalar") != NULL);
    n = eg_yaml_parse("a: *nope\n", 9, err, sizeof err);
    CHECK(!n);
    CHECK_STR(err, "line 1, column 4: unknown anchor 'nope' referenced");
    n = eg_yaml_parse("a: \"\xff\"\n", 7, err, sizeof err);
    CHECK(!n);
    CHECK(strncmp(err, "line 1, column 5: ", 18) == 0);
    /* empty input is a null document */
    n = eg_yaml_parse("", 0, err, sizeof err);
    CHECK(n && n->type == EG_NODE_NULL);
    eg_node_free(n);
    n = eg_yaml_parse("# only a comment\n", 17, err, sizeof err);
    CHECK(n && n->type == EG_NODE_NULL);
    eg_node_free(n);
}

static void test_nesting_limit(void)
{
    char err[256];
    size_t depth = 5000;
    char *deep = malloc(depth * 2 + 1);
    for (size_t i = 0; i < depth; i++) {
        deep[i] = '[';
        deep[depth * 2 - 1 - i] = ']';
    }
    deep[depth * 2] = '\0';
    eg_node *n = eg_yaml_parse(deep, depth * 2, err, sizeof err);
    CHECK(!n);
    CHECK(strstr(err, "nested too deeply") != NULL);
    free(deep);
}

static void test_multi_docs(void)
{
    char err[256];
    eg_node **docs = NULL;
    const char *t2 = "---\nname: a\n---\n# just a comment\n---   \n\nname: b\n---\n  \n---\nname: c\nx: ---\n";
    int n = eg_yaml_parse_docs(t2, strlen(t2), &docs, err, sizeof err);
    CHECK_INT(n, 3);
    if (n == 3) {
        CHECK_STR(eg_node_str(docs[0], "name"), "a");
        CHECK_STR(eg_node_str(docs[1], "name"), "b");
        CHECK_STR(eg_node_str(docs[2], "name"), "c");
        CHECK_STR(eg_node_str(docs[2], "x"), "---");
        CHECK_INT(eg_node_get(docs[1], "name")->line, 7); /* lines count in the whole input */
    }
    eg_node_free_docs(docs, n);

    /* "------" is not a separator: the two maps are one text, which is invalid YAML */
    const char *t3 = "a: 1\n------\nb: 2\n";
    n = eg_yaml_parse_docs(t3, strlen(t3), &docs, err, sizeof err);
    CHECK_INT(n, -1);
    CHECK(docs == NULL);
    /* "--- x" is not a separator for the splitter, but a document start for libyaml */
    const char *t4 = "a: 1\n--- # c\nb: 2\n";
    n = eg_yaml_parse_docs(t4, strlen(t4), &docs, err, sizeof err);
    CHECK_INT(n, -1);
    /* errors carry the line in the whole input */
    const char *t5 = "a: 1\n---\nb: 2\n c: 3\n";
    n = eg_yaml_parse_docs(t5, strlen(t5), &docs, err, sizeof err);
    CHECK_INT(n, -1);
    CHECK(strncmp(err, "line 4,", 7) == 0);
    /* nothing at all */
    n = eg_yaml_parse_docs("\n---\n\n", 6, &docs, err, sizeof err);
    CHECK_INT(n, 0);
    eg_node_free_docs(docs, n);
    /* CRLF and no trailing newline */
    const char *t6 = "a: 1\r\n---\r\nb: 2";
    n = eg_yaml_parse_docs(t6, strlen(t6), &docs, err, sizeof err);
    CHECK_INT(n, 2);
    if (n == 2)
        CHECK_INT(eg_node_get(docs[1], "b")->v.i, 2);
    eg_node_free_docs(docs, n);
}

static void test_get_case_insensitive(void)
{
    eg_node *n = P("Name: upper\nname: lower\nKIND: k\n");
    CHECK_STR(eg_node_str(n, "name"), "lower");
    CHECK_STR(eg_node_str(n, "Name"), "upper");
    CHECK_STR(eg_node_str(n, "NAME"), "upper"); /* first case-insensitive match */
    CHECK_STR(eg_node_str(n, "kind"), "k");
    CHECK(eg_node_get(n, "nothere") == NULL);
    CHECK(eg_node_get(eg_node_get(n, "kind"), "x") == NULL);
    CHECK(eg_node_get(NULL, "x") == NULL);
    eg_node_free(n);
}

static void test_key_spelling(void)
{
    /* keys are spelled as Easegress's YAML->JSON step (Go's strconv) spells them */
    eg_node *n = P("0x10: a\nTrue: b\n1.50: c\n1e6: d\n0.0001: e\n1e-5: f\n'0x11': g\nyes: h\n~: i\n"
                   "123456: j\n-2.5e+7: k\n");
    CHECK(n && n->count == 11);
    if (n && n->count == 11) {
        static const char *const want[] = {"16", "true", "1.5", "1e+06", "0.0001", "1e-05", "0x11",
                                           "yes", "~", "123456", "-2.5e+07"};
        for (size_t i = 0; i < 11; i++)
            CHECK_STR(n->keys[i], want[i]);
    }
    eg_node_free(n);
    char err[256];
    CHECK(eg_yaml_parse("1: a\n01: b\n", 11, err, sizeof err) == NULL); /* both are "1" */
}

static void test_aliases(void)
{
    eg_node *n = P("base: &b {x: 1, y: [a, b]}\nuse: *b\ns: &s hello\nt: *s\n");
    CHECK(n);
    if (n) {
        CHECK(eg_node_equal(eg_node_get(n, "base"), eg_node_get(n, "use")));
        CHECK(eg_node_get(n, "base") != eg_node_get(n, "use"));
        CHECK_STR(eg_node_str(n, "t"), "hello");
        CHECK_INT(eg_node_get(n, "use")->line, 2);
    }
    eg_node_free(n);

    /* merge keys: written keys win, then the first merged map */
    n = P("a: &a {x: 1, y: 2}\nb: &b {y: 3, z: 4}\nc:\n  <<: [*a, *b]\n  x: 9\n");
    CHECK(n);
    if (n) {
        eg_node *c = eg_node_get(n, "c");
        CHECK_INT(c->count, 3);
        CHECK_INT(eg_node_get(c, "x")->v.i, 9);
        CHECK_INT(eg_node_get(c, "y")->v.i, 2);
        CHECK_INT(eg_node_get(c, "z")->v.i, 4);
        CHECK(eg_node_get(c, "<<") == NULL);
    }
    eg_node_free(n);
    /* an anchored merge source stays usable after the merge; nested anchors */
    n = P("m:\n  <<: &base {x: 1}\n  y: 2\nagain: *base\nouter: &o [&i [1, 2], 3]\nu1: *o\nu2: *i\n");
    CHECK(n);
    if (n) {
        CHECK_INT(eg_node_get(n, "m")->count, 2);
        CHECK_INT(eg_node_get(eg_node_get(n, "again"), "x")->v.i, 1);
        CHECK(eg_node_equal(eg_node_get(n, "outer"), eg_node_get(n, "u1")));
        CHECK_INT(eg_node_get(n, "u2")->count, 2);
    }
    eg_node_free(n);
    /* merging something other than maps is an error, as in yaml.v3 */
    char err[256];
    CHECK(eg_yaml_parse("a:\n  <<: [1]\n", 13, err, sizeof err) == NULL);
    CHECK(strstr(err, "map merge") != NULL);
    /* a quoted "<<" is an ordinary key */
    n = P("'<<': {x: 1}\n");
    CHECK(n && eg_node_get(n, "<<") != NULL);
    eg_node_free(n);
    /* an anchored key, re-used as a value */
    n = P("&k key: v\nother: *k\n");
    CHECK(n && n->count == 2);
    CHECK_STR(eg_node_str(n, "other"), "key");
    eg_node_free(n);
}

static void test_alias_bomb(void)
{
    const char *bomb =
        "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
        "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
        "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
        "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
        "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";
    char err[256];
    eg_node *n = eg_yaml_parse(bomb, strlen(bomb), err, sizeof err);
    CHECK(!n);
    CHECK(strstr(err, "aliases") != NULL);
    const char *mbomb = "a: &a {a1: [1,2,3,4,5,6,7,8,9,0], a2: [1,2,3,4,5,6,7,8,9,0]}\n"
                        "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
                        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n";
    n = eg_yaml_parse(mbomb, strlen(mbomb), err, sizeof err);
    CHECK(n); /* 1000 copies of a 23-node map: within the budget */
    eg_node_free(n);
    char *mb2 = malloc(strlen(mbomb) + 64);
    sprintf(mb2, "%se: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n", mbomb);
    n = eg_yaml_parse(mb2, strlen(mb2), err, sizeof err);
    CHECK(!n);
    free(mb2);
    /* merge keys are charged too */
    const char *merge = "a: &a {a1: [1,2,3,4,5,6,7,8,9,0], a2: [1,2,3,4,5,6,7,8,9,0], a3: [1,2,3,4,5,6,7,8,9,0]}\n"
                        "b: &b [{<<: *a}, {<<: *a}, {<<: *a}, {<<: *a}, {<<: *a}, {<<: *a}, {<<: *a}, {<<: *a}]\n"
                        "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
                        "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
                        "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
                        "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n";
    n = eg_yaml_parse(merge, strlen(merge), err, sizeof err);
    CHECK(!n);
    CHECK(strstr(err, "aliases") != NULL);
}

static void test_build_clone_equal(void)
{
    eg_node *m = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(m, "s", eg_node_new_str("x"));
    eg_node_map_set(m, "i", eg_node_new_int(-5));
    eg_node_map_set(m, "f", eg_node_new_float(0.5));
    eg_node_map_set(m, "b", eg_node_new_bool(true));
    eg_node_map_set(m, "n", eg_node_new(EG_NODE_NULL));
    eg_node *seq = eg_node_new(EG_NODE_SEQ);
    eg_node_seq_push(seq, eg_node_new_strn("a\0b", 3));
    eg_node_map_set(m, "q", seq);
    eg_node_map_set(m, "s", eg_node_new_str("y")); /* replaces */
    CHECK_INT(m->count, 6);
    CHECK_STR(eg_node_str(m, "s"), "y");
    CHECK_STR(eg_node_get(m, "i")->text, "-5");
    CHECK_STR(eg_node_get(m, "f")->text, "0.5");
    eg_node *c = eg_node_clone(m);
    CHECK(eg_node_equal(m, c));
    eg_node_map_del(c, "b");
    CHECK_INT(c->count, 5);
    CHECK(!eg_node_equal(m, c));
    eg_node_map_del(c, "nothere");
    CHECK_INT(c->count, 5);
    eg_node *c2 = eg_node_clone(m);
    eg_node_get(c2, "q")->items[0]->text[2] = 'c';
    CHECK(!eg_node_equal(m, c2));
    CHECK(!eg_node_equal(eg_node_get(m, "i"), eg_node_get(m, "f")));
    CHECK(eg_node_equal(NULL, NULL));
    CHECK(!eg_node_equal(m, NULL));
    eg_node_free(c);
    eg_node_free(c2);
    eg_node_free(m);
    eg_node_free(NULL);
}

static void check_json(const eg_node *n, bool pretty, const char *want)
{
    size_t len = 0;
    char *j = eg_node_to_json(n, pretty, &len);
    CHECK_STR(j, want);
    CHECK_INT(len, strlen(want));
    free(j);
}

static void test_json_output(void)
{
    eg_node *n = eg_node_new_str("a\"b\\c\n\t\r\x01<>&\xe2\x80\xa8 \xc3\xa9 \xff");
    check_json(n, false, "\"a\\\"b\\\\c\\n\\t\\r\\u0001\\u003c\\u003e\\u0026\\u2028 \xc3\xa9 \\ufffd\"");
    eg_node_free(n);
    n = P("a: 1\nb: [1.5, true, null, \"x\"]\nc: {}\nd: []\ne: 2.0\n");
    check_json(n, false, "{\"a\":1,\"b\":[1.5,true,null,\"x\"],\"c\":{},\"d\":[],\"e\":2}");
    check_json(n, true,
               "{\n  \"a\": 1,\n  \"b\": [\n    1.5,\n    true,\n    null,\n    \"x\"\n  ],\n"
               "  \"c\": {},\n  \"d\": [],\n  \"e\": 2\n}");
    eg_node_free(n);
    check_json(NULL, false, "null");
}

static void test_float_format(void)
{
    static const struct {
        double f;
        const char *want;
    } cases[] = {
        {1.0, "1"}, {0.5, "0.5"}, {-2.25, "-2.25"}, {0.1, "0.1"}, {1.0 / 3, "0.3333333333333333"},
        {1e20, "100000000000000000000"}, {1e21, "1e+21"}, {1.5e21, "1.5e+21"}, {1e-6, "0.000001"},
        {1e-7, "1e-7"}, {1.25e-10, "1.25e-10"}, {123456789.0, "123456789"}, {0.0, "0"},
        {-0.0, "-0"}, {5e-324, "5e-324"}, {1.7976931348623157e308, "1.7976931348623157e+308"},
        {100.0, "100"}, {12.5, "12.5"}, {0.000123, "0.000123"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[64];
        eg_node_format_float(cases[i].f, buf, sizeof buf);
        CHECK_STR(buf, cases[i].want);
    }
    eg_node *nan = eg_node_new_float(NAN), *inf = eg_node_new_float(-INFINITY);
    check_json(nan, false, "null");
    check_json(inf, false, "null");
    eg_node_free(nan);
    eg_node_free(inf);
    char small[4];
    CHECK_INT(eg_node_format_float(123456.5, small, sizeof small), 8);
    CHECK_STR(small, "123");
}

static void roundtrip(eg_node *n)
{
    char err[256];
    char *y = eg_node_to_yaml(n, NULL);
    CHECK(y != NULL);
    if (!y)
        return;
    eg_node *back = eg_yaml_parse(y, strlen(y), err, sizeof err);
    if (!back || !eg_node_equal(n, back)) {
        fprintf(stderr, "  round trip failed (%s):\n%s\n", back ? "differs" : err, y);
        unit_case_failed = 1;
    }
    eg_node_free(back);
    free(y);
}

static void test_yaml_roundtrip(void)
{
    eg_node *n = P("name: demo\nkind: HTTPServer\nport: 10080\nratio: 0.25\nwhole: 3.0\nbig: 1e300\n"
                   "on: yes\nflag: true\nnone: ~\nq1: '123'\nq2: 'true'\nq3: ''\nq4: '~'\nq5: '0x10'\n"
                   "q6: ' lead'\nq7: 'a: b'\nq8: '- x'\nq9: '#c'\nmulti: |\n  one\n  two\n"
                   "multi2: \"no newline\\nat end\"\nkeep: \"x\\n\\n\"\nctl: \"\\x01\\u00e9\\t\"\n"
                   "rules:\n- host: a.com\n  paths: [{pathPrefix: /}]\n- {}\nempty: []\n"
                   "nan: .nan\ninf: -.inf\n'123': numeric key\n'': empty key\n");
    CHECK(n);
    if (n)
        roundtrip(n);
    eg_node_free(n);

    eg_node *m = eg_node_new(EG_NODE_MAP);
    eg_node_map_set(m, "bad utf8", eg_node_new_str("\xff\xfe"));
    eg_node_map_set(m, "nul", eg_node_new_strn("a\0b", 3));
    eg_node_map_set(m, "neg", eg_node_new_float(-0.0));
    eg_node_map_set(m, "i", eg_node_new_int(INT64_MIN));
    char *y = eg_node_to_yaml(m, NULL);
    CHECK(y != NULL);
    eg_node *back = y ? P(y) : NULL;
    CHECK(back);
    if (back) {
        CHECK_STR(eg_node_str(back, "bad utf8"), "\xef\xbf\xbd\xef\xbf\xbd");
        CHECK_INT(eg_node_get(back, "nul")->text_len, 3);
        CHECK_INT(eg_node_get(back, "i")->v.i, INT64_MIN);
        CHECK(eg_node_get(back, "neg")->type == EG_NODE_FLOAT);
    }
    eg_node_free(back);
    free(y);
    eg_node_free(m);

    /* fuzz regressions: a quoted "<<" key must stay quoted, or it reads back as a merge */
    n = P("{\"<<\" ,e10,G}");
    CHECK(n && eg_node_get(n, "<<") && eg_node_get(n, "<<")->type == EG_NODE_NULL);
    if (n)
        roundtrip(n);
    eg_node_free(n);

    /* scalars at the top */
    eg_node *s = eg_node_new_str("plain");
    roundtrip(s);
    eg_node_free(s);
    s = eg_node_new(EG_NODE_NULL);
    roundtrip(s);
    eg_node_free(s);
    s = eg_node_new(EG_NODE_SEQ);
    roundtrip(s);
    eg_node_free(s);
}

static void test_durations(void)
{
    static const struct {
        const char *s;
        int64_t ns;
    } ok[] = {
        {"0", 0}, {"-0", 0}, {"+0", 0}, {"5s", 5000000000LL}, {"30s", 30000000000LL},
        {"1478s", 1478000000000LL}, {"-5s", -5000000000LL}, {"+5s", 5000000000LL},
        {"-0s", 0}, {"0s", 0}, {"1.5h", 5400000000000LL}, {"1m30s", 90000000000LL},
        {"300ms", 300000000LL}, {"1us", 1000}, {"1\xc2\xb5s", 1000}, {"1\xce\xbcs", 1000},
        {"100ns", 100}, {"1h2m3s4ms5us6ns", 3723004005006LL}, {".5s", 500000000LL},
        {"1.s", 1000000000LL}, {"1.004s", 1004000000LL}, {"100.00100s", 100001000000LL},
        {"39h9m14.425s", 140954425000000LL},
        {"9223372036854775807ns", INT64_MAX}, {"-9223372036854775808ns", INT64_MIN},
        {"9223372036.854775807s", INT64_MAX}, {"0.3333333333333333333h", 1200000000000LL},
        {"0.100000000000000000000h", 360000000000LL},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ns = 12345;
        int rc = eg_parse_duration(ok[i].s, &ns);
        if (rc != 0 || ns != ok[i].ns) {
            fprintf(stderr, "  duration %s: rc %d ns %lld, want %lld\n", ok[i].s, rc, (long long)ns,
                    (long long)ok[i].ns);
            unit_case_failed = 1;
        }
    }
    int64_t ns;
    static const char *const bad[] = {
        "", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "1x", "5x", "1h 30m", " 1s", "1s ",
        "9223372036854775808ns", "-9223372036854775809ns", "3000000h", "1e3s", "1,5s", "--1s", "1.5",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (eg_parse_duration(bad[i], &ns) != -1) {
            fprintf(stderr, "  duration \"%s\" should be invalid\n", bad[i]);
            unit_case_failed = 1;
        }
    }
    CHECK_INT(eg_parse_duration(NULL, &ns), -1);
}

static void test_decoder(void)
{
    eg_node *doc = P("name: demo\nport: 80\nratio: 1.5\nwhole: 3.0\nkeepAlive: true\nlegacy: on\n"
                     "timeout: 1.5s\nbad: 5x\nempty: ~\nmethods: [GET, POST]\n"
                     "rules:\n- host: 123\n  paths:\n  - pathPrefix: /a\n    typo: 1\n");
    CHECK(doc);
    if (!doc)
        return;
    eg_dec d;
    eg_dec_init(&d, false);
    char *name = NULL;
    int64_t port = 0, to = 0, keep_i = 7;
    double ratio = 0;
    bool ka = false, legacy = false;
    CHECK(eg_dec_string(&d, doc, "NAME", &name, true));
    CHECK_STR(name, "demo");
    CHECK(eg_dec_string(&d, doc, "name", &name, true)); /* replaces (and frees) the old value */
    CHECK(eg_dec_int(&d, doc, "port", &port, true));
    CHECK_INT(port, 80);
    CHECK(eg_dec_int(&d, doc, "whole", &keep_i, false));
    CHECK_INT(keep_i, 3);
    CHECK(eg_dec_float(&d, doc, "ratio", &ratio, false));
    CHECK(ratio == 1.5);
    CHECK(eg_dec_bool(&d, doc, "keepAlive", &ka, false) && ka);
    CHECK(eg_dec_bool(&d, doc, "legacy", &legacy, false) && legacy);
    CHECK(eg_dec_duration_ms(&d, doc, "timeout", &to, false));
    CHECK_INT(to, 1500);
    keep_i = 42;
    CHECK(eg_dec_int(&d, doc, "empty", &keep_i, false)); /* null = missing */
    CHECK_INT(keep_i, 42);
    CHECK(eg_dec_int(&d, doc, "absent", &keep_i, false));
    CHECK_INT(keep_i, 42);
    char **methods = NULL;
    size_t nm = 0;
    CHECK(eg_dec_string_list(&d, doc, "methods", &methods, &nm, false));
    CHECK_INT(nm, 2);
    if (nm == 2)
        CHECK_STR(methods[1], "POST");
    const eg_node *rules = eg_dec_seq(&d, doc, "rules", true);
    CHECK(rules && rules->count == 1);
    CHECK(eg_dec_ok(&d));

    eg_dec_enter(&d, "rules");
    eg_dec_enter_index(&d, 0);
    const eg_node *r0 = rules->items[0];
    const eg_node *paths = eg_dec_seq(&d, r0, "paths", false);
    eg_dec_enter(&d, "paths");
    eg_dec_enter_index(&d, 0);
    char *prefix = NULL;
    CHECK(eg_dec_string(&d, paths->items[0], "pathPrefix", &prefix, false));
    eg_dec_check_unknown(&d, paths->items[0]);
    CHECK_INT(d.nwarnings, 1);
    if (d.nwarnings)
        CHECK_STR(d.warnings[0], "unknown field rules[0].paths[0].typo");
    eg_dec_leave(&d);
    eg_dec_leave(&d);
    CHECK_STR(d.path, "rules[0]");
    char *host = NULL;
    CHECK(!eg_dec_string(&d, r0, "host", &host, false));
    CHECK_STR(d.error, "rules[0].host: expected a string, got number");
    /* the first error wins; later calls do nothing */
    CHECK(!eg_dec_string(&d, doc, "name", &host, true));
    CHECK(host == NULL);
    CHECK(!eg_dec_fail(&d, "x", "other"));
    CHECK_STR(d.error, "rules[0].host: expected a string, got number");
    CHECK(eg_dec_seq(&d, doc, "rules", true) == NULL);
    eg_dec_leave(&d);
    eg_dec_leave(&d);
    eg_dec_leave(&d); /* one too many is harmless */
    CHECK_STR(d.path, "");
    eg_dec_free(&d);

    /* invalid duration, wrong types, required */
    eg_dec_init(&d, false);
    CHECK(!eg_dec_duration_ms(&d, doc, "bad", &to, false));
    CHECK_STR(d.error, "bad: invalid duration \"5x\"");
    eg_dec_free(&d);
    eg_dec_init(&d, false);
    CHECK(!eg_dec_duration_ms(&d, doc, "port", &to, false));
    CHECK_STR(d.error, "port: expected a duration string, got number");
    eg_dec_free(&d);
    eg_dec_init(&d, false);
    CHECK(!eg_dec_int(&d, doc, "ratio", &port, false));
    CHECK_STR(d.error, "ratio: expected an integer, got number 1.5");
    eg_dec_free(&d);
    eg_dec_init(&d, false);
    CHECK(!eg_dec_bool(&d, doc, "name", &ka, false));
    CHECK_STR(d.error, "name: expected a boolean, got string");
    eg_dec_free(&d);
    eg_dec_init(&d, false);
    eg_dec_enter(&d, "spec");
    CHECK(!eg_dec_string(&d, doc, "empty", &host, true));
    CHECK_STR(d.error, "spec.empty: missing required field");
    eg_dec_free(&d);
    eg_dec_init(&d, false);
    CHECK(!eg_dec_string(&d, eg_node_get(doc, "methods"), "x", &host, false));
    CHECK_STR(d.error, "must be an object");
    eg_dec_free(&d);
    eg_dec_init(&d, false);
    CHECK(eg_dec_map(&d, doc, "rules", false) == NULL);
    CHECK_STR(d.error, "rules: expected an object, got array");
    eg_dec_free(&d);
    eg_dec_init(&d, false);
    eg_dec_enter(&d, "x");
    CHECK(!eg_dec_string_list(&d, doc, "rules", &methods, &nm, false));
    CHECK_STR(d.error, "x.rules[0]: expected a string, got object");
    CHECK_STR(d.path, "x");
    eg_dec_free(&d);
    CHECK_INT(nm, 2); /* untouched on error */

    /* a NULL map: every field is absent */
    eg_dec_init(&d, false);
    CHECK(eg_dec_string(&d, NULL, "x", &host, false));
    CHECK(!eg_dec_string(&d, NULL, "x", &host, true));
    eg_dec_free(&d);

    /* unknown fields at top level: warnings, or an error when strict */
    eg_node *small = P("a: 1\nb: 2\nc: 3\n");
    eg_dec_init(&d, false);
    CHECK(eg_dec_int(&d, small, "a", &port, false));
    eg_dec_check_unknown(&d, small);
    CHECK(eg_dec_ok(&d));
    CHECK_INT(d.nwarnings, 2);
    if (d.nwarnings == 2) {
        CHECK_STR(d.warnings[0], "unknown field b");
        CHECK_STR(d.warnings[1], "unknown field c");
    }
    eg_dec_free(&d);
    eg_dec_init(&d, true);
    eg_dec_enter(&d, "spec");
    eg_dec_check_unknown(&d, small);
    CHECK_STR(d.error, "unknown field spec.b");
    CHECK_INT(d.nwarnings, 0);
    eg_dec_free(&d);
    eg_node_free(small);

    free(name);
    free(prefix);
    eg_strv_free(methods, nm);
    eg_node_free(doc);
}

static void test_decoder_paths(void)
{
    eg_dec d;
    eg_dec_init(&d, false);
    eg_dec_enter(&d, "labels");
    eg_dec_enter(&d, "app.kubernetes.io/name");
    eg_dec_enter_index(&d, 3);
    CHECK_STR(d.path, "labels.app.kubernetes.io/name[3]");
    eg_dec_leave(&d);
    CHECK_STR(d.path, "labels.app.kubernetes.io/name");
    eg_dec_leave(&d);
    CHECK_STR(d.path, "labels");
    eg_dec_leave(&d);
    CHECK_STR(d.path, "");
    CHECK_INT(d.path_len, 0);
    /* very deep and very long paths stay bounded and balanced */
    for (int i = 0; i < 200; i++)
        eg_dec_enter(&d, "abcdefghij");
    CHECK(d.path_len < sizeof d.path);
    CHECK(strlen(d.path) == d.path_len);
    for (int i = 0; i < 200; i++)
        eg_dec_leave(&d);
    CHECK_STR(d.path, "");
    eg_dec_enter(&d, "a");
    eg_dec_fail(&d, NULL, "bad %d", 7);
    CHECK_STR(d.error, "a: bad 7");
    eg_dec_free(&d);
    eg_dec_init(&d, false);
    eg_dec_fail(&d, NULL, "top");
    CHECK_STR(d.error, "top");
    eg_dec_free(&d);
}

int main(void)
{
    RUN(test_scalar_table);
    RUN(test_scalar_values);
    RUN(test_parse_errors);
    RUN(test_nesting_limit);
    RUN(test_multi_docs);
    RUN(test_get_case_insensitive);
    RUN(test_key_spelling);
    RUN(test_aliases);
    RUN(test_alias_bomb);
    RUN(test_build_clone_equal);
    RUN(test_json_output);
    RUN(test_float_format);
    RUN(test_yaml_roundtrip);
    RUN(test_durations);
    RUN(test_decoder);
    RUN(test_decoder_paths);
    UNIT_END("node");
}
