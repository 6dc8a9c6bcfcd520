/* node.c — the document tree: building, lookup, clone, comparison, release; YAML/JSON
 * parsing with libyaml's event parser and YAML output with its emitter. JSON output lives in
 * node_json.c, the spec decoder and Go durations in node_dec.c. Allocation failure aborts
 * (as buf.c does): a half-built tree is not something a caller could recover from anyway. */
#include "node.h"

#include <ctype.h>
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

static void *eg_node_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

static void *eg_node_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        abort();
    return p;
}

static char *eg_node_xstrndup(const char *s, size_t len)
{
    char *p = eg_node_xmalloc(len + 1);
    if (len)
        memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* ---- floats ----------------------------------------------------------------------------- */

/* Shortest decimal digits that read back as exactly `f` (|f| finite, non-zero): digits
 * without a dot into `digits`, and the decimal exponent of the first digit. */
static int shortest_digits(double f, char digits[24], int *exp10)
{
    /* Any decimal of <= 15 significant digits survives a round trip through a double, so
     * when 15 digits read back exactly, the shortest form is those digits minus trailing
     * zeros; otherwise 16, else 17 (always exact). Correct rounding (glibc) makes each the
     * closest candidate of its length, which is what Go's shortest formatting picks.
     * Subnormals carry fewer digits, so they search from 1. */
    char tmp[40];
    for (int prec = f < DBL_MIN ? 1 : 15; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, f);
        if (prec == 17 || strtod(tmp, NULL) == f)
            break;
    }
    /* tmp is "d.ddde[+-]xx" (sign already stripped by the caller passing |f|) */
    int n = 0;
    const char *p = tmp;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9')
            digits[n++] = *p;
    digits[n] = '\0';
    *exp10 = *p == 'e' ? atoi(p + 1) : 0;
    while (n > 1 && digits[n - 1] == '0')
        digits[--n] = '\0';
    return n;
}

/* Go's encoding/json float64 format: shortest round-trip digits, plain notation unless the
 * exponent is < -6 or >= 21, then "1e+21" / "1e-7". NaN and infinities are not JSON; callers
 * decide (JSON writes null, YAML .nan/.inf). */
size_t eg_node_format_float(double f, char *buf, size_t len)
{
    char out[64];
    size_t o = 0;
    if (isnan(f))
        return (size_t)snprintf(buf, len, "NaN");
    if (isinf(f))
        return (size_t)snprintf(buf, len, f < 0 ? "-Inf" : "+Inf");
    if (signbit(f)) {
        out[o++] = '-';
        f = -f;
    }
    if (f == 0) {
        out[o++] = '0';
    } else {
        char d[24];
        int e;
        int n = shortest_digits(f, d, &e);
        if (e < -6 || e >= 21) {
            out[o++] = d[0];
            if (n > 1) {
                out[o++] = '.';
                memcpy(out + o, d + 1, (size_t)n - 1);
                o += (size_t)n - 1;
            }
            o += (size_t)snprintf(out + o, sizeof out - o, "e%c%d", e < 0 ? '-' : '+', e < 0 ? -e : e);
            /* Go's strconv writes at least two exponent digits for positive exponents ("e+21"),
             * encoding/json trims the negative ones ("e-7"); e >= 21 always has two already. */
        } else if (e < 0) {
            out[o++] = '0';
            out[o++] = '.';
            for (int i = -1; i > e; i--)
                out[o++] = '0';
            memcpy(out + o, d, (size_t)n);
            o += (size_t)n;
        } else {
            for (int i = 0; i <= e || i < n; i++) {
                if (i == e + 1)
                    out[o++] = '.';
                out[o++] = i < n ? d[i] : '0';
            }
        }
    }
    out[o] = '\0';
    if (len) {
        size_t c = o < len - 1 ? o : len - 1;
        memcpy(buf, out, c);
        buf[c] = '\0';
    }
    return o;
}

/* ---- building ------------------------------------------------------------------------------ */

static void set_text(eg_node *n, const char *s, size_t len)
{
    free(n->text);
    n->text = eg_node_xstrndup(s, len);
    n->text_len = len;
}

eg_node *eg_node_new(eg_node_type type)
{
    eg_node *n = eg_node_xmalloc(sizeof *n);
    memset(n, 0, sizeof *n);
    n->type = type;
    switch (type) {
    case EG_NODE_NULL:
    case EG_NODE_STRING:
        set_text(n, "", 0);
        break;
    case EG_NODE_BOOL:
        set_text(n, "false", 5);
        break;
    case EG_NODE_INT:
    case EG_NODE_FLOAT:
        set_text(n, "0", 1);
        break;
    case EG_NODE_SEQ:
    case EG_NODE_MAP:
        break;
    }
    return n;
}

eg_node *eg_node_new_strn(const char *s, size_t len)
{
    eg_node *n = eg_node_new(EG_NODE_STRING);
    set_text(n, s, len);
    return n;
}

eg_node *eg_node_new_str(const char *s)
{
    return eg_node_new_strn(s, strlen(s));
}

eg_node *eg_node_new_int(int64_t i)
{
    char tmp[32];
    eg_node *n = eg_node_new(EG_NODE_INT);
    n->v.i = i;
    set_text(n, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)i));
    return n;
}

eg_node *eg_node_new_float(double f)
{
    char tmp[64];
    eg_node *n = eg_node_new(EG_NODE_FLOAT);
    n->v.f = f;
    size_t len = eg_node_format_float(f, tmp, sizeof tmp);
    set_text(n, tmp, len);
    return n;
}

