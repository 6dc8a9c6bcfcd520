/* node_dec.c — Go durations and the spec decoder (eg_dec_*).
 *
 * Type rules are those of Go's encoding/json after Easegress turns YAML into JSON: a string
 * field takes only a string, an int field a whole number, a bool field a boolean. One
 * leniency: a bool field also takes the YAML 1.1 words yes/no/on/off (yaml.v3 leaves them
 * strings on the way to JSON, so Easegress itself would refuse them). */
#include "node.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- Go time.ParseDuration ------------------------------------------------------------------- */

#define BIT63 (UINT64_C(1) << 63)

static bool unit_ns(const char *u, size_t n, uint64_t *out)
{
    static const struct {
        const char *name;
        uint64_t ns;
    } units[] = {
        {"ns", 1},
        {"us", 1000},
        {"\xC2\xB5s", 1000}, /* U+00B5 micro sign */
        {"\xCE\xBCs", 1000}, /* U+03BC Greek mu */
        {"ms", 1000000},
        {"s", UINT64_C(1000000000)},
        {"m", UINT64_C(60000000000)},
        {"h", UINT64_C(3600000000000)},
    };
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        if (strlen(units[i].name) == n && memcmp(units[i].name, u, n) == 0) {
            *out = units[i].ns;
            return true;
        }
    }
    return false;
}

/* Same algorithm, limits and float rounding as Go's time.ParseDuration. */
int eg_parse_duration(const char *s, int64_t *ns)
{
    if (!s)
        return -1;
    uint64_t d = 0;
    bool neg = false;
    if (*s == '-' || *s == '+') {
        neg = *s == '-';
        s++;
    }
    if (strcmp(s, "0") == 0) {
        *ns = 0;
        return 0;
    }
    if (!*s)
        return -1;
    while (*s) {
        uint64_t v = 0, f = 0;
        double scale = 1;
        if (!(*s == '.' || (*s >= '0' && *s <= '9')))
            return -1;
        const char *p = s;
        for (; *s >= '0' && *s <= '9'; s++) {
            if (v > BIT63 / 10)
                return -1;
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > BIT63)
                return -1;
        }
        bool pre = s != p, post = false;
        if (*s == '.') {
            s++;
            p = s;
            bool overflow = false;
            for (; *s >= '0' && *s <= '9'; s++) {
                if (overflow)
                    continue;
                if (f > (BIT63 - 1) / 10) {
                    overflow = true;
                    continue;
                }
                uint64_t y = f * 10 + (uint64_t)(*s - '0');
                if (y > BIT63) {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10;
            }
            post = s != p;
        }
        if (!pre && !post)
            return -1;
        p = s;
        while (*s && *s != '.' && !(*s >= '0' && *s <= '9'))
            s++;
        uint64_t unit;
        if (s == p || !unit_ns(p, (size_t)(s - p), &unit))
            return -1;
        if (v > BIT63 / unit)
            return -1;
        v *= unit;
        if (f > 0) {
            v += (uint64_t)((double)f * ((double)unit / scale));
            if (v > BIT63)
                return -1;
        }
        d += v;
        if (d > BIT63)
            return -1;
    }
    if (neg) {
        *ns = d == BIT63 ? INT64_MIN : -(int64_t)d;
        return 0;
    }
    if (d > BIT63 - 1)
        return -1;
    *ns = (int64_t)d;
    return 0;
}

/* ---- decoder ------------------------------------------------------------------------------------ */

/* The header fixes eg_dec's layout, so the stack of segment boundaries (needed to leave a
 * segment whose name holds '.' or '[', like a map key "example.com") lives in the tail of
 * path[]: a 16-bit depth then one 16-bit saved length per level. Deeper levels than the
 * stack holds leave the text alone, so entering and leaving stay balanced. */
#define SLOTS 64
#define TEXT_MAX (sizeof(((eg_dec *)0)->path) - 2 * (SLOTS + 1))

static unsigned get_depth(const eg_dec *d)
{
    uint16_t v;
    memcpy(&v, d->path + TEXT_MAX, 2);
    return v;
}

static void set_depth(eg_dec *d, unsigned depth)
{
    uint16_t v = (uint16_t)depth;
    memcpy(d->path + TEXT_MAX, &v, 2);
}

static void set_slot(eg_dec *d, unsigned i, size_t len)
{
    uint16_t v = (uint16_t)len;
    memcpy(d->path + TEXT_MAX + 2 + 2 * i, &v, 2);
}

static size_t get_slot(const eg_dec *d, unsigned i)
{
    uint16_t v;
    memcpy(&v, d->path + TEXT_MAX + 2 + 2 * i, 2);
    return v;
}

void eg_dec_init(eg_dec *d, bool strict)
{
    memset(d, 0, sizeof *d);
    d->strict = strict;
}

void eg_dec_free(eg_dec *d)
{
    free(d->error);
    eg_strv_free(d->warnings, d->nwarnings);
    d->error = NULL;
    d->warnings = NULL;
    d->nwarnings = 0;
}

