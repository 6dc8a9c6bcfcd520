/* set_headers.c — compiled `setHeaders` templates (see set_headers.h).
 *
 * A template is a list of pieces: literal text, or a variable resolved to a kind when the
 * route is built, so a request only looks things up. Variable values follow Easegress's
 * RouteContext.getVariableValue over a Go net/http request: paths are percent-decoded
 * (URL.Path), arg_ values are query-unescaped (url.Values.Get: the first valid pair),
 * cookie_ values as Request.Cookie reads them, headers by their first value. */
#define _GNU_SOURCE   /* tm_gmtoff */
#include "set_headers.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include "router.h"

typedef enum {
    P_LIT,
    P_METHOD, P_REQUEST_URI, P_URI, P_REQUEST, P_SCHEME, P_QUERY,
    P_HOST, P_HTTP_HOST, P_REMOTE_ADDR, P_REMOTE_USER, P_PROXY_XFF,
    P_TIME_ISO8601, P_TIME_LOCAL, P_MSEC, P_PROTOCOL, P_REQUEST_TIME, P_REQUEST_LENGTH,
    P_HEADER,    /* http_*, content_type, content_length: arg is the header name */
    P_ARG,       /* arg_*: arg is the query key */
    P_COOKIE,    /* cookie_*: arg is the cookie name */
    P_CAPTURE,   /* anything else: arg is the capture name */
} piece_kind;

typedef struct {
    piece_kind kind;
    char *arg;          /* literal text or the variable's argument (NUL-terminated) */
    size_t arg_len;
    char *def;          /* default, NULL when absent or "" (the same to Easegress) */
    size_t def_len;
} piece;

struct eg_template {
    piece *p;
    size_t n;
};

typedef struct {
    char *name;
    size_t name_len;
    eg_template *value;  /* NULL: delete the header */
} entry;

struct eg_set_headers {
    entry *e;
    size_t n, cap;
};

static const struct { const char *name; piece_kind kind; const char *header; } builtins[] = {
    { "request_method", P_METHOD, NULL },
    { "request_uri", P_REQUEST_URI, NULL },
    { "uri", P_URI, NULL },
    { "request", P_REQUEST, NULL },
    { "scheme", P_SCHEME, NULL },
    { "query_string", P_QUERY, NULL },
    { "args", P_QUERY, NULL },
    { "host", P_HOST, NULL },
    { "hostname", P_HOST, NULL },        /* Easegress: the request's host, not the machine's */
    { "server_name", P_HOST, NULL },     /* likewise */
    { "http_host", P_HTTP_HOST, NULL },
    { "remote_addr", P_REMOTE_ADDR, NULL },
    { "remote_user", P_REMOTE_USER, NULL },
    { "proxy_add_x_forwarded_for", P_PROXY_XFF, NULL },
    { "time_iso8601", P_TIME_ISO8601, NULL },
    { "time_local", P_TIME_LOCAL, NULL },
    { "msec", P_MSEC, NULL },
    { "content_type", P_HEADER, "Content-Type" },
    { "content_length", P_HEADER, "Content-Length" },
    { "server_protocol", P_PROTOCOL, NULL },
    { "request_time", P_REQUEST_TIME, NULL },
    { "request_length", P_REQUEST_LENGTH, NULL },
};

/* ---- compiling ------------------------------------------------------------------------- */

static bool is_ident_start(unsigned char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static bool is_ident(unsigned char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static char *dup_n(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) {
        memcpy(d, s, n);
        d[n] = 0;
    }
    return d;
}

/* Control bytes other than HTAB become spaces: a header value can never split a line. */
static void sanitize(char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] < 0x20 && s[i] != '\t') || s[i] == 0x7f)
            s[i] = ' ';
}

static bool push(eg_template *t, size_t *cap, piece pc)
{
    if (t->n == *cap) {
        size_t nc = *cap ? *cap * 2 : 4;
        piece *np = realloc(t->p, nc * sizeof *np);
        if (!np)
            return false;
        t->p = np;
        *cap = nc;
    }
    t->p[t->n++] = pc;
    return true;
}

/* Literal text, merged into the previous literal piece when there is one. */
static bool push_lit(eg_template *t, size_t *cap, const char *s, size_t n)
{
    if (!n)
        return true;
    if (t->n && t->p[t->n - 1].kind == P_LIT) {
        piece *last = &t->p[t->n - 1];
        char *m = realloc(last->arg, last->arg_len + n + 1);
        if (!m)
            return false;
        memcpy(m + last->arg_len, s, n);
        sanitize(m + last->arg_len, n);
        last->arg_len += n;
        m[last->arg_len] = 0;
        last->arg = m;
        return true;
    }
    piece pc = { .kind = P_LIT, .arg = dup_n(s, n), .arg_len = n };
    if (!pc.arg)
        return false;
    sanitize(pc.arg, n);
    if (!push(t, cap, pc)) {
        free(pc.arg);
        return false;
    }
    return true;
}