eg_node *eg_node_new_bool(bool b)
{
    eg_node *n = eg_node_new(EG_NODE_BOOL);
    n->v.b = b;
    set_text(n, b ? "true" : "false", b ? 4 : 5);
    return n;
}

static void grow(eg_node *c)
{
    if (c->count < c->cap)
        return;
    c->cap = c->cap ? c->cap * 2 : 4;
    c->items = eg_node_xrealloc(c->items, c->cap * sizeof *c->items);
    if (c->type == EG_NODE_MAP)
        c->keys = eg_node_xrealloc(c->keys, c->cap * sizeof *c->keys);
}

static void eg_node_map_append(eg_node *map, char *key, eg_node *child)
{
    grow(map);
    map->keys[map->count] = key;
    map->items[map->count] = child;
    map->count++;
}

void eg_node_map_set(eg_node *map, const char *key, eg_node *child)
{
    if (!map || map->type != EG_NODE_MAP) {
        eg_node_free(child); /* ownership passed to us; dropping it beats leaking it */
        return;
    }
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            eg_node_free(map->items[i]);
            map->items[i] = child;
            return;
        }
    }
    eg_node_map_append(map, eg_node_xstrndup(key, strlen(key)), child);
}

void eg_node_map_del(eg_node *map, const char *key)
{
    if (!map || map->type != EG_NODE_MAP)
        return;
    for (size_t i = 0; i < map->count; i++) {
        if (strcmp(map->keys[i], key) == 0) {
            free(map->keys[i]);
            eg_node_free(map->items[i]);
            memmove(map->keys + i, map->keys + i + 1, (map->count - i - 1) * sizeof *map->keys);
            memmove(map->items + i, map->items + i + 1, (map->count - i - 1) * sizeof *map->items);
            map->count--;
            return;
        }
    }
}

void eg_node_seq_push(eg_node *seq, eg_node *child)
{
    if (!seq || seq->type != EG_NODE_SEQ) {
        eg_node_free(child);
        return;
    }
    grow(seq);
    seq->items[seq->count++] = child;
}

/* ---- lookup -------------------------------------------------------------------------------- */

static int ascii_casecmp(const char *a, const char *b)
{
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
        if (ca >= 'A' && ca <= 'Z')
            ca = (unsigned char)(ca - 'A' + 'a');
        if (cb >= 'A' && cb <= 'Z')
            cb = (unsigned char)(cb - 'A' + 'a');
        if (ca != cb || !ca)
            return ca - cb;
    }
}

eg_node *eg_node_get(const eg_node *map, const char *key)
{
    if (!map || map->type != EG_NODE_MAP || !key)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    for (size_t i = 0; i < map->count; i++)
        if (ascii_casecmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

const char *eg_node_str(const eg_node *map, const char *key)
{
    const eg_node *n = eg_node_get(map, key);
    return n && n->type == EG_NODE_STRING ? n->text : NULL;
}

/* ---- clone, equal, free -------------------------------------------------------------------- */

eg_node *eg_node_clone(const eg_node *n)
{
    if (!n)
        return NULL;
    eg_node *c = eg_node_xmalloc(sizeof *c);
    *c = *n;
    c->text = n->text ? eg_node_xstrndup(n->text, n->text_len) : NULL;
    c->items = NULL;
    c->keys = NULL;
    c->cap = n->count;
    if (n->type == EG_NODE_SEQ || n->type == EG_NODE_MAP) {
        c->items = n->count ? eg_node_xmalloc(n->count * sizeof *c->items) : NULL;
        if (n->type == EG_NODE_MAP)
            c->keys = n->count ? eg_node_xmalloc(n->count * sizeof *c->keys) : NULL;
        for (size_t i = 0; i < n->count; i++) {
            c->items[i] = eg_node_clone(n->items[i]);
            if (n->type == EG_NODE_MAP)
                c->keys[i] = eg_node_xstrndup(n->keys[i], strlen(n->keys[i]));
        }
    } else {
        c->count = c->cap = 0;
    }
    return c;
}

bool eg_node_equal(const eg_node *a, const eg_node *b)
{
    if (!a || !b)
        return a == b;
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case EG_NODE_NULL:
        return true;
    case EG_NODE_BOOL:
        return a->v.b == b->v.b;
    case EG_NODE_INT:
        return a->v.i == b->v.i;
    case EG_NODE_FLOAT:
        /* structural: NaN equals NaN so a tree equals its own round trip */
        return a->v.f == b->v.f || (isnan(a->v.f) && isnan(b->v.f));
    case EG_NODE_STRING:
        return a->text_len == b->text_len && memcmp(a->text, b->text, a->text_len) == 0;
    case EG_NODE_SEQ:
    case EG_NODE_MAP:
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++) {
            if (a->type == EG_NODE_MAP && strcmp(a->keys[i], b->keys[i]) != 0)
                return false;
            if (!eg_node_equal(a->items[i], b->items[i]))
                return false;
        }
        return true;
    }
    return false;
}

void eg_node_free(eg_node *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->count; i++) {
        eg_node_free(n->items[i]);
        if (n->keys)
            free(n->keys[i]);
    }
    free(n->items);
    free(n->keys);
    free(n->text);
    free(n);
}

void eg_node_free_docs(eg_node **docs, int n)
{
    if (!docs)
        return;
    for (int i = 0; i < n; i++)
        eg_node_free(docs[i]);
    free(docs);
}

