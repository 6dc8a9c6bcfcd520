/* json_schema.c — see json_schema.h. Both walks (check and validate) go keyword by keyword
 * over the schema map; paths in messages are JSON-pointer-like ("(root)", "users.0.name"). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "json_schema.h"

#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 64

/* Exact key lookup (JSON keys are case-sensitive; eg_node_get also folds case). */
static const eg_node *get(const eg_node *map, const char *key)
{
    if (!map || map->type != EG_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->keys[i], key) == 0)
            return map->items[i];
    return NULL;
}

static bool is_number(const eg_node *n)
{
    return n && (n->type == EG_NODE_INT || n->type == EG_NODE_FLOAT);
}

static double num(const eg_node *n)
{
    return n->type == EG_NODE_INT ? (double)n->v.i : n->v.f;
}

/* JSON equality: numbers by value, objects regardless of key order. */
static bool json_equal(const eg_node *a, const eg_node *b)
{
    if (is_number(a) && is_number(b))
        return a->type == EG_NODE_INT && b->type == EG_NODE_INT ? a->v.i == b->v.i : num(a) == num(b);
    if (a->type != b->type)
        return false;
    switch (a->type) {
    case EG_NODE_NULL:
        return true;
    case EG_NODE_BOOL:
        return a->v.b == b->v.b;
    case EG_NODE_STRING:
        return a->text_len == b->text_len && memcmp(a->text, b->text, a->text_len) == 0;
    case EG_NODE_SEQ:
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++)
            if (!json_equal(a->items[i], b->items[i]))
                return false;
        return true;
    case EG_NODE_MAP:
        if (a->count != b->count)
            return false;
        for (size_t i = 0; i < a->count; i++) {
            const eg_node *o = get(b, a->keys[i]);
            if (!o || !json_equal(a->items[i], o))
                return false;
        }
        return true;
    default:
        return false;
    }
}

static const char *type_names[] = {"null", "boolean", "object", "array", "number", "string", "integer"};

static bool type_name_ok(const char *t)
{
    for (size_t i = 0; i < sizeof type_names / sizeof *type_names; i++)
        if (strcmp(t, type_names[i]) == 0)
            return true;
    return false;
}

static const char *type_of(const eg_node *n)
{
    switch (n->type) {
    case EG_NODE_NULL: return "null";
    case EG_NODE_BOOL: return "boolean";
    case EG_NODE_INT: return "integer";
    case EG_NODE_FLOAT: return n->v.f == floor(n->v.f) && isfinite(n->v.f) ? "integer" : "number";
    case EG_NODE_STRING: return "string";
    case EG_NODE_SEQ: return "array";
    case EG_NODE_MAP: return "object";
    }
    return "?";
}

static bool has_type(const eg_node *n, const char *t)
{
    const char *mine = type_of(n);
    return strcmp(mine, t) == 0 || (strcmp(t, "number") == 0 && is_number(n));
}