bool eg_dec_ok(const eg_dec *d)
{
    return d->error == NULL;
}

static char *xvasprintf(const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        abort();
    char *s = malloc((size_t)n + 1);
    if (!s)
        abort();
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    return s;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

/* "path.field" (either part may be empty). */
static char *field_path(const eg_dec *d, const char *field)
{
    const char *sep = d->path_len && field && *field ? "." : "";
    return xasprintf("%.*s%s%s", (int)d->path_len, d->path, sep, field ? field : "");
}

bool eg_dec_fail(eg_dec *d, const char *field, const char *fmt, ...)
{
    if (d->error)
        return false;
    va_list ap;
    va_start(ap, fmt);
    char *msg = xvasprintf(fmt, ap);
    va_end(ap);
    char *where = field_path(d, field);
    d->error = *where ? xasprintf("%s: %s", where, msg) : xasprintf("%s", msg);
    free(where);
    free(msg);
    return false;
}

static void append_segment(eg_dec *d, const char *text, size_t len)
{
    unsigned depth = get_depth(d);
    if (depth < SLOTS)
        set_slot(d, depth, d->path_len);
    set_depth(d, depth + 1);
    if (depth >= SLOTS)
        return;
    size_t room = TEXT_MAX - 1 - d->path_len; /* a too-long path is cut, not overrun */
    if (len > room)
        len = room;
    memcpy(d->path + d->path_len, text, len);
    d->path_len += len;
    d->path[d->path_len] = '\0';
}

void eg_dec_enter(eg_dec *d, const char *field)
{
    char *seg = xasprintf("%s%s", d->path_len ? "." : "", field ? field : "");
    append_segment(d, seg, strlen(seg));
    free(seg);
}

void eg_dec_enter_index(eg_dec *d, size_t index)
{
    char seg[32];
    int n = snprintf(seg, sizeof seg, "[%zu]", index);
    append_segment(d, seg, (size_t)n);
}

void eg_dec_leave(eg_dec *d)
{
    unsigned depth = get_depth(d);
    if (depth == 0)
        return;
    set_depth(d, --depth);
    if (depth < SLOTS) {
        d->path_len = get_slot(d, depth);
        d->path[d->path_len] = '\0';
    }
}

static const char *type_name(const eg_node *n)
{
    switch (n->type) {
    case EG_NODE_NULL:
        return "null";
    case EG_NODE_BOOL:
        return "boolean";
    case EG_NODE_INT:
    case EG_NODE_FLOAT:
        return "number";
    case EG_NODE_STRING:
        return "string";
    case EG_NODE_SEQ:
        return "array";
    case EG_NODE_MAP:
        return "object";
    }
    return "value";
}

/* The common part of every reader: checks `map`, finds `key`, marks it used. Returns the
 * value, or NULL when absent/null (having failed if required) or after an error. */
static eg_node *lookup(eg_dec *d, const eg_node *map, const char *key, bool required)
{
    if (d->error)
        return NULL;
    if (map && map->type != EG_NODE_MAP) {
        eg_dec_fail(d, NULL, "must be an object");
        return NULL;
    }
    eg_node *n = eg_node_get(map, key); /* NULL map: every field is absent */
    if (n)
        n->used = true;
    if (!n || n->type == EG_NODE_NULL) {
        if (required)
            eg_dec_fail(d, key, "missing required field");
        return NULL;
    }
    return n;
}

bool eg_dec_string(eg_dec *d, const eg_node *map, const char *key, char **out, bool required)
{
    const eg_node *n = lookup(d, map, key, required);
    if (!n)
        return eg_dec_ok(d);
    if (n->type != EG_NODE_STRING)
        return eg_dec_fail(d, key, "expected a string, got %s", type_name(n));
    char *s = malloc(n->text_len + 1);
    if (!s)
        abort();
    memcpy(s, n->text, n->text_len + 1);
    free(*out); /* struct fields own their strings; a default was malloc'd too */
    *out = s;
    return true;
}

bool eg_dec_int(eg_dec *d, const eg_node *map, const char *key, int64_t *out, bool required)
{
    const eg_node *n = lookup(d, map, key, required);
    if (!n)
        return eg_dec_ok(d);
    if (n->type == EG_NODE_INT) {
        *out = n->v.i;
        return true;
    }
    if (n->type == EG_NODE_FLOAT) {
        double f = n->v.f;
        /* 2^63 itself does not fit; -2^63 does */
        if (f == floor(f) && f >= -9223372036854775808.0 && f < 9223372036854775808.0) {
            *out = (int64_t)f;
            return true;
        }
        return eg_dec_fail(d, key, "expected an integer, got number %s", n->text);
    }
    return eg_dec_fail(d, key, "expected an integer, got %s", type_name(n));
}

bool eg_dec_float(eg_dec *d, const eg_node *map, const char *key, double *out, bool required)
{
    const eg_node *n = lookup(d, map, key, required);
    if (!n)
        return eg_dec_ok(d);
    if (n->type == EG_NODE_INT) {
        *out = (double)n->v.i;
        return true;
    }
    if (n->type == EG_NODE_FLOAT) {
        *out = n->v.f;
        return true;
    }
    return eg_dec_fail(d, key, "expected a number, got %s", type_name(n));
}

bool eg_dec_bool(eg_dec *d, const eg_node *map, const char *key, bool *out, bool required)
{
    static const char *const yes[] = {"yes", "Yes", "YES", "on", "On", "ON"};
    static const char *const no[] = {"no", "No", "NO", "off", "Off", "OFF"};
    const eg_node *n = lookup(d, map, key, required);
    if (!n)
        return eg_dec_ok(d);
    if (n->type == EG_NODE_BOOL) {
        *out = n->v.b;
        return true;
    }
    if (n->type == EG_NODE_STRING) {
        for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
            if (strcmp(n->text, yes[i]) == 0 || strcmp(n->text, no[i]) == 0) {
                *out = strcmp(n->text, yes[i]) == 0;
                return true;
            }
        }
    }
    return eg_dec_fail(d, key, "expected a boolean, got %s", type_name(n));
}