/* Resolve a variable name to its kind and argument. */
static bool resolve(piece *pc, const char *name, size_t n)
{
    for (size_t i = 0; i < sizeof builtins / sizeof builtins[0]; i++) {
        if (strlen(builtins[i].name) == n && memcmp(builtins[i].name, name, n) == 0) {
            pc->kind = builtins[i].kind;
            const char *h = builtins[i].header;
            pc->arg = h ? strdup(h) : NULL;
            pc->arg_len = h ? strlen(h) : 0;
            return !h || pc->arg;
        }
    }
    size_t skip = 0;
    if (n >= 5 && memcmp(name, "http_", 5) == 0) {
        pc->kind = P_HEADER;
        skip = 5;
    } else if (n >= 4 && memcmp(name, "arg_", 4) == 0) {
        pc->kind = P_ARG;
        skip = 4;
    } else if (n >= 7 && memcmp(name, "cookie_", 7) == 0) {
        pc->kind = P_COOKIE;
        skip = 7;
    } else {
        pc->kind = P_CAPTURE;
    }
    pc->arg = dup_n(name + skip, n - skip);
    pc->arg_len = n - skip;
    if (!pc->arg)
        return false;
    if (pc->kind == P_HEADER)   /* http_x_real_ip -> x-real-ip (looked up case-insensitively) */
        for (char *c = pc->arg; *c; c++)
            if (*c == '_')
                *c = '-';
    return true;
}

static bool push_var(eg_template *t, size_t *cap, const char *name, size_t n, const char *def, size_t dn)
{
    piece pc = { 0 };
    if (!resolve(&pc, name, n))
        return false;
    if (dn && !(pc.def = dup_n(def, dn))) {
        free(pc.arg);
        return false;
    }
    if (pc.def)
        sanitize(pc.def, dn);
    pc.def_len = dn;
    if (!push(t, cap, pc)) {
        free(pc.arg);
        free(pc.def);
        return false;
    }
    return true;
}

eg_template *eg_template_compile(const char *s, size_t len)
{
    eg_template *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    size_t cap = 0, lit = 0, i = 0;
    bool ok = true;
    while (ok && i < len) {
        if (s[i] != '$' || i + 1 >= len) {
            i++;
            continue;
        }
        if (s[i + 1] == '{') {
            /* ${name} / ${name:default}: name stops at the first ':' or '}', the default
             * at the next '}'; without that '}' this '$' is plain text. */
            size_t j = i + 2;
            while (j < len && s[j] != '}' && s[j] != ':')
                j++;
            size_t k = j;
            if (j < len && s[j] == ':')
                while (k < len && s[k] != '}')
                    k++;
            if (j > i + 2 && k < len) {
                ok = push_lit(t, &cap, s + lit, i - lit) &&
                     push_var(t, &cap, s + i + 2, j - (i + 2), s + j + 1, k > j ? k - j - 1 : 0);
                i = lit = k + 1;
                continue;
            }
        } else if (is_ident_start((unsigned char)s[i + 1])) {
            size_t j = i + 1;
            while (j < len && is_ident((unsigned char)s[j]))
                j++;
            ok = push_lit(t, &cap, s + lit, i - lit) && push_var(t, &cap, s + i + 1, j - i - 1, NULL, 0);
            i = lit = j;
            continue;
        }
        i++;
    }
    if (ok)
        ok = push_lit(t, &cap, s + lit, len - lit);
    if (!ok) {
        eg_template_free(t);
        return NULL;
    }
    return t;
}

void eg_template_free(eg_template *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++) {
        free(t->p[i].arg);
        free(t->p[i].def);
    }
    free(t->p);
    free(t);
}

const char *eg_template_capture_only(const eg_template *t)
{
    for (size_t i = 0; t && i < t->n; i++)
        if (t->p[i].kind == P_CAPTURE && !t->p[i].def)
            return t->p[i].arg;
    return NULL;
}

/* ---- per-request values ---------------------------------------------------------------- */

typedef struct {
    const char *s;
    size_t n;
} view;