void eg_strv_free(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- scalar resolution ------------------------------------------------------------------- */

/* Easegress reads specs with invopop/yaml, which decodes with gopkg.in/yaml.v3 into
 * interface{} before converting to JSON. So plain scalars resolve as yaml.v3 does there:
 * only true/false (three spellings) are booleans; yes/no/on/off stay strings (the decoder's
 * eg_dec_bool still accepts them for a bool field, as YAML 1.1 would). Ints follow Go's
 * strconv.ParseInt(s, 0, 64) after removing every '_' (so 0x1F, 0o17, 017, 0b101, +5);
 * floats must match yaml.v3's decimal pattern; out-of-range floats stay strings. */

static int digit_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'Z')
        return c - 'A' + 10;
    return 99;
}

/* strconv.ParseInt(s, 0, 64) on a string without underscores. */
static bool go_parse_int(const char *s, size_t len, int64_t *out)
{
    bool neg = false;
    if (len && (s[0] == '+' || s[0] == '-')) {
        neg = s[0] == '-';
        s++;
        len--;
    }
    if (!len)
        return false;
    int base = 10;
    if (s[0] == '0') {
        char c1 = len >= 3 ? (char)(s[1] | 0x20) : 0;
        if (c1 == 'b' || c1 == 'o' || c1 == 'x') {
            base = c1 == 'b' ? 2 : c1 == 'o' ? 8 : 16;
            s += 2;
            len -= 2;
        } else {
            base = 8;
            s++;
            len--;
        }
    }
    uint64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = digit_val(s[i]);
        if (d >= base)
            return false;
        if (v > (UINT64_MAX - (uint64_t)d) / (uint64_t)base)
            return false;
        v = v * (uint64_t)base + (uint64_t)d;
    }
    if (neg ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX)
        return false;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return true;
}

/* yaml.v3's yamlStyleFloat: ^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$ */
static bool yaml_style_float(const char *s, size_t len)
{
    size_t i = 0;
    if (i < len && (s[i] == '+' || s[i] == '-'))
        i++;
    if (i < len && s[i] == '.') {
        size_t d = ++i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    } else {
        size_t d = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
        if (i < len && s[i] == '.') {
            i++;
            while (i < len && s[i] >= '0' && s[i] <= '9')
                i++;
        }
    }
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t d = i;
        while (i < len && s[i] >= '0' && s[i] <= '9')
            i++;
        if (i == d)
            return false;
    }
    return i == len;
}

/* strconv.ParseFloat without error: finite result, whole string consumed. */
static bool parse_float_strict(const char *s, double *out)
{
    char *end;
    errno = 0;
    double f = strtod(s, &end);
    if (end == s || *end || (errno == ERANGE && isinf(f)))
        return false;
    *out = f;
    return true;
}

static bool text_in(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (strcmp(s, *list) == 0)
            return true;
    return false;
}