bool eg_dec_duration_ms(eg_dec *d, const eg_node *map, const char *key, int64_t *out_ms, bool required)
{
    const eg_node *n = lookup(d, map, key, required);
    if (!n)
        return eg_dec_ok(d);
    if (n->type != EG_NODE_STRING)
        return eg_dec_fail(d, key, "expected a duration string, got %s", type_name(n));
    int64_t ns;
    if (strlen(n->text) != n->text_len || eg_parse_duration(n->text, &ns) != 0)
        return eg_dec_fail(d, key, "invalid duration \"%s\"", n->text);
    *out_ms = ns / 1000000; /* toward zero, as Go's Duration.Milliseconds */
    return true;
}

bool eg_dec_string_list(eg_dec *d, const eg_node *map, const char *key, char ***out, size_t *n, bool required)
{
    const eg_node *seq = lookup(d, map, key, required);
    if (!seq)
        return eg_dec_ok(d);
    if (seq->type != EG_NODE_SEQ)
        return eg_dec_fail(d, key, "expected an array, got %s", type_name(seq));
    for (size_t i = 0; i < seq->count; i++) {
        const eg_node *it = seq->items[i];
        if (it->type != EG_NODE_STRING && it->type != EG_NODE_NULL) {
            eg_dec_enter(d, key);
            eg_dec_enter_index(d, i);
            eg_dec_fail(d, NULL, "expected a string, got %s", type_name(it));
            eg_dec_leave(d);
            eg_dec_leave(d);
            return false;
        }
    }
    char **v = calloc(seq->count ? seq->count : 1, sizeof *v);
    if (!v)
        abort();
    for (size_t i = 0; i < seq->count; i++) {
        const eg_node *it = seq->items[i];
        /* null in a []string leaves the element "", as Go's encoding/json does */
        size_t len = it->type == EG_NODE_STRING ? it->text_len : 0;
        v[i] = malloc(len + 1);
        if (!v[i])
            abort();
        memcpy(v[i], it->type == EG_NODE_STRING ? it->text : "", len);
        v[i][len] = '\0';
    }
    eg_strv_free(*out, *n);
    *out = v;
    *n = seq->count;
    return true;
}

const eg_node *eg_dec_seq(eg_dec *d, const eg_node *map, const char *key, bool required)
{
    const eg_node *n = lookup(d, map, key, required);
    if (n && n->type != EG_NODE_SEQ) {
        eg_dec_fail(d, key, "expected an array, got %s", type_name(n));
        return NULL;
    }
    return n;
}

const eg_node *eg_dec_map(eg_dec *d, const eg_node *map, const char *key, bool required)
{
    const eg_node *n = lookup(d, map, key, required);
    if (n && n->type != EG_NODE_MAP) {
        eg_dec_fail(d, key, "expected an object, got %s", type_name(n));
        return NULL;
    }
    return n;
}

const eg_node *eg_dec_any(eg_dec *d, const eg_node *map, const char *key)
{
    return lookup(d, map, key, false);
}

void eg_dec_check_unknown(eg_dec *d, const eg_node *map)
{
    if (d->error || !map || map->type != EG_NODE_MAP)
        return;
    for (size_t i = 0; i < map->count; i++) {
        if (map->items[i]->used)
            continue;
        char *where = field_path(d, map->keys[i]);
        if (d->strict) {
            d->error = xasprintf("unknown field %s", where);
            free(where);
            return;
        }
        char **w = realloc(d->warnings, (d->nwarnings + 1) * sizeof *w);
        if (!w)
            abort();
        d->warnings = w;
        d->warnings[d->nwarnings++] = xasprintf("unknown field %s", where);
        free(where);
    }
}