static pcre2_code *re_compile(const char *pat, char *err, size_t errlen)
{
    int code;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                                   &code, &off, NULL);
    if (!re && err) {
        PCRE2_UCHAR msg[200];
        if (pcre2_get_error_message(code, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", code);
        snprintf(err, errlen, "invalid regexp \"%s\": %s (at offset %zu)", pat, (char *)msg, (size_t)off);
    }
    return re;
}

/* An unanchored search, bounded like the router's; a resource error counts as no match. */
static bool re_search(const char *pat, const char *s, size_t n)
{
    pcre2_code *re = re_compile(pat, NULL, 0);
    if (!re)
        return false;
    pcre2_match_data *md = pcre2_match_data_create(1, NULL);
    pcre2_match_context *mc = pcre2_match_context_create(NULL);
    bool ok = false;
    if (md && mc) {
        pcre2_set_match_limit(mc, 100000);
        pcre2_set_depth_limit(mc, 1000);
        ok = pcre2_match(re, (PCRE2_SPTR)s, n, 0, 0, md, mc) >= 0;
    }
    pcre2_match_context_free(mc);
    pcre2_match_data_free(md);
    pcre2_code_free(re);
    return ok;
}

static size_t utf8_chars(const char *s, size_t n)
{
    size_t count = 0;
    for (size_t i = 0; i < n; i++)
        count += ((unsigned char)s[i] & 0xc0) != 0x80;
    return count;
}

/* ---- checking a schema ------------------------------------------------------------------ */

typedef struct {
    char path[512];
    size_t len;
    char *err;
    size_t errlen;
} walk;

static void push(walk *w, const char *seg, size_t *saved)
{
    *saved = w->len;
    int n = snprintf(w->path + w->len, sizeof w->path - w->len, "%s%s", w->len ? "." : "", seg);
    if (n > 0 && (size_t)n < sizeof w->path - w->len)
        w->len += (size_t)n;
}

static void push_index(walk *w, size_t i, size_t *saved)
{
    char b[24];
    snprintf(b, sizeof b, "%zu", i);
    push(w, b, saved);
}

static void pop(walk *w, size_t saved)
{
    w->len = saved;
    w->path[saved] = '\0';
}

static bool fail(walk *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool fail(walk *w, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(w->err, w->errlen, "%s: %s", w->len ? w->path : "(root)", msg);
    return false;
}

static bool check(walk *w, const eg_node *s, int depth);

static bool check_sub(walk *w, const char *kw, const eg_node *s, int depth)
{
    size_t saved;
    push(w, kw, &saved);
    bool ok = check(w, s, depth + 1);
    pop(w, saved);
    return ok;
}

static bool check_schema_list(walk *w, const char *kw, const eg_node *v, int depth)
{
    if (v->type != EG_NODE_SEQ || v->count == 0)
        return fail(w, "%s must be a non-empty array of schemas", kw);
    size_t s1, s2;
    push(w, kw, &s1);
    for (size_t i = 0; i < v->count; i++) {
        push_index(w, i, &s2);
        bool ok = check(w, v->items[i], depth + 1);
        pop(w, s2);
        if (!ok)
            return false;
    }
    pop(w, s1);
    return true;
}

static bool check_count(walk *w, const char *kw, const eg_node *v)
{
    if (v->type != EG_NODE_INT || v->v.i < 0)
        return fail(w, "%s must be a non-negative integer", kw);
    return true;
}

static bool check(walk *w, const eg_node *s, int depth)
{
    if (depth > MAX_DEPTH)
        return fail(w, "schema nested too deeply");
    if (s->type == EG_NODE_BOOL)
        return true;   /* true / false schemas (draft 6) */
    if (s->type != EG_NODE_MAP)
        return fail(w, "a schema must be an object");
    for (size_t i = 0; i < s->count; i++) {
        const char *kw = s->keys[i];
        const eg_node *v = s->items[i];
        if (!strcmp(kw, "$ref"))
            return fail(w, "$ref is not supported");
        if (!strcmp(kw, "type")) {
            if (v->type == EG_NODE_STRING) {
                if (!type_name_ok(v->text))
                    return fail(w, "unknown type \"%s\"", v->text);
            } else if (v->type == EG_NODE_SEQ && v->count) {
                for (size_t j = 0; j < v->count; j++)
                    if (v->items[j]->type != EG_NODE_STRING || !type_name_ok(v->items[j]->text))
                        return fail(w, "type must be a type name or a list of them");
            } else {
                return fail(w, "type must be a type name or a list of them");
            }
        } else if (!strcmp(kw, "enum")) {
            if (v->type != EG_NODE_SEQ || v->count == 0)
                return fail(w, "enum must be a non-empty array");
        } else if (!strcmp(kw, "properties") || !strcmp(kw, "patternProperties")) {
            if (v->type != EG_NODE_MAP)
                return fail(w, "%s must be an object", kw);
            size_t s1;
            push(w, kw, &s1);
            for (size_t j = 0; j < v->count; j++) {
                char rerr[300];
                if (!strcmp(kw, "patternProperties")) {
                    pcre2_code *re = re_compile(v->keys[j], rerr, sizeof rerr);
                    if (!re)
                        return fail(w, "%s", rerr);
                    pcre2_code_free(re);
                }
                if (!check_sub(w, v->keys[j], v->items[j], depth))
                    return false;
            }
            pop(w, s1);
        } else if (!strcmp(kw, "required")) {
            if (v->type != EG_NODE_SEQ)
                return fail(w, "required must be an array of strings");
            for (size_t j = 0; j < v->count; j++)
                if (v->items[j]->type != EG_NODE_STRING)
                    return fail(w, "required must be an array of strings");
        } else if (!strcmp(kw, "additionalProperties") || !strcmp(kw, "additionalItems") ||
                   !strcmp(kw, "not")) {
            if (!check_sub(w, kw, v, depth))
                return false;
        } else if (!strcmp(kw, "items")) {
            if (v->type == EG_NODE_SEQ) {
                if (!check_schema_list(w, kw, v, depth))
                    return false;
            } else if (!check_sub(w, kw, v, depth)) {
                return false;
            }
        } else if (!strcmp(kw, "allOf") || !strcmp(kw, "anyOf") || !strcmp(kw, "oneOf")) {
            if (!check_schema_list(w, kw, v, depth))
                return false;
        } else if (!strcmp(kw, "minProperties") || !strcmp(kw, "maxProperties") ||
                   !strcmp(kw, "minItems") || !strcmp(kw, "maxItems") ||
                   !strcmp(kw, "minLength") || !strcmp(kw, "maxLength")) {
            if (!check_count(w, kw, v))
                return false;
        } else if (!strcmp(kw, "uniqueItems")) {
            if (v->type != EG_NODE_BOOL)
                return fail(w, "uniqueItems must be a boolean");
        } else if (!strcmp(kw, "pattern")) {
            char rerr[300];
            if (v->type != EG_NODE_STRING)
                return fail(w, "pattern must be a string");
            pcre2_code *re = re_compile(v->text, rerr, sizeof rerr);
            if (!re)
                return fail(w, "pattern: %s", rerr);
            pcre2_code_free(re);
        } else if (!strcmp(kw, "minimum") || !strcmp(kw, "maximum")) {
            if (!is_number(v))
                return fail(w, "%s must be a number", kw);
        } else if (!strcmp(kw, "exclusiveMinimum") || !strcmp(kw, "exclusiveMaximum")) {
            if (!is_number(v) && v->type != EG_NODE_BOOL)
                return fail(w, "%s must be a number (or, in draft 4, a boolean)", kw);
        } else if (!strcmp(kw, "multipleOf")) {
            if (!is_number(v) || num(v) <= 0)
                return fail(w, "multipleOf must be a number greater than 0");
        }
    }
    return true;
}

bool eg_json_schema_check(const eg_node *schema, char *err, size_t errlen)
{
    walk w = {.err = err, .errlen = errlen};
    if (!schema)
        return true;
    return check(&w, schema, 0);
}

/* ---- validating a document ------------------------------------------------------------ */

typedef struct {
    walk w;
    char *out;           /* "; "-separated failures */
    size_t out_len, out_cap;
    int nerrors;
    bool quiet;          /* inside anyOf/oneOf/not: only the outcome matters */
} vctx;

static bool vfail(vctx *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool vfail(vctx *c, const char *fmt, ...)
{
    if (c->quiet)
        return false;
    c->nerrors++;
    if (c->nerrors > 5 || c->out_len + 1 >= c->out_cap)
        return false;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int n = snprintf(c->out + c->out_len, c->out_cap - c->out_len, "%s%s: %s", c->out_len ? "; " : "",
                     c->w.len ? c->w.path : "(root)", msg);
    if (n > 0)
        c->out_len += (size_t)n < c->out_cap - c->out_len ? (size_t)n : c->out_cap - c->out_len - 1;
    return false;
}

static bool validate(vctx *c, const eg_node *s, const eg_node *d);

static bool validate_quiet(vctx *c, const eg_node *s, const eg_node *d)
{
    bool q = c->quiet;
    c->quiet = true;
    bool ok = validate(c, s, d);
    c->quiet = q;
    return ok;
}

static bool validate_at(vctx *c, const char *seg, const eg_node *s, const eg_node *d)
{
    size_t saved;
    push(&c->w, seg, &saved);
    bool ok = validate(c, s, d);
    pop(&c->w, saved);
    return ok;
}

static bool validate_index(vctx *c, size_t i, const eg_node *s, const eg_node *d)
{
    size_t saved;
    push_index(&c->w, i, &saved);
    bool ok = validate(c, s, d);
    pop(&c->w, saved);
    return ok;
}

static bool validate_object(vctx *c, const eg_node *s, const eg_node *d)
{
    bool ok = true;
    const eg_node *props = get(s, "properties"), *pprops = get(s, "patternProperties");
    const eg_node *addl = get(s, "additionalProperties"), *req = get(s, "required"), *v;
    for (size_t i = 0; req && i < req->count; i++)
        if (!get(d, req->items[i]->text))
            ok = vfail(c, "%s is required", req->items[i]->text);
    if ((v = get(s, "minProperties")) && d->count < (uint64_t)v->v.i)
        ok = vfail(c, "must have at least %lld properties", (long long)v->v.i);
    if ((v = get(s, "maxProperties")) && d->count > (uint64_t)v->v.i)
        ok = vfail(c, "must have at most %lld properties", (long long)v->v.i);
    for (size_t i = 0; i < d->count; i++) {
        const char *k = d->keys[i];
        bool matched = false;
        const eg_node *ps = get(props, k);
        if (ps) {
            matched = true;
            ok &= validate_at(c, k, ps, d->items[i]);
        }
        for (size_t j = 0; pprops && j < pprops->count; j++)
            if (re_search(pprops->keys[j], k, strlen(k))) {
                matched = true;
                ok &= validate_at(c, k, pprops->items[j], d->items[i]);
            }
        if (!matched && addl) {
            if (addl->type == EG_NODE_BOOL && !addl->v.b)
                ok = vfail(c, "additional property %s is not allowed", k);
            else if (addl->type == EG_NODE_MAP)
                ok &= validate_at(c, k, addl, d->items[i]);
        }
    }
    return ok;
}

static bool validate_array(vctx *c, const eg_node *s, const eg_node *d)
{
    bool ok = true;
    const eg_node *items = get(s, "items"), *v;
    if ((v = get(s, "minItems")) && d->count < (uint64_t)v->v.i)
        ok = vfail(c, "array must have at least %lld items", (long long)v->v.i);
    if ((v = get(s, "maxItems")) && d->count > (uint64_t)v->v.i)
        ok = vfail(c, "array must have at most %lld items", (long long)v->v.i);
    if ((v = get(s, "uniqueItems")) && v->v.b)
        for (size_t i = 1; i < d->count; i++)
            for (size_t j = 0; j < i; j++)
                if (json_equal(d->items[i], d->items[j])) {
                    ok = vfail(c, "array items must be unique (%zu and %zu are equal)", j, i);
                    i = d->count;
                    break;
                }
    if (items && items->type == EG_NODE_SEQ) {
        const eg_node *more = get(s, "additionalItems");
        for (size_t i = 0; i < d->count; i++) {
            if (i < items->count)
                ok &= validate_index(c, i, items->items[i], d->items[i]);
            else if (more && more->type == EG_NODE_BOOL && !more->v.b)
                ok = vfail(c, "array must have at most %zu items", items->count);
            else if (more && more->type == EG_NODE_MAP)
                ok &= validate_index(c, i, more, d->items[i]);
        }
    } else if (items) {
        for (size_t i = 0; i < d->count; i++)
            ok &= validate_index(c, i, items, d->items[i]);
    }
    return ok;
}

static bool validate_string(vctx *c, const eg_node *s, const eg_node *d)
{
    bool ok = true;
    const eg_node *v;
    size_t chars = utf8_chars(d->text, d->text_len);
    if ((v = get(s, "minLength")) && chars < (uint64_t)v->v.i)
        ok = vfail(c, "string length must be greater than or equal to %lld", (long long)v->v.i);
    if ((v = get(s, "maxLength")) && chars > (uint64_t)v->v.i)
        ok = vfail(c, "string length must be less than or equal to %lld", (long long)v->v.i);
    if ((v = get(s, "pattern")) && !re_search(v->text, d->text, d->text_len))
        ok = vfail(c, "does not match pattern '%s'", v->text);
    return ok;
}

static bool validate_number(vctx *c, const eg_node *s, const eg_node *d)
{
    bool ok = true;
    double x = num(d);
    const eg_node *min = get(s, "minimum"), *max = get(s, "maximum");
    const eg_node *xmin = get(s, "exclusiveMinimum"), *xmax = get(s, "exclusiveMaximum"), *v;
    bool min_excl = xmin && xmin->type == EG_NODE_BOOL && xmin->v.b;   /* draft 4 */
    bool max_excl = xmax && xmax->type == EG_NODE_BOOL && xmax->v.b;
    if (min && (min_excl ? x <= num(min) : x < num(min)))
        ok = vfail(c, "must be %s %g", min_excl ? "greater than" : "greater than or equal to", num(min));
    if (max && (max_excl ? x >= num(max) : x > num(max)))
        ok = vfail(c, "must be %s %g", max_excl ? "less than" : "less than or equal to", num(max));
    if (xmin && is_number(xmin) && x <= num(xmin))
        ok = vfail(c, "must be greater than %g", num(xmin));
    if (xmax && is_number(xmax) && x >= num(xmax))
        ok = vfail(c, "must be less than %g", num(xmax));
    if ((v = get(s, "multipleOf"))) {
        double q = x / num(v);
        if (fabs(q - nearbyint(q)) > 1e-9 * fmax(1.0, fabs(q)))
            ok = vfail(c, "must be a multiple of %g", num(v));
    }
    return ok;
}

static bool validate(vctx *c, const eg_node *s, const eg_node *d)
{
    if (s->type == EG_NODE_BOOL)
        return s->v.b ? true : vfail(c, "no value is allowed here");
    bool ok = true;
    const eg_node *v;
    if ((v = get(s, "type"))) {
        bool any = false;
        if (v->type == EG_NODE_STRING)
            any = has_type(d, v->text);
        for (size_t i = 0; v->type == EG_NODE_SEQ && i < v->count && !any; i++)
            any = has_type(d, v->items[i]->text);
        if (!any) {
            char want[200] = "";
            if (v->type == EG_NODE_STRING)
                snprintf(want, sizeof want, "%s", v->text);
            for (size_t i = 0; v->type == EG_NODE_SEQ && i < v->count; i++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s", i ? "/" : "", v->items[i]->text);
            return vfail(c, "Invalid type. Expected: %s, given: %s", want, type_of(d));
        }
    }
    if ((v = get(s, "enum"))) {
        bool in = false;
        for (size_t i = 0; i < v->count && !in; i++)
            in = json_equal(v->items[i], d);
        if (!in)
            ok = vfail(c, "must be one of the values of enum");
    }
    if ((v = get(s, "const")) && !json_equal(v, d))
        ok = vfail(c, "does not match const");
    if (d->type == EG_NODE_MAP)
        ok &= validate_object(c, s, d);
    else if (d->type == EG_NODE_SEQ)
        ok &= validate_array(c, s, d);
    else if (d->type == EG_NODE_STRING)
        ok &= validate_string(c, s, d);
    else if (is_number(d))
        ok &= validate_number(c, s, d);
    if ((v = get(s, "allOf")))
        for (size_t i = 0; i < v->count; i++)
            ok &= validate(c, v->items[i], d);
    if ((v = get(s, "anyOf"))) {
        bool any = false;
        for (size_t i = 0; i < v->count && !any; i++)
            any = validate_quiet(c, v->items[i], d);
        if (!any)
            ok = vfail(c, "must match at least one schema of anyOf");
    }
    if ((v = get(s, "oneOf"))) {
        size_t n = 0;
        for (size_t i = 0; i < v->count; i++)
            n += validate_quiet(c, v->items[i], d);
        if (n != 1)
            ok = vfail(c, "must match exactly one schema of oneOf (matches %zu)", n);
    }
    if ((v = get(s, "not")) && validate_quiet(c, v, d))
        ok = vfail(c, "must not match the schema of not");
    return ok;
}

bool eg_json_schema_validate(const eg_node *schema, const eg_node *doc, char *err, size_t errlen)
{
    if (!schema)
        return true;
    vctx c = {.out = err, .out_cap = errlen};
    if (errlen)
        err[0] = '\0';
    bool ok = validate(&c, schema, doc);
    if (!ok && c.nerrors > 5 && c.out_len + 1 < errlen)
        snprintf(err + c.out_len, errlen - c.out_len, "; and %d more", c.nerrors - 5);
    return ok;
}