static view vs(const char *s)
{
    return (view){ s ? s : "", s ? strlen(s) : 0 };
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Percent-decode into the arena ('+' as a space when plus); false on a bad escape. */
static bool unescape(eg_arena *a, const char *s, size_t n, bool plus, view *out)
{
    char *d = eg_arena_alloc(a, n + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int hi, lo;
            if (i + 2 >= n)
                return false;
            if ((hi = hexval((unsigned char)s[i + 1])) < 0 || (lo = hexval((unsigned char)s[i + 2])) < 0)
                return false;
            d[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            d[o++] = plus && s[i] == '+' ? ' ' : s[i];
        }
    }
    d[o] = 0;
    *out = (view){ d, o };
    return true;
}

/* Go's URL.Path: the request path decoded (an undecodable one is used as received; the
 * router has already refused it with a 400 anyway). */
static view decoded_path(eg_arena *a, const eg_request *r)
{
    view v = vs(r->path);
    view d;
    return unescape(a, v.s, v.n, false, &d) ? d : v;
}

static view header_first(const eg_request *r, const char *name, size_t n)
{
    const eg_header *h = eg_headers_find(&r->headers, name, n);
    return h ? (view){ h->value, h->value_len } : (view){ "", 0 };
}

static view concat(eg_arena *a, const view *parts, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += parts[i].n;
    char *d = eg_arena_alloc(a, total + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        memcpy(d + o, parts[i].s, parts[i].n);
        o += parts[i].n;
    }
    d[o] = 0;
    return (view){ d, o };
}

/* path, plus "?query" when the query is not empty (Go's RawQuery != ""). */
static view request_uri(eg_arena *a, const eg_request *r)
{
    view path = decoded_path(a, r);
    if (!r->query || !*r->query)
        return path;
    view parts[] = { path, { "?", 1 }, vs(r->query) };
    return concat(a, parts, 3);
}

static view protocol(eg_arena *a, const eg_request *r)
{
    char *d = eg_arena_alloc(a, 32);
    int n = snprintf(d, 32, "HTTP/%d.%d", r->version_major, r->version_minor);
    return (view){ d, n > 0 && n < 32 ? (size_t)n : 0 };
}

/* url.Values.Get over url.ParseQuery: pairs split on '&', a pair holding ';' or an
 * undecodable key or value is skipped, the first pair whose key matches wins. */
static view query_arg(eg_arena *a, const eg_request *r, const char *key, size_t klen)
{
    const char *q = r->query ? r->query : "";
    while (*q) {
        const char *end = strchr(q, '&');
        size_t n = end ? (size_t)(end - q) : strlen(q);
        const char *eq = memchr(q, '=', n);
        size_t kn = eq ? (size_t)(eq - q) : n;
        view k, v;
        if (n && !memchr(q, ';', n) && unescape(a, q, kn, true, &k) && k.n == klen &&
            memcmp(k.s, key, klen) == 0 &&
            unescape(a, eq ? eq + 1 : "", eq ? n - kn - 1 : 0, true, &v))
            return v;
        q += n + (end ? 1 : 0);
    }
    return (view){ "", 0 };
}

static bool is_token(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool cookie_value_byte(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != ';' && c != '\\';
}

static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t')) {
        (*s)++;
        (*n)--;
    }
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

/* Request.Cookie(name): every Cookie header, pairs split on ';' and trimmed; pairs with an
 * invalid name or value are skipped; a value may be wrapped in double quotes. */
static view cookie(const eg_request *r, const char *name, size_t nlen)
{
    for (size_t i = 0; i < r->headers.count; i++) {
        const eg_header *h = &r->headers.items[i];
        if (h->name_len != 6 || strncasecmp(h->name, "Cookie", 6) != 0)
            continue;
        const char *p = h->value, *end = h->value + h->value_len;
        while (p < end) {
            const char *semi = memchr(p, ';', (size_t)(end - p));
            const char *part = p;
            size_t n = (size_t)((semi ? semi : end) - p);
            p = semi ? semi + 1 : end;
            trim(&part, &n);
            const char *eq = memchr(part, '=', n);
            size_t kn = eq ? (size_t)(eq - part) : n;
            if (!kn || kn != nlen || memcmp(part, name, nlen) != 0)
                continue;
            bool valid = true;
            for (size_t k = 0; k < kn; k++)
                valid = valid && is_token((unsigned char)part[k]);
            const char *v = eq ? eq + 1 : part + n;
            size_t vn = eq ? n - kn - 1 : 0;
            if (vn > 1 && v[0] == '"' && v[vn - 1] == '"') {
                v++;
                vn -= 2;
            }
            for (size_t k = 0; k < vn; k++)
                valid = valid && cookie_value_byte((unsigned char)v[k]);
            if (valid)
                return (view){ v, vn };
        }
    }
    return (view){ "", 0 };
}

static int b64val(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Standard base64 with padding; false when malformed. */
static bool b64_decode(eg_arena *a, const char *s, size_t n, view *out)
{
    if (n % 4)
        return false;
    char *d = eg_arena_alloc(a, n / 4 * 3 + 1);
    size_t o = 0;
    for (size_t i = 0; i < n; i += 4) {
        int v[4], pad = 0;
        for (int k = 0; k < 4; k++) {
            if (s[i + k] == '=' && i + 4 == n && k >= 2) {
                v[k] = 0;
                pad++;
            } else if (pad || (v[k] = b64val((unsigned char)s[i + k])) < 0) {
                return false;
            }
        }
        uint32_t w = (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        d[o++] = (char)(w >> 16);
        if (pad < 2)
            d[o++] = (char)(w >> 8 & 0xff);
        if (pad < 1)
            d[o++] = (char)(w & 0xff);
    }
    d[o] = 0;
    *out = (view){ d, o };
    return true;
}

/* Request.BasicAuth's user: "Basic " (any case) + base64 of "user:password". */
static view remote_user(eg_arena *a, const eg_request *r)
{
    view h = header_first(r, "Authorization", 13), dec;
    if (h.n < 6 || strncasecmp(h.s, "Basic ", 6) != 0 || !b64_decode(a, h.s + 6, h.n - 6, &dec))
        return (view){ "", 0 };
    const char *colon = memchr(dec.s, ':', dec.n);
    return colon ? (view){ dec.s, (size_t)(colon - dec.s) } : (view){ "", 0 };
}

/* The X-Forwarded-For this hop would send: the received one (first header) + the client IP. */
static view proxy_xff(eg_arena *a, const eg_request *r)
{
    view ip = vs(r->client_ip[0] ? r->client_ip : r->peer_ip);
    view xff = header_first(r, "X-Forwarded-For", 15);
    if (!ip.n || !xff.n)
        return ip;
    view parts[] = { xff, { ", ", 2 }, ip };
    return concat(a, parts, 3);
}

static int64_t now_ms(const eg_template_env *env)
{
    if (env->now_ms)
        return env->now_ms;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Go's RFC3339 ("2006-01-02T15:04:05Z07:00", Z for UTC) or nginx's time_local
 * ("02/Jan/2006:15:04:05 -0700"), in local time. */
static view format_time(eg_arena *a, int64_t ms, bool iso)
{
    static const char months[12][4] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&sec, &tm);
    long off = tm.tm_gmtoff / 60;
    char sign = off < 0 ? '-' : '+';
    long aoff = off < 0 ? -off : off;
    char *d = eg_arena_alloc(a, 64);
    int n;
    if (iso && off == 0)
        n = snprintf(d, 64, "%04d-%02d-%02dT%02d:%02d:%02dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    else if (iso)
        n = snprintf(d, 64, "%04d-%02d-%02dT%02d:%02d:%02d%c%02ld:%02ld", tm.tm_year + 1900,
                     tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
                     aoff / 60, aoff % 60);
    else
        n = snprintf(d, 64, "%02d/%s/%04d:%02d:%02d:%02d %c%02ld%02ld", tm.tm_mday,
                     months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                     tm.tm_sec, sign, aoff / 60, aoff % 60);
    return (view){ d, n > 0 && n < 64 ? (size_t)n : 0 };
}

static view capture(const eg_template_env *env, const char *name)
{
    const eg_route_captures *c = env->captures;
    for (size_t i = 0; c && i < c->count; i++)
        if (strcmp(c->names[i], name) == 0)
            return vs(c->values[i]);
    return (view){ "", 0 };
}

static view value_of(const piece *pc, eg_arena *a, const eg_template_env *env)
{
    const eg_request *r = env->req;
    switch (pc->kind) {
    case P_LIT:
        return (view){ pc->arg, pc->arg_len };
    case P_METHOD:
        return vs(r->method);
    case P_REQUEST_URI:
        return request_uri(a, r);
    case P_URI:
        return decoded_path(a, r);
    case P_REQUEST: {
        view parts[] = { vs(r->method), { " ", 1 }, request_uri(a, r), { " ", 1 }, protocol(a, r) };
        return concat(a, parts, 5);
    }
    case P_SCHEME:
        return vs(r->scheme);
    case P_QUERY:
        return vs(r->query);
    case P_HOST: {
        view v = vs(r->host);
        eg_host_strip_port(v.s, v.n, &v.s, &v.n);
        return v;
    }
    case P_HTTP_HOST:
        return vs(r->host);
    case P_REMOTE_ADDR:
        return vs(r->client_ip);
    case P_REMOTE_USER:
        return remote_user(a, r);
    case P_PROXY_XFF:
        return proxy_xff(a, r);
    case P_TIME_ISO8601:
        return format_time(a, now_ms(env), true);
    case P_TIME_LOCAL:
        return format_time(a, now_ms(env), false);
    case P_MSEC: {
        char *d = eg_arena_alloc(a, 24);
        int n = snprintf(d, 24, "%lld", (long long)now_ms(env));
        return (view){ d, n > 0 && n < 24 ? (size_t)n : 0 };
    }
    case P_PROTOCOL:
        return protocol(a, r);
    case P_REQUEST_TIME:
        return (view){ "0.000", 5 };   /* Easegress does not track it either */
    case P_REQUEST_LENGTH: {
        const eg_header *h = eg_headers_find(&r->headers, "Content-Length", 14);
        return h ? (view){ h->value, h->value_len } : (view){ "0", 1 };
    }
    case P_HEADER:
        return header_first(r, pc->arg, pc->arg_len);
    case P_ARG:
        return query_arg(a, r, pc->arg, pc->arg_len);
    case P_COOKIE:
        return cookie(r, pc->arg, pc->arg_len);
    case P_CAPTURE:
        return capture(env, pc->arg);
    }
    return (view){ "", 0 };
}

const char *eg_template_render(const eg_template *t, eg_arena *a, const eg_template_env *env, size_t *len)
{
    if (t->n == 1 && t->p[0].kind == P_LIT) {   /* no variables: the text itself */
        if (len)
            *len = t->p[0].arg_len;
        return t->p[0].arg;
    }
    view *parts = eg_arena_alloc(a, (t->n ? t->n : 1) * sizeof *parts);
    for (size_t i = 0; i < t->n; i++) {
        parts[i] = value_of(&t->p[i], a, env);
        if (!parts[i].n && t->p[i].def)
            parts[i] = (view){ t->p[i].def, t->p[i].def_len };
    }
    view out = concat(a, parts, t->n);
    sanitize((char *)out.s, out.n);
    if (len)
        *len = out.n;
    return out.s;
}

/* ---- a path's setHeaders --------------------------------------------------------------- */

eg_set_headers *eg_set_headers_new(size_t n)
{
    eg_set_headers *sh = calloc(1, sizeof *sh);
    if (sh && n && !(sh->e = calloc(n, sizeof *sh->e))) {
        free(sh);
        return NULL;
    }
    if (sh)
        sh->cap = n;
    return sh;
}

const char *eg_set_headers_add(eg_set_headers *sh, const char *name, const char *value,
                               const char **capture_only)
{
    *capture_only = NULL;
    size_t nlen = strlen(name);
    /* A name that is not a token would break the header block the proxy writes (Go's
     * transport refuses such a request on every call; refusing the spec says so earlier). */
    bool ok = nlen > 0;
    for (size_t i = 0; i < nlen && ok; i++)
        ok = is_token((unsigned char)name[i]);
    if (!ok)
        return "invalid header name";
    if (sh->n == sh->cap) {
        size_t nc = sh->cap ? sh->cap * 2 : 4;
        entry *ne = realloc(sh->e, nc * sizeof *ne);
        if (!ne)
            return "out of memory";
        sh->e = ne;
        sh->cap = nc;
    }
    entry en = { .name = strdup(name), .name_len = nlen };
    if (!en.name)
        return "out of memory";
    if (*value && !(en.value = eg_template_compile(value, strlen(value)))) {
        free(en.name);
        return "out of memory";
    }
    *capture_only = eg_template_capture_only(en.value);
    sh->e[sh->n++] = en;
    return NULL;
}

void eg_set_headers_free(eg_set_headers *sh)
{
    if (!sh)
        return;
    for (size_t i = 0; i < sh->n; i++) {
        free(sh->e[i].name);
        eg_template_free(sh->e[i].value);
    }
    free(sh->e);
    free(sh);
}

void eg_set_headers_apply(const eg_set_headers *sh, eg_arena *a, eg_request *req,
                          const eg_route_captures *captures)
{
    if (!sh)
        return;
    eg_template_env env = { .req = req, .captures = captures };
    for (size_t i = 0; i < sh->n; i++) {
        const entry *en = &sh->e[i];
        if (!en->value) {
            eg_headers_del(&req->headers, en->name, en->name_len);
            continue;
        }
        size_t vlen;
        const char *v = eg_template_render(en->value, a, &env, &vlen);
        eg_headers_set(a, &req->headers, en->name, en->name_len, v, vlen);
    }
}