/* Resolve a plain scalar's text (n->text) into n->type and n->v. */
static void resolve_plain(eg_node *n)
{
    static const char *const trues[] = {"true", "True", "TRUE", NULL};
    static const char *const falses[] = {"false", "False", "FALSE", NULL};
    static const char *const nulls[] = {"~", "null", "Null", "NULL", NULL};
    static const char *const nans[] = {".nan", ".NaN", ".NAN", NULL};
    static const char *const pinfs[] = {".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", NULL};
    static const char *const ninfs[] = {"-.inf", "-.Inf", "-.INF", NULL};
    const char *s = n->text;
    size_t len = n->text_len;

    n->type = EG_NODE_STRING;
    if (len == 0 || text_in(s, nulls)) {
        n->type = EG_NODE_NULL;
        return;
    }
    if (strlen(s) != len) /* an embedded NUL can only be a string */
        return;
    if (text_in(s, trues) || text_in(s, falses)) {
        n->type = EG_NODE_BOOL;
        n->v.b = s[0] == 't' || s[0] == 'T';
        return;
    }
    if (text_in(s, nans) || text_in(s, pinfs) || text_in(s, ninfs)) {
        n->type = EG_NODE_FLOAT;
        n->v.f = text_in(s, nans) ? NAN : text_in(s, ninfs) ? -INFINITY : INFINITY;
        return;
    }
    if (s[0] == '.') {
        /* yaml.v3 hands these to strconv.ParseFloat as written, which takes '_' only
         * between two digits (".5_5") */
        char *plain = eg_node_xmalloc(len + 1);
        size_t pl = 0;
        bool ok = true;
        for (size_t i = 0; i < len && ok; i++) {
            if (s[i] == '_')
                ok = i + 1 < len && isdigit((unsigned char)s[i - 1]) && isdigit((unsigned char)s[i + 1]);
            else
                plain[pl++] = s[i];
        }
        plain[pl] = '\0';
        double f;
        if (ok && parse_float_strict(plain, &f)) {
            n->type = EG_NODE_FLOAT;
            n->v.f = f;
        }
        free(plain);
        return;
    }
    if (!(s[0] == '+' || s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return;
    char stackbuf[64];
    char *plain = len < sizeof stackbuf ? stackbuf : eg_node_xmalloc(len + 1);
    size_t pl = 0;
    for (size_t i = 0; i < len; i++)
        if (s[i] != '_')
            plain[pl++] = s[i];
    plain[pl] = '\0';
    int64_t iv;
    double f;
    if (go_parse_int(plain, pl, &iv)) {
        n->type = EG_NODE_INT;
        n->v.i = iv;
    } else if (yaml_style_float(plain, pl) && parse_float_strict(plain, &f)) {
        /* also catches integers beyond int64 (yaml.v3 would make those uint64 up to 2^64) */
        n->type = EG_NODE_FLOAT;
        n->v.f = f;
    }
    if (plain != stackbuf)
        free(plain);
}

/* The type `text` would get if written as a plain scalar (used by the YAML writer). */
static eg_node_type plain_type(const char *text, size_t len)
{
    eg_node tmp = {.type = EG_NODE_STRING, .text = (char *)text, .text_len = len};
    resolve_plain(&tmp);
    return tmp.type;
}

/* ---- parsing ------------------------------------------------------------------------------- */

#define MAX_DEPTH 512            /* nesting beyond this is refused: every walker recurses */
#define MAX_ALIAS_NODES 100000   /* nodes created by alias expansion: stops "billion laughs"
                                  * (yaml.v3 allows a similar order of magnitude) */

#define TAG_PREFIX "tag:yaml.org,2002:"

typedef struct {
    char *name;
    eg_node *node;    /* containers: borrowed from the tree (kept alive until the parse ends);
                       * scalars: a private copy, as a key's node is freed once read */
    bool owned;
    size_t nodes;     /* its node count, charged to the alias budget per use */
} anchor;

typedef struct {
    eg_node *node;          /* SEQ or MAP under construction */
    char *anchor;           /* registered when the container ends */
    char *key;              /* MAP: a key waiting for its value */
    int key_line, key_col;
    bool key_is_merge;      /* the key was a plain `<<` */
    int *key_lines;         /* MAP: position of each key, for duplicate errors */
    int *key_cols;
    eg_node **merges;       /* MAP: `<<` values, applied when the map ends */
    size_t nmerges;
    size_t nodes;           /* nodes in this subtree so far */
} frame;

typedef struct {
    yaml_parser_t p;
    const char *text;
    size_t len;
    int line_off;           /* lines before this piece in the whole input */
    frame *stack;
    size_t depth, stack_cap;
    anchor *anchors;
    size_t nanchors, anchors_cap;
    size_t alias_nodes;
    eg_node **retired;      /* merged-away `<<` values an anchor may still point to */
    size_t nretired;
    eg_node *root;
    char *err;
    size_t errlen;
    bool failed;
} parser;

static bool perr(parser *ps, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool perr(parser *ps, int line, int col, const char *fmt, ...)
{
    if (ps->failed)
        return false;
    ps->failed = true;
    if (ps->err && ps->errlen) {
        int n = snprintf(ps->err, ps->errlen, "line %d, column %d: ", line, col);
        if (n >= 0 && (size_t)n < ps->errlen) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(ps->err + n, ps->errlen - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return false;
}

static size_t count_nodes(const eg_node *n)
{
    size_t c = 1;
    for (size_t i = 0; i < n->count; i++)
        c += count_nodes(n->items[i]);
    return c;
}

/* Borrowing containers (rather than copying) keeps nested anchors from multiplying memory. */
static void register_anchor(parser *ps, const char *name, eg_node *n, size_t nodes)
{
    if (ps->nanchors == ps->anchors_cap) {
        ps->anchors_cap = ps->anchors_cap ? ps->anchors_cap * 2 : 8;
        ps->anchors = eg_node_xrealloc(ps->anchors, ps->anchors_cap * sizeof *ps->anchors);
    }
    anchor *a = &ps->anchors[ps->nanchors++];
    a->name = eg_node_xstrndup(name, strlen(name));
    a->owned = n->type != EG_NODE_SEQ && n->type != EG_NODE_MAP;
    a->node = a->owned ? eg_node_clone(n) : n;
    a->nodes = nodes;
}

static void frame_free(frame *f)
{
    eg_node_free(f->node);
    free(f->anchor);
    free(f->key);
    free(f->key_lines);
    free(f->key_cols);
    for (size_t i = 0; i < f->nmerges; i++)
        eg_node_free(f->merges[i]);
    free(f->merges);
}

static void parser_cleanup(parser *ps)
{
    for (size_t i = 0; i < ps->depth; i++)
        frame_free(&ps->stack[i]);
    free(ps->stack);
    for (size_t i = 0; i < ps->nanchors; i++) {
        free(ps->anchors[i].name);
        if (ps->anchors[i].owned)
            eg_node_free(ps->anchors[i].node);
    }
    free(ps->anchors);
    eg_node_free_docs(ps->retired, (int)ps->nretired);
    eg_node_free(ps->root);
    yaml_parser_delete(&ps->p);
}

static int mark_line(const parser *ps, yaml_mark_t m)
{
    return (int)m.line + 1 + ps->line_off;
}

static int mark_col(yaml_mark_t m)
{
    return (int)m.column + 1;
}

/* A map key as Easegress's YAML->JSON step spells it: non-string keys go through Go's
 * strconv (0x10 -> "16", True -> "true", 1.50 -> "1.5", 1e6 -> "1e+06"); strings and nulls
 * keep their text. Takes the text out of `n`. */
static char *key_text(eg_node *n)
{
    char tmp[64];
    size_t len;
    switch (n->type) {
    case EG_NODE_BOOL:
        len = (size_t)snprintf(tmp, sizeof tmp, "%s", n->v.b ? "true" : "false");
        break;
    case EG_NODE_INT:
        len = (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)n->v.i);
        break;
    case EG_NODE_FLOAT: {
        /* strconv.FormatFloat(f, 'g', -1, 64): %e form when the exponent is < -4 or >= 6 */
        double f = fabs(n->v.f);
        if (isnan(f) || isinf(f) || f == 0) {
            len = eg_node_format_float(n->v.f, tmp, sizeof tmp);
            break;
        }
        char d[24];
        int e, nd = shortest_digits(f, d, &e);
        if (e < -4 || e >= 6) {
            len = (size_t)snprintf(tmp, sizeof tmp, "%s%c%s%se%c%02d", signbit(n->v.f) ? "-" : "",
                                   d[0], nd > 1 ? "." : "", d + 1, e < 0 ? '-' : '+', e < 0 ? -e : e);
        } else {
            len = eg_node_format_float(n->v.f, tmp, sizeof tmp);
        }
        break;
    }
    default: {
        char *t = n->text;
        n->text = NULL;
        return t;
    }
    }
    return eg_node_xstrndup(tmp, len);
}

/* Attach a finished node to the container on top of the stack (or make it the root).
 * Takes ownership of `n` in every case. */
static bool attach(parser *ps, eg_node *n, bool plain_untagged, size_t nodes)
{
    if (ps->depth == 0) {
        eg_node_free(ps->root);
        ps->root = n;
        return true;
    }
    frame *f = &ps->stack[ps->depth - 1];
    eg_node *c = f->node;
    f->nodes += nodes;
    if (c->type == EG_NODE_SEQ) {
        eg_node_seq_push(c, n);
        return true;
    }
    if (!f->key) {
        /* JSON can only express string keys; a YAML collection key has no JSON form */
        if (n->type == EG_NODE_SEQ || n->type == EG_NODE_MAP) {
            int l = n->line, col = n->col;
            eg_node_free(n);
            return perr(ps, l, col, "mapping key must be a scalar");
        }
        /* `<<` merges only when written plain and untagged, as YAML's merge key type says */
        f->key_is_merge = plain_untagged && strcmp(n->text, "<<") == 0;
        f->key = key_text(n);
        f->key_line = n->line;
        f->key_col = n->col;
        eg_node_free(n);
        return true;
    }
    if (f->key_is_merge) {
        bool ok = n->type == EG_NODE_MAP;
        if (n->type == EG_NODE_SEQ) {
            ok = true;
            for (size_t i = 0; i < n->count; i++)
                ok = ok && n->items[i]->type == EG_NODE_MAP;
        }
        if (!ok) {
            int l = n->line, col = n->col;
            eg_node_free(n);
            return perr(ps, l, col, "map merge requires map or sequence of maps as the value");
        }
        f->merges = eg_node_xrealloc(f->merges, (f->nmerges + 1) * sizeof *f->merges);
        f->merges[f->nmerges++] = n;
        free(f->key);
        f->key = NULL;
        return true;
    }
    if (c->count == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 4;
        f->key_lines = eg_node_xrealloc(f->key_lines, cap * sizeof *f->key_lines);
        f->key_cols = eg_node_xrealloc(f->key_cols, cap * sizeof *f->key_cols);
    }
    f->key_lines[c->count] = f->key_line;
    f->key_cols[c->count] = f->key_col;
    eg_node_map_append(c, f->key, n); /* grows c->cap exactly as above */
    f->key = NULL;
    return true;
}

static uint64_t hash_key(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* yaml.v3 refuses a mapping that repeats a key; so do we (hash set: maps can be big). */
static bool check_duplicates(parser *ps, const frame *f)
{
    const eg_node *m = f->node;
    if (m->count < 2)
        return true;
    size_t size = 4;
    while (size < m->count * 2)
        size *= 2;
    size_t *slots = eg_node_xmalloc(size * sizeof *slots);
    for (size_t i = 0; i < size; i++)
        slots[i] = SIZE_MAX;
    bool ok = true;
    for (size_t i = 0; i < m->count && ok; i++) {
        size_t h = (size_t)hash_key(m->keys[i]) & (size - 1);
        while (slots[h] != SIZE_MAX) {
            size_t j = slots[h];
            if (strcmp(m->keys[j], m->keys[i]) == 0) {
                ok = perr(ps, f->key_lines[i], f->key_cols[i],
                          "mapping key \"%s\" already defined at line %d", m->keys[i], f->key_lines[j]);
                break;
            }
            h = (h + 1) & (size - 1);
        }
        slots[h] = i;
    }
    free(slots);
    return ok;
}

static bool map_has(const eg_node *m, const char *key)
{
    for (size_t i = 0; i < m->count; i++)
        if (strcmp(m->keys[i], key) == 0)
            return true;
    return false;
}

/* Merge keys: keys written in the map win over merged ones; among merged maps the first
 * listed wins (YAML merge key semantics). Copies are charged to the alias budget. */
static bool apply_merges(parser *ps, frame *f)
{
    eg_node *m = f->node;
    for (size_t k = 0; k < f->nmerges; k++) {
        eg_node *src = f->merges[k];
        size_t nsrc = src->type == EG_NODE_MAP ? 1 : src->count;
        for (size_t s = 0; s < nsrc; s++) {
            eg_node *from = src->type == EG_NODE_MAP ? src : src->items[s];
            for (size_t i = 0; i < from->count; i++) {
                if (map_has(m, from->keys[i]))
                    continue;
                size_t c = count_nodes(from->items[i]);
                if (ps->alias_nodes + c > MAX_ALIAS_NODES)
                    return perr(ps, from->line, from->col,
                                "document expands aliases too far (more than %d nodes)", MAX_ALIAS_NODES);
                ps->alias_nodes += c;
                f->nodes += c;
                eg_node_map_append(m, eg_node_xstrndup(from->keys[i], strlen(from->keys[i])),
                                   eg_node_clone(from->items[i]));
            }
        }
    }
    return true;
}

static eg_node *scalar_node(parser *ps, const yaml_event_t *ev)
{
    const char *tag = (const char *)ev->data.scalar.tag;
    const char *val = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    int line = mark_line(ps, ev->start_mark), col = mark_col(ev->start_mark);
    eg_node *n = eg_node_xmalloc(sizeof *n);
    memset(n, 0, sizeof *n);
    n->type = EG_NODE_STRING;
    n->line = line;
    n->col = col;
    n->text = eg_node_xstrndup(val, len);
    n->text_len = len;

    bool plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    if (!tag || strcmp(tag, "!") == 0) {
        if (plain && !(tag && tag[0]))
            resolve_plain(n);
        return n;
    }
    if (strncmp(tag, TAG_PREFIX, strlen(TAG_PREFIX)) != 0)
        return n; /* a local tag (!foo): yaml.v3 keeps the text */
    const char *t = tag + strlen(TAG_PREFIX);
    eg_node_type want;
    if (strcmp(t, "int") == 0)
        want = EG_NODE_INT;
    else if (strcmp(t, "float") == 0)
        want = EG_NODE_FLOAT;
    else if (strcmp(t, "bool") == 0)
        want = EG_NODE_BOOL;
    else if (strcmp(t, "null") == 0)
        want = EG_NODE_NULL;
    else
        return n; /* !!str, !!binary, !!timestamp...: the text */
    resolve_plain(n);
    if (want == EG_NODE_FLOAT && n->type == EG_NODE_INT) {
        n->type = EG_NODE_FLOAT;
        n->v.f = (double)n->v.i;
    }
    if (n->type != want) {
        perr(ps, line, col, "cannot decode `%s` as a !!%s", n->text, t);
        eg_node_free(n);
        return NULL;
    }
    return n;
}

static bool push_container(parser *ps, eg_node_type type, const yaml_event_t *ev, const char *anchor_name)
{
    int line = mark_line(ps, ev->start_mark), col = mark_col(ev->start_mark);
    if (ps->depth >= MAX_DEPTH)
        return perr(ps, line, col, "document nested too deeply (more than %d levels)", MAX_DEPTH);
    if (ps->depth == ps->stack_cap) {
        ps->stack_cap = ps->stack_cap ? ps->stack_cap * 2 : 16;
        ps->stack = eg_node_xrealloc(ps->stack, ps->stack_cap * sizeof *ps->stack);
    }
    frame *f = &ps->stack[ps->depth++];
    memset(f, 0, sizeof *f);
    f->node = eg_node_new(type);
    f->node->line = line;
    f->node->col = col;
    f->nodes = 1;
    if (anchor_name)
        f->anchor = eg_node_xstrndup(anchor_name, strlen(anchor_name));
    return true;
}

static bool pop_container(parser *ps)
{
    frame f = ps->stack[--ps->depth];
    bool ok = true;
    if (f.node->type == EG_NODE_MAP)
        ok = check_duplicates(ps, &f) && apply_merges(ps, &f);
    eg_node *n = f.node;
    f.node = NULL;
    if (ok && f.anchor)
        register_anchor(ps, f.anchor, n, f.nodes);
    if (ok && f.nmerges) {
        ps->retired = eg_node_xrealloc(ps->retired, (ps->nretired + f.nmerges) * sizeof *ps->retired);
        memcpy(ps->retired + ps->nretired, f.merges, f.nmerges * sizeof *f.merges);
        ps->nretired += f.nmerges;
        f.nmerges = 0;
    }
    frame_free(&f);
    if (!ok) {
        eg_node_free(n);
        return false;
    }
    return attach(ps, n, false, f.nodes);
}

static bool on_alias(parser *ps, const yaml_event_t *ev)
{
    const char *name = (const char *)ev->data.alias.anchor;
    int line = mark_line(ps, ev->start_mark), col = mark_col(ev->start_mark);
    for (size_t i = ps->nanchors; i-- > 0;) {
        anchor *a = &ps->anchors[i];
        if (strcmp(a->name, name) != 0)
            continue;
        if (ps->alias_nodes + a->nodes > MAX_ALIAS_NODES)
            return perr(ps, line, col, "document expands aliases too far (more than %d nodes)",
                        MAX_ALIAS_NODES);
        ps->alias_nodes += a->nodes;
        eg_node *n = eg_node_clone(a->node);
        n->line = line;
        n->col = col;
        /* an alias of a plain `<<` scalar is not a merge key (the alias is not plain) */
        return attach(ps, n, false, a->nodes);
    }
    return perr(ps, line, col, "unknown anchor '%s' referenced", name);
}

static void offset_to_mark(const parser *ps, size_t off, int *line, int *col)
{
    int l = 1, c = 1;
    for (size_t i = 0; i < off && i < ps->len; i++) {
        if (ps->text[i] == '\n') {
            l++;
            c = 1;
        } else {
            c++;
        }
    }
    *line = l + ps->line_off;
    *col = c;
}

static bool libyaml_error(parser *ps)
{
    const yaml_parser_t *p = &ps->p;
    const char *problem = p->problem ? p->problem : "invalid YAML";
    int line, col;
    switch (p->error) {
    case YAML_MEMORY_ERROR:
        abort(); /* as every other allocation failure in this file */
    case YAML_READER_ERROR:
        offset_to_mark(ps, p->problem_offset, &line, &col);
        if (p->problem_value != -1)
            return perr(ps, line, col, "%s (byte 0x%02x)", problem, (unsigned)p->problem_value & 0xff);
        return perr(ps, line, col, "%s", problem);
    default:
        return perr(ps, mark_line(ps, p->problem_mark), mark_col(p->problem_mark), "%s", problem);
    }
}

/* Parse one piece. Returns 1 with *out set, 0 when the piece holds no document, -1 on error. */
static int parse_piece(const char *text, size_t len, int line_off, eg_node **out, char *err, size_t errlen)
{
    parser ps;
    memset(&ps, 0, sizeof ps);
    ps.text = text;
    ps.len = len;
    ps.line_off = line_off;
    ps.err = err;
    ps.errlen = errlen;
    *out = NULL;
    if (!yaml_parser_initialize(&ps.p))
        abort();
    yaml_parser_set_input_string(&ps.p, (const unsigned char *)text, len);

    int docs = 0;
    bool done = false;
    while (!done && !ps.failed) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&ps.p, &ev)) {
            libyaml_error(&ps);
            break;
        }
        switch (ev.type) {
        case YAML_STREAM_END_EVENT:
            done = true;
            break;
        case YAML_DOCUMENT_START_EVENT:
            if (++docs > 1)
                perr(&ps, mark_line(&ps, ev.start_mark), mark_col(ev.start_mark),
                     "expected a single document, found another");
            break;
        case YAML_SCALAR_EVENT: {
            eg_node *n = scalar_node(&ps, &ev);
            if (!n)
                break;
            if (ev.data.scalar.anchor)
                register_anchor(&ps, (const char *)ev.data.scalar.anchor, n, 1);
            bool plain_untagged = ev.data.scalar.style == YAML_PLAIN_SCALAR_STYLE && !ev.data.scalar.tag;
            attach(&ps, n, plain_untagged, 1);
            break;
        }
        case YAML_SEQUENCE_START_EVENT:
            push_container(&ps, EG_NODE_SEQ, &ev, (const char *)ev.data.sequence_start.anchor);
            break;
        case YAML_MAPPING_START_EVENT:
            push_container(&ps, EG_NODE_MAP, &ev, (const char *)ev.data.mapping_start.anchor);
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            pop_container(&ps);
            break;
        case YAML_ALIAS_EVENT:
            on_alias(&ps, &ev);
            break;
        default:
            break;
        }
        yaml_event_delete(&ev);
    }
    int rc = ps.failed ? -1 : docs ? 1 : 0;
    if (rc == 1) {
        *out = ps.root;
        ps.root = NULL;
    }
    parser_cleanup(&ps);
    return rc;
}

eg_node *eg_yaml_parse(const char *text, size_t len, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    eg_node *n;
    int rc = parse_piece(text ? text : "", text ? len : 0, 0, &n, err, errlen);
    if (rc < 0)
        return NULL;
    return rc ? n : eg_node_new(EG_NODE_NULL); /* an empty text is a null document */
}

/* The k8s YAML reader egctl uses: a line that is `---` followed only by whitespace. */
static bool separator_line(const char *s, size_t len)
{
    if (len < 3 || memcmp(s, "---", 3) != 0)
        return false;
    for (size_t i = 3; i < len; i++)
        if (!isspace((unsigned char)s[i]))
            return false;
    return true;
}

int eg_yaml_parse_docs(const char *text, size_t len, eg_node ***docs, char *err, size_t errlen)
{
    eg_node **out = NULL;
    int n = 0;
    if (err && errlen)
        err[0] = '\0';
    *docs = NULL;
    if (!text)
        len = 0;
    size_t start = 0, pos = 0;
    int line = 0, start_line = 0;
    while (pos <= len) {
        size_t eol = pos;
        while (eol < len && text[eol] != '\n')
            eol++;
        bool sep = separator_line(text + pos, eol - pos);
        if (sep || eol >= len) {
            size_t end = sep ? pos : len;
            eg_node *doc = NULL;
            int rc = parse_piece(text + start, end - start, start_line, &doc, err, errlen);
            if (rc < 0) {
                eg_node_free_docs(out, n);
                return -1;
            }
            if (rc > 0) {
                out = eg_node_xrealloc(out, (size_t)(n + 1) * sizeof *out);
                out[n++] = doc;
            }
            start = eol < len ? eol + 1 : len;
            start_line = line + 1;
        }
        if (eol >= len)
            break;
        pos = eol + 1;
        line++;
    }
    *docs = out;
    return n;
}

/* ---- YAML output ---------------------------------------------------------------------------- */

typedef struct {
    char *data;
    size_t len, cap;
} outbuf;

static int out_write(void *ctx, unsigned char *buf, size_t size)
{
    outbuf *o = ctx;
    if (o->len + size + 1 > o->cap) {
        while (o->len + size + 1 > o->cap)
            o->cap = o->cap ? o->cap * 2 : 256;
        o->data = eg_node_xrealloc(o->data, o->cap);
    }
    memcpy(o->data + o->len, buf, size);
    o->len += size;
    o->data[o->len] = '\0';
    return 1;
}

/* Length of the valid UTF-8 sequence at s, or 0 when invalid (node_json.c decodes it). */
static size_t utf8_seq(const unsigned char *s, size_t left)
{
    unsigned cp;
    return eg_utf8_decode(s, left, &cp);
}

/* Built trees may hold any bytes; libyaml's emitter insists on UTF-8, so invalid bytes
 * become U+FFFD (what Go's encoders do too). Returns NULL when `s` is already valid. */
static char *utf8_sanitize(const char *s, size_t len, size_t *outlen)
{
    size_t i = 0, n;
    while (i < len && (n = utf8_seq((const unsigned char *)s + i, len - i)))
        i += n;
    if (i == len)
        return NULL;
    char *o = eg_node_xmalloc(len * 3 + 1);
    size_t k = 0;
    for (i = 0; i < len;) {
        n = utf8_seq((const unsigned char *)s + i, len - i);
        if (n) {
            memcpy(o + k, s + i, n);
            k += n;
            i += n;
        } else {
            memcpy(o + k, "\xEF\xBF\xBD", 3);
            k += 3;
            i++;
        }
    }
    o[k] = '\0';
    *outlen = k;
    return o;
}

static bool emit_scalar(yaml_emitter_t *e, const char *text, size_t len, yaml_scalar_style_t style)
{
    yaml_event_t ev;
    size_t clean_len;
    char *clean = utf8_sanitize(text, len, &clean_len);
    if (clean) {
        text = clean;
        len = clean_len;
    }
    bool ok = yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)text, (int)len, 1, 1, style) &&
              yaml_emitter_emit(e, &ev);
    free(clean);
    return ok;
}

/* A string that would read back as another type (or null) when plain gets quotes; so does
 * a key `<<`, which plain would read back as a merge. */
static bool emit_string(yaml_emitter_t *e, const char *text, size_t len, bool key)
{
    yaml_scalar_style_t style = YAML_ANY_SCALAR_STYLE;
    if (plain_type(text, len) != EG_NODE_STRING || (key && strcmp(text, "<<") == 0))
        style = YAML_SINGLE_QUOTED_SCALAR_STYLE;
    else if (memchr(text, '\n', len))
        style = YAML_LITERAL_SCALAR_STYLE; /* libyaml falls back to quotes when it must */
    return emit_scalar(e, text, len, style);
}

static bool emit_node(yaml_emitter_t *e, const eg_node *n)
{
    yaml_event_t ev;
    char tmp[64];
    if (!n)
        return emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    switch (n->type) {
    case EG_NODE_NULL:
        return emit_scalar(e, "null", 4, YAML_PLAIN_SCALAR_STYLE);
    case EG_NODE_BOOL:
        return emit_scalar(e, n->v.b ? "true" : "false", n->v.b ? 4 : 5, YAML_PLAIN_SCALAR_STYLE);
    case EG_NODE_INT:
        return emit_scalar(e, tmp, (size_t)snprintf(tmp, sizeof tmp, "%lld", (long long)n->v.i),
                           YAML_PLAIN_SCALAR_STYLE);
    case EG_NODE_FLOAT: {
        size_t len;
        if (isnan(n->v.f)) {
            len = (size_t)snprintf(tmp, sizeof tmp, ".nan");
        } else if (isinf(n->v.f)) {
            len = (size_t)snprintf(tmp, sizeof tmp, n->v.f < 0 ? "-.inf" : ".inf");
        } else {
            len = eg_node_format_float(n->v.f, tmp, sizeof tmp - 3);
            if (!strpbrk(tmp, ".e")) { /* "1" would read back as an int */
                memcpy(tmp + len, ".0", 3);
                len += 2;
            }
        }
        return emit_scalar(e, tmp, len, YAML_PLAIN_SCALAR_STYLE);
    }
    case EG_NODE_STRING:
        return emit_string(e, n->text ? n->text : "", n->text ? n->text_len : 0, false);
    case EG_NODE_SEQ:
        if (!yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1,
                                                  n->count ? YAML_BLOCK_SEQUENCE_STYLE : YAML_FLOW_SEQUENCE_STYLE) ||
            !yaml_emitter_emit(e, &ev))
            return false;
        for (size_t i = 0; i < n->count; i++)
            if (!emit_node(e, n->items[i]))
                return false;
        return yaml_sequence_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
    case EG_NODE_MAP:
        if (!yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1,
                                                 n->count ? YAML_BLOCK_MAPPING_STYLE : YAML_FLOW_MAPPING_STYLE) ||
            !yaml_emitter_emit(e, &ev))
            return false;
        for (size_t i = 0; i < n->count; i++)
            if (!emit_string(e, n->keys[i], strlen(n->keys[i]), true) || !emit_node(e, n->items[i]))
                return false;
        return yaml_mapping_end_event_initialize(&ev) && yaml_emitter_emit(e, &ev);
    }
    return false;
}

char *eg_node_to_yaml(const eg_node *n, size_t *len)
{
    yaml_emitter_t e;
    yaml_event_t ev;
    outbuf o = {0};
    if (!yaml_emitter_initialize(&e))
        abort();
    yaml_emitter_set_output(&e, out_write, &o);
    yaml_emitter_set_unicode(&e, 1);
    yaml_emitter_set_indent(&e, 2);
    yaml_emitter_set_width(&e, -1);
    bool ok = yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING) && yaml_emitter_emit(&e, &ev) &&
              yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1) && yaml_emitter_emit(&e, &ev) &&
              emit_node(&e, n) &&
              yaml_document_end_event_initialize(&ev, 1) && yaml_emitter_emit(&e, &ev) &&
              yaml_stream_end_event_initialize(&ev) && yaml_emitter_emit(&e, &ev) &&
              yaml_emitter_flush(&e);
    if (!ok && e.error == YAML_MEMORY_ERROR)
        abort();
    yaml_emitter_delete(&e);
    if (!ok) {
        /* cannot happen for a well-formed tree (strings are sanitised first) */
        free(o.data);
        return NULL;
    }
    if (!o.data)
        out_write(&o, (unsigned char *)"", 0);
    if (len)
        *len = o.len;
    return o.data;
}
