/* router.c — an HTTPServer's rules: decoded, compiled into an index, matched.
 *
 * Semantics are Easegress's Ordered router (routers/ordered/router.go, routers/spec.go and
 * mux.go's search): the first (rule, path) in definition order whose host, rule ipFilter,
 * path matcher, methods, headers, queries and path ipFilter all pass wins; when none does,
 * the mismatches seen along the way choose the status (ip 403 > header/query 400 > method
 * 405 > 404).
 *
 * Index. Every path gets an ordinal (its position in the flattened rule-major list). Rules
 * whose hosts are all exact are filed under each of those hosts; every other rule (no host,
 * wildcard or regexp host) is filed in a generic class. Inside a class, paths are filed by
 * exact path (hash), by prefix (radix tree) and, when they carry a regexp or no path matcher
 * at all, in an "others" list. A request consults its host's class and the generic class;
 * each source yields an ascending list of ordinals, and a k-way merge visits the candidates
 * in ascending ordinal order, re-checking each one fully. The index therefore only has to
 * return a superset of the matching paths, and first-match order is exactly the linear
 * scan's. Mismatch flags come out the same too: a path's flags are only raised once its path
 * matcher passed (such a path is always a candidate), and a rule's ipFilter flag, raised by
 * Easegress for any rule whose host matches, is recomputed over the rules that have an
 * ipFilter when nothing matched (the flags matter only then).
 *
 * Hosts are compared as Easegress's RouteContext.GetHost gives them: the Host header with
 * its port removed by Go's net.SplitHostPort rules (eg_host_strip_port), bytes compared
 * as they are (no case folding). Reference §1.1's "compared without transformation" means
 * no other transformation; the code strips the port.
 *
 * Headers and queries follow routers.Headers/Queries.Match: the request's *first* value of
 * a key ("" when absent) must be one of the configured values (any) and/or match the regexp.
 *
 * Regexps: PCRE2 in UTF mode tolerating invalid UTF-8 (as Go's regexp does), DOLLAR_ENDONLY
 * (Go's `$` is end of text), unanchored search like Go's MatchString, JIT when available, and
 * a match context bounding backtracking.
 */
#define _GNU_SOURCE   /* memrchr, asprintf */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "router.h"

#include <pcre2.h>
#include <stdarg.h>
#include <stdatomic.h>
#include "router_radix.h"
#include "hash.h"
#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RE_MATCH_LIMIT 100000
#define RE_DEPTH_LIMIT 1000

/* ---- small containers ----------------------------------------------------------------- */

typedef struct {
    uint32_t *v;
    size_t n, cap;
} ordvec;

static bool ordvec_push(ordvec *o, uint32_t x)
{
    if (o->n && o->v[o->n - 1] == x)
        return true;   /* the same path filed twice under one key (duplicate host) */
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 4;
        uint32_t *v = realloc(o->v, cap * sizeof *v);
        if (!v)
            return false;
        o->v = v;
        o->cap = cap;
    }
    o->v[o->n++] = x;
    return true;
}

/* Open-addressing hash map from byte strings (copied) to owned values. */
typedef struct {
    char *key;
    size_t len;
    uint64_t h;
    void *val;
} hslot;

typedef struct {
    hslot *slots;
    size_t cap, count;
} hmap;

static hslot *hmap_find(const hmap *m, const char *k, size_t n, uint64_t h)
{
    if (!m->cap)
        return NULL;
    for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        hslot *s = &m->slots[i];
        if (!s->key)
            return s;
        if (s->h == h && s->len == n && memcmp(s->key, k, n) == 0)
            return s;
    }
}

static void *hmap_get(const hmap *m, const char *k, size_t n)
{
    hslot *s = hmap_find(m, k, n, eg_hash_bytes(k, n));
    return s && s->key ? s->val : NULL;
}

static bool hmap_grow(hmap *m)
{
    size_t cap = m->cap ? m->cap * 2 : 16;
    hslot *slots = calloc(cap, sizeof *slots);
    if (!slots)
        return false;
    hmap nm = {slots, cap, m->count};
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key)
            *hmap_find(&nm, m->slots[i].key, m->slots[i].len, m->slots[i].h) = m->slots[i];
    free(m->slots);
    *m = nm;
    return true;
}

/* The value slot of key k, created (value NULL) when absent; NULL when out of memory. */
static void **hmap_slot(hmap *m, const char *k, size_t n)
{
    if ((m->count + 1) * 2 > m->cap && !hmap_grow(m))
        return NULL;
    uint64_t h = eg_hash_bytes(k, n);
    hslot *s = hmap_find(m, k, n, h);
    if (!s->key) {
        s->key = malloc(n + 1);
        if (!s->key)
            return NULL;
        memcpy(s->key, k, n);
        s->key[n] = '\0';
        s->len = n;
        s->h = h;
        s->val = NULL;
        m->count++;
    }
    return &s->val;
}

static void hmap_free(hmap *m, void (*free_val)(void *))
{
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->slots[i].key)
            continue;
        free(m->slots[i].key);
        if (free_val)
            free_val(m->slots[i].val);
    }
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

static void ordvec_free_ptr(void *p)
{
    ordvec *o = p;
    if (o)
        free(o->v);
    free(o);
}

/* Radix tree of path prefixes (byte-wise: a prefix may end mid-segment, "/api" covers
 * "/apiv2" as strings.HasPrefix does). */
typedef struct rnode {
    char *label;
    size_t len;
    struct rnode **kids;
    size_t nkids;
    ordvec ords;
} rnode;

static rnode *rnode_new(const char *label, size_t len)
{
    rnode *n = calloc(1, sizeof *n);
    if (!n)
        return NULL;
    n->label = malloc(len + 1);
    if (!n->label) {
        free(n);
        return NULL;
    }
    memcpy(n->label, label, len);
    n->label[len] = '\0';
    n->len = len;
    return n;
}

static void rnode_free(rnode *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->nkids; i++)
        rnode_free(n->kids[i]);
    free(n->kids);
    free(n->label);
    free(n->ords.v);
    free(n);
}

static rnode *rnode_kid(const rnode *n, unsigned char c)
{
    for (size_t i = 0; i < n->nkids; i++)
        if ((unsigned char)n->kids[i]->label[0] == c)
            return n->kids[i];
    return NULL;
}

static bool rnode_add_kid(rnode *n, rnode *kid)
{
    rnode **k = realloc(n->kids, (n->nkids + 1) * sizeof *k);
    if (!k)
        return false;
    n->kids = k;
    n->kids[n->nkids++] = kid;
    return true;
}

static bool radix_insert(rnode *root, const char *key, size_t len, uint32_t ord)
{
    rnode *node = root;
    for (;;) {
        if (len == 0)
            return ordvec_push(&node->ords, ord);
        rnode *kid = rnode_kid(node, (unsigned char)key[0]);
        if (!kid) {
            kid = rnode_new(key, len);
            if (!kid || !ordvec_push(&kid->ords, ord) || !rnode_add_kid(node, kid)) {
                rnode_free(kid);
                return false;
            }
            return true;
        }
        size_t common = 0;
        while (common < kid->len && common < len && kid->label[common] == key[common])
            common++;
        if (common < kid->len) {
            /* split: node -> mid(label[0,common)) -> kid(label[common,len)) */
            rnode *mid = rnode_new(kid->label, common);
            if (!mid || !rnode_add_kid(mid, kid)) {
                rnode_free(mid);
                return false;
            }
            memmove(kid->label, kid->label + common, kid->len - common + 1);
            kid->len -= common;
            for (size_t i = 0; i < node->nkids; i++)
                if (node->kids[i] == kid)
                    node->kids[i] = mid;
            kid = mid;
        }
        node = kid;
        key += common;
        len -= common;
    }
}

/* ---- regexps --------------------------------------------------------------------------- */

/* Compile with the router's flags; NULL with the message in err. */
static pcre2_code *re_compile_msg(void *ud, const char *pat, char *errbuf, size_t errlen)
{
    (void)ud;
    int err;
    PCRE2_SIZE off;
    pcre2_code *re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                   PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_DOLLAR_ENDONLY,
                                   &err, &off, NULL);
    if (!re) {
        PCRE2_UCHAR msg[256];
        if (pcre2_get_error_message(err, msg, sizeof msg) < 0)
            snprintf((char *)msg, sizeof msg, "error %d", err);
        snprintf(errbuf, errlen, "invalid regexp \"%s\": %s (at offset %zu)", pat, (char *)msg,
                 (size_t)off);
        return NULL;
    }
    /* The interpreter serves when JIT is unavailable, and under valgrind, which cannot follow
     * JIT code's word-sized reads near the end of a subject. */
    if (!RUNNING_ON_VALGRIND)
        (void)pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
    return re;
}

static pcre2_code *re_compile(eg_dec *d, const char *field, const char *pat)
{
    char msg[1024];
    pcre2_code *re = re_compile_msg(NULL, pat, msg, sizeof msg);
    if (!re)
        eg_dec_fail(d, field, "%s", msg);
    return re;
}

static uint32_t re_groups(const pcre2_code *re)
{
    uint32_t n = 0;
    pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &n);
    return n;
}

/* ---- compiled rules -------------------------------------------------------------------- */

enum { HOST_EXACT, HOST_PREFIX, HOST_SUFFIX, HOST_REGEXP };

typedef struct {
    int kind;
    char *value;          /* as written */
    size_t len;
    const char *affix;    /* into value: the part beside the '*' */
    size_t affix_len;
    pcre2_code *re;
} host_matcher;

typedef struct {
    host_matcher *hosts;
    size_t nhosts;
    bool all_exact;       /* filed in the exact-host classes */
    eg_ipfilter *ipf;
    size_t first_path, npaths;
    /* RadixTree: patterns without parameters by exact path (-> ordvec*), the others' tree */
    hmap radix_static;
    eg_radix *radix;
} rule_t;

typedef struct {
    char *key;
    size_t key_len;
    char **values;
    size_t nvalues;
    pcre2_code *re;
} kv_matcher;

enum {
    M_CONNECT = 1 << 1, M_DELETE = 1 << 2, M_GET = 1 << 3, M_HEAD = 1 << 4, M_OPTIONS = 1 << 5,
    M_PATCH = 1 << 6, M_POST = 1 << 7, M_PUT = 1 << 8, M_TRACE = 1 << 9,
    M_ALL = M_CONNECT | M_DELETE | M_GET | M_HEAD | M_OPTIONS | M_PATCH | M_POST | M_PUT | M_TRACE,
};

static const struct {
    const char *name;
    unsigned bit;
} method_bits[] = {
    {"GET", M_GET}, {"HEAD", M_HEAD}, {"POST", M_POST}, {"PUT", M_PUT}, {"PATCH", M_PATCH},
    {"DELETE", M_DELETE}, {"CONNECT", M_CONNECT}, {"OPTIONS", M_OPTIONS}, {"TRACE", M_TRACE},
};

/* Exact, case-sensitive as Go's map lookup: an unknown method gets no bit. */
static unsigned method_bit(const char *m, size_t n)
{
    for (size_t i = 0; i < sizeof method_bits / sizeof method_bits[0]; i++)
        if (strlen(method_bits[i].name) == n && memcmp(method_bits[i].name, m, n) == 0)
            return method_bits[i].bit;
    return 0;
}

typedef struct {
    char *exact, *prefix, *rewrite;
    size_t exact_len, prefix_len;
    pcre2_code *re;
    unsigned methods;
    bool matchable;       /* Easegress's Path.matchable: false skips method/header/query/ip */
    kv_matcher *headers;
    size_t nheaders;
    bool match_all_header;
    kv_matcher *queries;
    size_t nqueries;
    bool match_all_query;
    eg_ipfilter *ipf;
    eg_radix_keys keys;   /* RadixTree: the pattern's parameter names */
    bool rewrite_keys;    /* RadixTree: rewriteTarget holds {key}s to fill in */
} path_priv;

typedef struct {
    hmap exact;           /* path -> ordvec* */
    rnode *prefixes;
    ordvec others;
} path_index;

struct eg_router {
    uint64_t id;
    bool radix;           /* RadixTree semantics (else Ordered) */
    uint32_t cache_size;
    rule_t *rules;
    size_t nrules;
    eg_route_path *paths;
    size_t npaths;
    eg_ipfilter *server_ipf;
    hmap hosts;           /* exact host -> path_index* */
    path_index generic;
    ordvec ipf_rules;     /* indices of rules with an ipFilter */
    bool uses_ip;         /* some ipFilter: the client IP is parsed per request */
    uint32_t max_groups;
    pcre2_match_context *mctx;
};

static void kv_free(kv_matcher *v, size_t n)
{
    for (size_t i = 0; v && i < n; i++) {
        free(v[i].key);
        eg_strv_free(v[i].values, v[i].nvalues);
        pcre2_code_free(v[i].re);
    }
    free(v);
}

static void path_priv_free(path_priv *p)
{
    if (!p)
        return;
    free(p->exact);
    free(p->prefix);
    free(p->rewrite);
    pcre2_code_free(p->re);
    kv_free(p->headers, p->nheaders);
    kv_free(p->queries, p->nqueries);
    eg_ipfilter_free(p->ipf);
    eg_radix_keys_free(&p->keys);
    free(p);
}

static void route_path_free(eg_route_path *p)
{
    free(p->backend);
    eg_node_free(p->backend_pool);
    eg_strv_free(p->set_header_keys, p->nset_headers);
    eg_strv_free(p->set_header_values, p->nset_headers);
    eg_set_headers_free(p->set_headers);
    path_priv_free(p->priv);
}

static void path_index_free(path_index *x)
{
    hmap_free(&x->exact, ordvec_free_ptr);
    rnode_free(x->prefixes);
    free(x->others.v);
}

static void path_index_free_ptr(void *p)
{
    if (p)
        path_index_free(p);
    free(p);
}

void eg_router_free(eg_router *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nrules; i++) {
        rule_t *ru = &r->rules[i];
        for (size_t j = 0; j < ru->nhosts; j++) {
            free(ru->hosts[j].value);
            pcre2_code_free(ru->hosts[j].re);
        }
        free(ru->hosts);
        eg_ipfilter_free(ru->ipf);
        hmap_free(&ru->radix_static, ordvec_free_ptr);
        eg_radix_free(ru->radix);
    }
    free(r->rules);
    for (size_t i = 0; i < r->npaths; i++)
        route_path_free(&r->paths[i]);
    free(r->paths);
    eg_ipfilter_free(r->server_ipf);
    hmap_free(&r->hosts, path_index_free_ptr);
    path_index_free(&r->generic);
    free(r->ipf_rules.v);
    pcre2_match_context_free(r->mctx);
    free(r);
}

uint64_t eg_router_id(const eg_router *r)
{
    return r ? r->id : 0;
}

uint32_t eg_router_cache_size(const eg_router *r)
{
    return r ? r->cache_size : 0;
}

size_t eg_router_path_count(const eg_router *r)
{
    return r ? r->npaths : 0;
}

const eg_route_path *eg_router_path_at(const eg_router *r, size_t i)
{
    return r && i < r->npaths ? &r->paths[i] : NULL;
}

/* ---- decoding -------------------------------------------------------------------------- */

static void dec_warn(eg_dec *d, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A warning that is not an unknown field (a value Easegress accepts but that cannot do what
 * it looks like it does). */
static void dec_warn(eg_dec *d, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char *w = NULL;
    if (asprintf(&w, "%.*s%s%s: %s", (int)d->path_len, d->path,
                 d->path_len && field ? "." : "", field ? field : "", msg) < 0)
        return;
    char **ws = realloc(d->warnings, (d->nwarnings + 1) * sizeof *ws);
    if (!ws) {
        free(w);
        return;
    }
    d->warnings = ws;
    d->warnings[d->nwarnings++] = w;
}

/* "" and absent are the same thing for Easegress's omitempty strings. */
static bool dec_nonempty(eg_dec *d, const eg_node *map, const char *key, char **out)
{
    if (!eg_dec_string(d, map, key, out, false))
        return false;
    if (*out && !**out) {
        free(*out);
        *out = NULL;
    }
    return true;
}

static bool has_duplicate(char **v, size_t n, size_t *dup)
{
    for (size_t i = 1; i < n; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(v[i], v[j]) == 0) {
                *dup = i;
                return true;
            }
    return false;
}

static bool fail_index(eg_dec *d, const char *key, size_t i, const char *msg, const char *val)
{
    eg_dec_enter(d, key);
    eg_dec_enter_index(d, i);
    eg_dec_fail(d, NULL, "%s \"%s\"", msg, val);
    eg_dec_leave(d);
    eg_dec_leave(d);
    return false;
}

/* headers / queries: [{key, values, regexp}] */
static bool decode_kv(eg_dec *d, const eg_node *map, const char *key, kv_matcher **out, size_t *nout)
{
    const eg_node *seq = eg_dec_seq(d, map, key, false);
    if (!seq)
        return eg_dec_ok(d);
    kv_matcher *v = calloc(seq->count ? seq->count : 1, sizeof *v);
    if (!v)
        return eg_dec_fail(d, key, "out of memory");
    *out = v;
    *nout = seq->count;
    eg_dec_enter(d, key);
    for (size_t i = 0; i < seq->count && eg_dec_ok(d); i++) {
        const eg_node *it = seq->items[i];
        eg_dec_enter_index(d, i);
        char *re = NULL;
        size_t dup;
        if (it->type != EG_NODE_MAP) {
            eg_dec_fail(d, NULL, "must be an object");
        } else if (eg_dec_string(d, it, "key", &v[i].key, true) &&
                   eg_dec_string_list(d, it, "values", &v[i].values, &v[i].nvalues, false) &&
                   dec_nonempty(d, it, "regexp", &re)) {
            v[i].key_len = strlen(v[i].key);
            if (has_duplicate(v[i].values, v[i].nvalues, &dup))
                fail_index(d, "values", dup, "duplicate value", v[i].values[dup]);
            else if (v[i].nvalues == 0 && !re)
                eg_dec_fail(d, NULL, "both of values and regexp are empty for key: %s", v[i].key);
            else if (re)
                v[i].re = re_compile(d, "regexp", re);
            eg_dec_check_unknown(d, it);
        }
        free(re);
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
    return eg_dec_ok(d);
}

static bool decode_methods(eg_dec *d, const eg_node *map, unsigned *bits, bool *present)
{
    char **m = NULL;
    size_t n = 0, dup;
    if (!eg_dec_string_list(d, map, "methods", &m, &n, false))
        return false;
    *present = n > 0;
    *bits = n ? 0 : M_ALL;
    bool ok = true;
    for (size_t i = 0; i < n && ok; i++) {
        unsigned b = method_bit(m[i], strlen(m[i]));
        if (!b)
            ok = fail_index(d, "methods", i, "unknown HTTP method", m[i]);
        *bits |= b;
    }
    if (ok && has_duplicate(m, n, &dup))
        ok = fail_index(d, "methods", dup, "duplicate method", m[dup]);
    eg_strv_free(m, n);
    return ok;
}

static bool is_key(const eg_radix_keys *k, const char *name)
{
    for (size_t i = 0; i < k->nkeys; i++)
        if (strcmp(k->keys[i], name) == 0)
            return true;
    return false;
}

static bool decode_set_headers(eg_dec *d, const eg_node *map, eg_route_path *rp, bool radix)
{
    const path_priv *p = rp->priv;
    const eg_node *sh = eg_dec_map(d, map, "setHeaders", false);
    if (!sh || sh->count == 0)
        return eg_dec_ok(d);
    rp->set_header_keys = calloc(sh->count, sizeof(char *));
    rp->set_header_values = calloc(sh->count, sizeof(char *));
    rp->set_headers = eg_set_headers_new(sh->count);
    if (!rp->set_header_keys || !rp->set_header_values || !rp->set_headers)
        return eg_dec_fail(d, "setHeaders", "out of memory");
    eg_dec_enter(d, "setHeaders");
    for (size_t i = 0; i < sh->count && eg_dec_ok(d); i++) {
        char *v = NULL;
        if (!eg_dec_string(d, sh, sh->keys[i], &v, false))
            break;
        rp->set_header_keys[i] = strdup(sh->keys[i]);
        rp->set_header_values[i] = v ? v : strdup("");   /* null is Go's zero value "" */
        rp->nset_headers = i + 1;
        if (!rp->set_header_keys[i] || !rp->set_header_values[i]) {
            eg_dec_fail(d, NULL, "out of memory");
            break;
        }
        /* Compiled now so a request only looks its variables up. */
        const char *capture_only, *err = eg_set_headers_add(rp->set_headers, sh->keys[i],
                                                            rp->set_header_values[i], &capture_only);
        if (err)
            eg_dec_fail(d, sh->keys[i], "%s", err);
        else if (capture_only && !radix)
            dec_warn(d, sh->keys[i], "\"%s\" is not a known variable and this router has no "
                     "route captures: it renders \"\"", capture_only);
        else if (capture_only && !is_key(&p->keys, capture_only))
            dec_warn(d, sh->keys[i], "\"%s\" is neither a known variable nor a parameter of "
                     "this path: it renders \"\"", capture_only);
    }
    eg_dec_leave(d);
    return eg_dec_ok(d);
}

/* RadixTree: `path` is a pattern ({name}, {name:regexp}, a final '*'); rewriteTarget may use
 * its {name}s and {EG_WILDCARD}. Easegress panics on the errors refused here. */
static bool decode_radix_path(eg_dec *d, path_priv *p)
{
    if (p->prefix)
        dec_warn(d, "pathPrefix", "is ignored by the RadixTree router (end path with '*' instead)");
    if (p->re)
        dec_warn(d, "pathRegexp", "is ignored by the RadixTree router (use {name:regexp} in path)");
    if (!p->exact) {
        dec_warn(d, "path", "is empty: the RadixTree router never matches this entry");
        return true;
    }
    char *bad = NULL;
    const char *e = eg_radix_parse_keys(p->exact, &p->keys, &bad);
    if (e) {
        eg_dec_fail(d, "path", "%s%s%s%s", e, bad ? " \"" : "", bad ? bad : "", bad ? "\"" : "");
        free(bad);
        return false;
    }
    if (!p->rewrite)
        return true;
    if (strchr(p->rewrite, '*'))
        return eg_dec_fail(d, "rewriteTarget", "'*' is not supported by the RadixTree router; "
                           "use {EG_WILDCARD}");
    eg_radix_keys rk;
    e = eg_radix_parse_keys(p->rewrite, &rk, &bad);
    if (e) {
        eg_dec_fail(d, "rewriteTarget", "%s%s%s%s", e, bad ? " \"" : "", bad ? bad : "",
                    bad ? "\"" : "");
        free(bad);
        return false;
    }
    bool ok = true;
    for (size_t i = 0; i < rk.nkeys && ok; i++)
        if (!is_key(&p->keys, rk.keys[i]))
            ok = eg_dec_fail(d, "rewriteTarget", "{%s} is not a parameter of path \"%s\"",
                             rk.keys[i], p->exact);
    p->rewrite_keys = rk.nkeys > 0;
    eg_radix_keys_free(&rk);
    return ok;
}

static bool decode_path(eg_dec *d, const eg_node *pm, eg_route_path *rp, const char *server,
                        size_t ri, size_t pi, bool radix)
{
    path_priv *p = calloc(1, sizeof *p);
    if (!p)
        return eg_dec_fail(d, NULL, "out of memory");
    rp->priv = p;
    rp->rule_index = ri;
    rp->path_index = pi;
    if (pm->type != EG_NODE_MAP)
        return eg_dec_fail(d, NULL, "must be an object");
    char *re = NULL;
    bool has_methods = false;
    const eg_node *pool;
    if (!eg_ipfilter_decode(d, pm, "ipFilter", &p->ipf) ||
        !dec_nonempty(d, pm, "path", &p->exact) ||
        !dec_nonempty(d, pm, "pathPrefix", &p->prefix) ||
        !dec_nonempty(d, pm, "pathRegexp", &re) ||
        !dec_nonempty(d, pm, "rewriteTarget", &p->rewrite) ||
        !decode_methods(d, pm, &p->methods, &has_methods) ||
        !dec_nonempty(d, pm, "backend", &rp->backend) ||
        !eg_dec_int(d, pm, "clientMaxBodySize", &rp->client_max_body_size, false) ||
        !decode_kv(d, pm, "headers", &p->headers, &p->nheaders) ||
        !eg_dec_bool(d, pm, "matchAllHeader", &p->match_all_header, false) ||
        !decode_kv(d, pm, "queries", &p->queries, &p->nqueries) ||
        !eg_dec_bool(d, pm, "matchAllQuery", &p->match_all_query, false))
        goto out;
    pool = eg_dec_map(d, pm, "backendPool", false);
    if (!eg_dec_ok(d))
        goto out;
    if (pool && !(rp->backend_pool = eg_node_clone(pool))) {
        eg_dec_fail(d, "backendPool", "out of memory");
        goto out;
    }
    if (p->exact && p->exact[0] != '/') {
        eg_dec_fail(d, "path", "must start with \"/\"");
        goto out;
    }
    if (p->prefix && p->prefix[0] != '/') {
        eg_dec_fail(d, "pathPrefix", "must start with \"/\"");
        goto out;
    }
    if (re && !(p->re = re_compile(d, "pathRegexp", re)))
        goto out;
    if (radix && !decode_radix_path(d, p))
        goto out;
    if (!decode_set_headers(d, pm, rp, radix))
        goto out;
    if (rp->client_max_body_size < -1) {
        eg_dec_fail(d, "clientMaxBodySize", "must be -1 (stream), 0 (inherit) or a size in bytes");
        goto out;
    }
    if (!p->exact && !p->prefix && !p->re && p->rewrite) {
        eg_dec_fail(d, "rewriteTarget", "rewriteTarget is specified but path is empty");
        goto out;
    }
    if (!rp->backend && !rp->backend_pool) {
        eg_dec_fail(d, NULL, "either backend or backendPool must be specified");
        goto out;
    }
    if (!rp->backend && asprintf(&rp->backend, "GENERATED-%s-%zu-%zu", server, ri, pi) < 0) {
        rp->backend = NULL;
        eg_dec_fail(d, NULL, "out of memory");
        goto out;
    }
    p->exact_len = p->exact ? strlen(p->exact) : 0;
    p->prefix_len = p->prefix ? strlen(p->prefix) : 0;
    /* routers.Path.Init: a path with no header, query, ipFilter or method condition is
     * "not matchable" and matches any method, even one outside the nine known ones. */
    p->matchable = has_methods || p->nheaders || p->nqueries || p->ipf;
    eg_dec_check_unknown(d, pm);
out:
    free(re);
    return eg_dec_ok(d);
}

static bool add_host(eg_dec *d, rule_t *ru, const char *value, bool is_re, const char *field)
{
    host_matcher *h = &ru->hosts[ru->nhosts];
    memset(h, 0, sizeof *h);
    h->value = strdup(value);
    if (!h->value)
        return eg_dec_fail(d, field, "out of memory");
    ru->nhosts++;
    h->len = strlen(value);
    if (is_re) {
        h->kind = HOST_REGEXP;
        h->re = re_compile(d, field, value);
        return h->re != NULL;
    }
    h->kind = HOST_EXACT;
    size_t stars = 0;
    for (const char *c = value; *c; c++)
        stars += *c == '*';
    if (stars == 0)
        return true;
    /* As routers.Rule.Init: one '*' at the start or the end is a wildcard; anything else
     * (and a lone "*", whose affix is empty) only ever equals itself. */
    if (stars == 1 && value[0] == '*' && h->len > 1) {
        h->kind = HOST_SUFFIX;
        h->affix = h->value + 1;
        h->affix_len = h->len - 1;
    } else if (stars == 1 && value[h->len - 1] == '*' && h->len > 1) {
        h->kind = HOST_PREFIX;
        h->affix = h->value;
        h->affix_len = h->len - 1;
    } else {
        dec_warn(d, field, "host \"%s\" is not a wildcard (only one leading or trailing '*' "
                 "is); it matches only itself", value);
    }
    return true;
}

static bool decode_rule(eg_dec *d, const eg_node *rm, eg_router *r, size_t ri, const char *server)
{
    rule_t *ru = &r->rules[ri];
    ru->first_path = r->npaths;
    if (rm->type != EG_NODE_MAP)
        return eg_dec_fail(d, NULL, "must be an object");
    char *host = NULL, *host_re = NULL;
    const eg_node *hosts = NULL, *paths = NULL;
    if (!eg_ipfilter_decode(d, rm, "ipFilter", &ru->ipf) ||
        !dec_nonempty(d, rm, "host", &host) || !dec_nonempty(d, rm, "hostRegexp", &host_re))
        goto out;
    hosts = eg_dec_seq(d, rm, "hosts", false);
    paths = eg_dec_seq(d, rm, "paths", false);
    if (!eg_dec_ok(d))
        goto out;
    size_t nh = (hosts ? hosts->count : 0) + (host != NULL) + (host_re != NULL);
    ru->hosts = calloc(nh ? nh : 1, sizeof *ru->hosts);
    if (!ru->hosts) {
        eg_dec_fail(d, NULL, "out of memory");
        goto out;
    }
    eg_dec_enter(d, "hosts");
    for (size_t i = 0; hosts && i < hosts->count && eg_dec_ok(d); i++) {
        const eg_node *hm = hosts->items[i];
        eg_dec_enter_index(d, i);
        char *v = NULL;
        bool is_re = false;
        if (hm->type != EG_NODE_MAP)
            eg_dec_fail(d, NULL, "must be an object");
        else if (eg_dec_string(d, hm, "value", &v, true) &&
                 eg_dec_bool(d, hm, "isRegexp", &is_re, false) &&
                 add_host(d, ru, v, is_re, "value"))
            eg_dec_check_unknown(d, hm);
        free(v);
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
    if (!eg_dec_ok(d) || (host && !add_host(d, ru, host, false, "host")) ||
        (host_re && !add_host(d, ru, host_re, true, "hostRegexp")))
        goto out;
    ru->all_exact = ru->nhosts > 0;
    for (size_t i = 0; i < ru->nhosts; i++)
        ru->all_exact &= ru->hosts[i].kind == HOST_EXACT;

    size_t np = paths ? paths->count : 0;
    if (np) {
        eg_route_path *grown = realloc(r->paths, (r->npaths + np) * sizeof *grown);
        if (!grown) {
            eg_dec_fail(d, "paths", "out of memory");
            goto out;
        }
        r->paths = grown;
        memset(r->paths + r->npaths, 0, np * sizeof *grown);
    }
    eg_dec_enter(d, "paths");
    for (size_t i = 0; i < np && eg_dec_ok(d); i++) {
        eg_dec_enter_index(d, i);
        r->npaths++;   /* counted before decoding so a failure still frees it */
        decode_path(d, paths->items[i], &r->paths[r->npaths - 1], server, ri, i, r->radix);
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
    ru->npaths = r->npaths - ru->first_path;
    eg_dec_check_unknown(d, rm);
out:
    free(host);
    free(host_re);
    return eg_dec_ok(d);
}

/* ---- building the index ---------------------------------------------------------------- */

static bool index_add(path_index *x, const path_priv *p, uint32_t ord)
{
    if (p->re || (!p->exact && !p->prefix))
        return ordvec_push(&x->others, ord);
    if (p->exact) {
        void **slot = hmap_slot(&x->exact, p->exact, p->exact_len);
        if (!slot)
            return false;
        if (!*slot && !(*slot = calloc(1, sizeof(ordvec))))
            return false;
        if (!ordvec_push(*slot, ord))
            return false;
    }
    if (p->prefix) {
        if (!x->prefixes && !(x->prefixes = rnode_new("", 0)))
            return false;
        if (!radix_insert(x->prefixes, p->prefix, p->prefix_len, ord))
            return false;
    }
    return true;
}

static bool build_index(eg_router *r)
{
    r->uses_ip = r->server_ipf != NULL;
    for (size_t i = 0; i < r->npaths && !r->uses_ip; i++)
        r->uses_ip = ((const path_priv *)r->paths[i].priv)->ipf != NULL;
    for (size_t ri = 0; ri < r->nrules; ri++) {
        rule_t *ru = &r->rules[ri];
        if (ru->ipf)
            r->uses_ip = true;
        if (ru->ipf && !ordvec_push(&r->ipf_rules, (uint32_t)ri))
            return false;
        if (r->radix)
            continue;   /* RadixTree rules have their own trees (build_radix) */
        for (size_t h = 0; h < (ru->all_exact ? ru->nhosts : 1); h++) {
            path_index *x = &r->generic;
            if (ru->all_exact) {
                bool seen = false;   /* a host listed twice: file the rule once */
                for (size_t e = 0; e < h && !seen; e++)
                    seen = ru->hosts[e].len == ru->hosts[h].len &&
                           memcmp(ru->hosts[e].value, ru->hosts[h].value, ru->hosts[h].len) == 0;
                if (seen)
                    continue;
                void **slot = hmap_slot(&r->hosts, ru->hosts[h].value, ru->hosts[h].len);
                if (!slot)
                    return false;
                if (!*slot && !(*slot = calloc(1, sizeof(path_index))))
                    return false;
                x = *slot;
            }
            for (size_t pi = 0; pi < ru->npaths; pi++) {
                uint32_t ord = (uint32_t)(ru->first_path + pi);
                if (!index_add(x, r->paths[ord].priv, ord))
                    return false;
            }
        }
    }
    return true;
}

/* RadixTree: each rule gets its exact-path map and its tree (Easegress's pathCache and root). */
static bool build_radix(eg_dec *d, eg_router *r)
{
    char err[1024];
    for (size_t ri = 0; ri < r->nrules; ri++) {
        rule_t *ru = &r->rules[ri];
        for (size_t pi = 0; pi < ru->npaths; pi++) {
            uint32_t ord = (uint32_t)(ru->first_path + pi);
            const path_priv *p = r->paths[ord].priv;
            if (!p->exact)
                continue;   /* Easegress files it under "", which no request path equals */
            if (eg_radix_is_static(p->exact)) {
                void **slot = hmap_slot(&ru->radix_static, p->exact, p->exact_len);
                if (!slot || (!*slot && !(*slot = calloc(1, sizeof(ordvec)))) || !ordvec_push(*slot, ord))
                    return eg_dec_fail(d, NULL, "out of memory");
                continue;
            }
            if (!ru->radix && !(ru->radix = eg_radix_new()))
                return eg_dec_fail(d, NULL, "out of memory");
            if (!eg_radix_insert(ru->radix, p->exact, ord, re_compile_msg, NULL, err, sizeof err)) {
                eg_dec_enter(d, "rules");
                eg_dec_enter_index(d, ri);
                eg_dec_enter(d, "paths");
                eg_dec_enter_index(d, pi);
                eg_dec_fail(d, "path", "%s", err);
                eg_dec_leave(d);
                eg_dec_leave(d);
                eg_dec_leave(d);
                eg_dec_leave(d);
                return false;
            }
        }
        if (eg_radix_max_groups(ru->radix) > r->max_groups)
            r->max_groups = eg_radix_max_groups(ru->radix);
    }
    return true;
}

eg_router *eg_router_decode(eg_dec *d, const eg_node *obj, const char *server_name, bool radix,
                            uint32_t cache_size)
{
    static _Atomic uint64_t next_id = 1;
    if (!eg_dec_ok(d))
        return NULL;
    eg_router *r = calloc(1, sizeof *r);
    if (!r) {
        eg_dec_fail(d, NULL, "out of memory");
        return NULL;
    }
    r->id = atomic_fetch_add(&next_id, 1);
    r->radix = radix;
    r->cache_size = cache_size;
    if (!eg_ipfilter_decode(d, obj, "ipFilter", &r->server_ipf))
        goto fail;
    const eg_node *rules = eg_dec_seq(d, obj, "rules", false);
    if (!eg_dec_ok(d))
        goto fail;
    size_t nr = rules ? rules->count : 0;
    if (nr > UINT32_MAX / 2) {
        eg_dec_fail(d, "rules", "too many rules");
        goto fail;
    }
    r->rules = calloc(nr ? nr : 1, sizeof *r->rules);
    if (!r->rules) {
        eg_dec_fail(d, "rules", "out of memory");
        goto fail;
    }
    eg_dec_enter(d, "rules");
    for (size_t i = 0; i < nr && eg_dec_ok(d); i++) {
        eg_dec_enter_index(d, i);
        r->nrules++;
        decode_rule(d, rules->items[i], r, i, server_name ? server_name : "");
        eg_dec_leave(d);
    }
    eg_dec_leave(d);
    if (!eg_dec_ok(d))
        goto fail;
    if (r->npaths > UINT32_MAX / 2) {
        eg_dec_fail(d, "rules", "too many paths");
        goto fail;
    }
    for (size_t i = 0; i < r->nrules; i++)
        for (size_t j = 0; j < r->rules[i].nhosts; j++)
            if (r->rules[i].hosts[j].re && re_groups(r->rules[i].hosts[j].re) > r->max_groups)
                r->max_groups = re_groups(r->rules[i].hosts[j].re);
    for (size_t i = 0; i < r->npaths; i++) {
        path_priv *p = r->paths[i].priv;
        if (p->re && re_groups(p->re) > r->max_groups)
            r->max_groups = re_groups(p->re);
    }
    if (r->radix && !build_radix(d, r))
        goto fail;
    r->mctx = pcre2_match_context_create(NULL);
    if (!r->mctx || !build_index(r)) {
        eg_dec_fail(d, NULL, "out of memory");
        goto fail;
    }
    pcre2_set_match_limit(r->mctx, RE_MATCH_LIMIT);
    pcre2_set_depth_limit(r->mctx, RE_DEPTH_LIMIT);
    return r;
fail:
    eg_router_free(r);
    return NULL;
}

/* ---- paths ------------------------------------------------------------------------------ */

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

/* Drop the last segment of out[0..*o) where out ends with '/' at *o-1 (the segment start is
 * *o). Returns false at the root. */
static bool pop_segment(const char *out, size_t *o)
{
    if (*o <= 1)
        return false;
    size_t k = *o - 1;   /* the '/' ending the previous segment */
    while (k > 0 && out[k - 1] != '/')
        k--;
    *o = k;
    return true;
}

/* Resolve the segment out[seg..*o) if it is "." or "..". Returns false above the root. */
static bool end_segment(const char *out, size_t seg, size_t *o)
{
    size_t n = *o - seg;
    if (n == 1 && out[seg] == '.') {
        *o = seg;
    } else if (n == 2 && out[seg] == '.' && out[seg + 1] == '.') {
        *o = seg;
        if (!pop_segment(out, o))
            return false;
    }
    return true;
}

long eg_path_normalize(const char *raw, size_t len, char *out)
{
    /* Only origin-form paths route; "*" and authority-form never reach the router. */
    if (!raw || len == 0 || raw[0] != '/')
        return -1;
    size_t o = 1, seg = 1;
    out[0] = '/';
    for (size_t i = 1; i < len; i++) {
        unsigned char c = (unsigned char)raw[i];
        if (c == '%') {
            int hi = i + 2 < len ? hexval((unsigned char)raw[i + 1]) : -1;
            int lo = hi >= 0 ? hexval((unsigned char)raw[i + 2]) : -1;
            if (lo < 0)
                return -1;
            c = (unsigned char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0')
            return -1;
        if (c != '/') {
            out[o++] = (char)c;
            continue;
        }
        if (o == seg)
            continue;   /* empty segment: collapse "//" */
        size_t before = o;
        if (!end_segment(out, seg, &o))
            return -1;
        if (o != before) {
            seg = o;    /* "." or ".." removed: out still ends with '/' */
            continue;
        }
        out[o++] = '/';
        seg = o;
    }
    if (!end_segment(out, seg, &o))
        return -1;
    out[o] = '\0';
    return (long)o;
}

/* RFC 3986 pchar (unreserved, sub-delims, ':' '@') and '/' stay; everything else is %XX. */
static bool is_path_char(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("-._~!$&'()*+,;=:@/", c) != NULL;
}

static char *escape_path(const char *s, size_t n)
{
    size_t need = 1;
    for (size_t i = 0; i < n; i++)
        need += is_path_char((unsigned char)s[i]) ? 1 : 3;
    char *out = malloc(need);
    if (!out)
        return NULL;
    static const char hex[] = "0123456789ABCDEF";
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_path_char(c)) {
            out[o++] = (char)c;
        } else {
            out[o++] = '%';
            out[o++] = hex[c >> 4];
            out[o++] = hex[c & 15];
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- Go's Regexp.ReplaceAllString ------------------------------------------------------- */

typedef struct {
    char *s;
    size_t n, cap;
    bool oom;
} buf_t;

static void buf_add(buf_t *b, const char *s, size_t n)
{
    if (b->oom || n == 0)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->n + n + 1)
            cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

/* Go's template names are letters, digits and '_' (Unicode letters: any non-ASCII byte is
 * taken as part of a letter here; such a name never names a PCRE2 group anyway). */
static bool is_name_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_' || c >= 0x80;
}

/* Regexp.Expand: "$$" is '$'; "$name" / "${name}" is a group by number (all digits, no
 * leading zero) or name, empty when absent; the longest name wins, so "$1x" is the group
 * named "1x" (use "${1}x"); a '$' that starts no valid reference is kept literally. */
static void expand(buf_t *b, const char *tpl, size_t tn, const pcre2_code *re, const char *src,
                   const PCRE2_SIZE *ov, uint32_t npairs)
{
    size_t i = 0;
    while (i < tn) {
        const char *dollar = memchr(tpl + i, '$', tn - i);
        if (!dollar) {
            buf_add(b, tpl + i, tn - i);
            return;
        }
        size_t d = (size_t)(dollar - tpl);
        buf_add(b, tpl + i, d - i);
        i = d;
        if (i + 1 < tn && tpl[i + 1] == '$') {
            buf_add(b, "$", 1);
            i += 2;
            continue;
        }
        bool brace = i + 1 < tn && tpl[i + 1] == '{';
        size_t ns = i + 1 + brace, ne = ns;
        while (ne < tn && is_name_char((unsigned char)tpl[ne]))
            ne++;
        if (ne == ns || (brace && (ne >= tn || tpl[ne] != '}'))) {
            buf_add(b, "$", 1);
            i++;
            continue;
        }
        i = ne + brace;
        const char *name = tpl + ns;
        size_t nl = ne - ns;
        long num = 0;
        for (size_t k = 0; k < nl; k++) {
            if (name[k] < '0' || name[k] > '9' || num >= 100000000) {
                num = -1;
                break;
            }
            num = num * 10 + (name[k] - '0');
        }
        if (name[0] == '0' && nl > 1)
            num = -1;
        if (num < 0) {
            char nb[256];
            if (nl >= sizeof nb)
                continue;
            memcpy(nb, name, nl);
            nb[nl] = '\0';
            int g = pcre2_substring_number_from_name(re, (PCRE2_SPTR)nb);
            if (g < 0)
                continue;
            num = g;
        }
        if ((uint32_t)num < npairs && ov[2 * num] != PCRE2_UNSET)
            buf_add(b, src + ov[2 * num], ov[2 * num + 1] - ov[2 * num]);
    }
}

/* Width of the UTF-8 character at s as Go's DecodeRuneInString counts it: an invalid,
 * overlong, surrogate or truncated sequence is one byte. */
static size_t utf8_width(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    size_t w = c < 0x80 ? 1 : c >= 0xc2 && c <= 0xdf ? 2 : c >= 0xe0 && c <= 0xef ? 3
             : c >= 0xf0 && c <= 0xf4 ? 4 : 1;
    if (w == 1 || w > n)
        return 1;
    unsigned char lo = c == 0xe0 ? 0xa0 : c == 0xf0 ? 0x90 : 0x80;
    unsigned char hi = c == 0xed ? 0x9f : c == 0xf4 ? 0x8f : 0xbf;
    if (s[1] < lo || s[1] > hi)
        return 1;
    for (size_t k = 2; k < w; k++)
        if ((s[k] & 0xc0) != 0x80)
            return 1;
    return w;
}

/* Returns a malloc'd string, or NULL (out of memory or a regexp resource limit). */
static char *replace_all(const eg_router *r, const pcre2_code *re, const char *src, size_t n,
                         const char *tpl, pcre2_match_data *md)
{
    buf_t b = {0};
    size_t last_end = 0, pos = 0;
    uint32_t npairs = pcre2_get_ovector_count(md);
    const PCRE2_SIZE *ov = pcre2_get_ovector_pointer(md);
    while (pos <= n) {
        int rc = pcre2_match(re, (PCRE2_SPTR)src, n, pos, 0, md, r->mctx);
        if (rc == PCRE2_ERROR_NOMATCH)
            break;
        if (rc < 0) {
            free(b.s);
            return NULL;
        }
        size_t a0 = ov[0], a1 = ov[1];
        buf_add(&b, src + last_end, a0 > last_end ? a0 - last_end : 0);
        /* Like Go, no replacement for an empty match right after the previous match. */
        if (a1 > last_end || a0 == 0)
            expand(&b, tpl, strlen(tpl), re, src, ov, npairs);
        last_end = a1;
        size_t w = utf8_width((const unsigned char *)src + pos, n - pos);
        if (pos + w > a1)
            pos += w;
        else if (pos + 1 > a1)
            pos++;
        else
            pos = a1;
    }
    if (last_end < n)
        buf_add(&b, src + last_end, n - last_end);
    if (b.oom) {
        free(b.s);
        return NULL;
    }
    return b.s ? b.s : strdup("");
}

/* ---- matching --------------------------------------------------------------------------- */

void eg_host_strip_port(const char *host, size_t len, const char **out, size_t *out_len)
{
    *out = host;
    *out_len = len;
    const char *colon = len ? memrchr(host, ':', len) : NULL;
    if (!colon)
        return;
    size_t i = (size_t)(colon - host), j = 0, k = 0;
    const char *h;
    size_t hl;
    if (host[0] == '[') {
        const char *rb = memchr(host, ']', len);
        if (!rb)
            return;
        size_t end = (size_t)(rb - host);
        if (end + 1 != i)
            return;   /* "[::1]" (no port) or "[::1]x:80" */
        h = host + 1;
        hl = end - 1;
        j = 1;
        k = end + 1;
    } else {
        h = host;
        hl = i;
        if (memchr(host, ':', hl))
            return;   /* too many colons */
    }
    if (memchr(host + j, '[', len - j) || memchr(host + k, ']', len - k))
        return;
    *out = h;
    *out_len = hl;
}

typedef struct {
    const eg_router *r;
    const eg_route_request *req;
    const char *host;
    size_t host_len;
    const char *path;
    size_t path_len;
    const uint8_t *ip;    /* NULL when the client IP does not parse */
    unsigned method;
    pcre2_match_data *md;
    char *qbuf;           /* 2 * query_len + 2 bytes: decoded key, then decoded value */
    bool oom;
    bool ip_mismatch, header_mismatch, query_mismatch, method_mismatch;
    bool uncacheable;     /* a header, query or client IP was consulted */
} mctx;

/* An ipFilter check: its outcome depends on the client IP, so the route is not cacheable. */
static bool ip_allowed(mctx *c, const eg_ipfilter *f)
{
    if (!f)
        return true;
    c->uncacheable = true;
    return eg_ipfilter_allow(f, c->ip);
}

static bool re_search(mctx *c, const pcre2_code *re, const char *s, size_t n)
{
    if (!c->md && !(c->md = pcre2_match_data_create(c->r->max_groups + 1, NULL))) {
        c->oom = true;
        return false;
    }
    /* A resource-limit error counts as no match: bounded time beats a guessed yes. */
    return pcre2_match(re, (PCRE2_SPTR)(s ? s : ""), n, 0, 0, c->md, c->r->mctx) >= 0;
}

static bool host_match(mctx *c, const rule_t *ru)
{
    if (ru->nhosts == 0)
        return true;
    const char *h = c->host;
    size_t n = c->host_len;
    for (size_t i = 0; i < ru->nhosts; i++) {
        const host_matcher *m = &ru->hosts[i];
        if (m->kind == HOST_REGEXP) {
            if (re_search(c, m->re, h, n))
                return true;
            continue;
        }
        if (n == m->len && memcmp(h, m->value, n) == 0)
            return true;
        if (m->kind == HOST_PREFIX && n >= m->affix_len && memcmp(h, m->affix, m->affix_len) == 0)
            return true;
        if (m->kind == HOST_SUFFIX && n >= m->affix_len &&
            memcmp(h + n - m->affix_len, m->affix, m->affix_len) == 0)
            return true;
    }
    return false;
}

static bool path_match(mctx *c, const path_priv *p)
{
    if (!p->exact && !p->prefix && !p->re)
        return true;
    if (p->exact && p->exact_len == c->path_len && memcmp(p->exact, c->path, c->path_len) == 0)
        return true;
    if (p->prefix && c->path_len >= p->prefix_len && memcmp(p->prefix, c->path, p->prefix_len) == 0)
        return true;
    return p->re && re_search(c, p->re, c->path, c->path_len);
}

static bool in_values(const kv_matcher *m, const char *v, size_t n)
{
    for (size_t i = 0; i < m->nvalues; i++)
        if (strlen(m->values[i]) == n && memcmp(m->values[i], v, n) == 0)
            return true;
    return false;
}

/* Headers.Match / Queries.Match: the request's first value of the key ("" when absent). */
static bool kv_match(mctx *c, const kv_matcher *v, size_t n, bool all,
                     bool (*get)(mctx *, const kv_matcher *, const char **, size_t *))
{
    for (size_t i = 0; i < n; i++) {
        const char *val;
        size_t vl;
        if (!get(c, &v[i], &val, &vl))
            return false;
        bool in = in_values(&v[i], val, vl);
        if (all) {
            if ((v[i].nvalues && !in) || (v[i].re && !re_search(c, v[i].re, val, vl)))
                return false;
        } else if (in || (v[i].re && re_search(c, v[i].re, val, vl))) {
            return true;
        }
    }
    return all;
}

static bool get_header(mctx *c, const kv_matcher *m, const char **v, size_t *n)
{
    const eg_header *h = c->req->headers ? eg_headers_find(c->req->headers, m->key, m->key_len)
                                         : NULL;
    *v = h ? h->value : "";
    *n = h ? h->value_len : 0;
    return true;
}

/* Go's QueryUnescape: '+' is a space, %XX must be two hex digits. Returns length or -1. */
static long query_unescape(const char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi = i + 2 < n ? hexval((unsigned char)s[i + 1]) : -1;
            int lo = hi >= 0 ? hexval((unsigned char)s[i + 2]) : -1;
            if (lo < 0)
                return -1;
            out[o++] = (char)(hi << 4 | lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    return (long)o;
}

/* url.ParseQuery then Values.Get: pairs split on '&', a pair holding ';' or a bad escape is
 * dropped, an empty pair skipped, the value of the first pair whose key equals. */
static bool get_query(mctx *c, const kv_matcher *m, const char **v, size_t *n)
{
    const char *q = c->req->query ? c->req->query : "";
    size_t qn = c->req->query ? c->req->query_len : 0;
    *v = "";
    *n = 0;
    if (!c->qbuf && !(c->qbuf = malloc(2 * qn + 2))) {
        c->oom = true;
        return false;
    }
    char *kb = c->qbuf, *vb = c->qbuf + qn + 1;
    size_t i = 0;
    while (i < qn) {
        const char *amp = memchr(q + i, '&', qn - i);
        size_t end = amp ? (size_t)(amp - q) : qn;
        const char *pair = q + i;
        size_t pl = end - i;
        i = end + 1;
        if (pl == 0 || memchr(pair, ';', pl))
            continue;
        const char *eq = memchr(pair, '=', pl);
        size_t kl = eq ? (size_t)(eq - pair) : pl;
        long dk = query_unescape(pair, kl, kb);
        if (dk < 0 || (size_t)dk != m->key_len || memcmp(kb, m->key, m->key_len) != 0)
            continue;
        long dv = eq ? query_unescape(eq + 1, pl - kl - 1, vb) : 0;
        if (dv < 0)
            continue;
        *v = vb;
        *n = (size_t)dv;
        return true;
    }
    return true;
}

/* routers.Path.Match, minus setHeaders (applied by the caller once the route is chosen). */
static bool path_conditions(mctx *c, const path_priv *p)
{
    if (!p->matchable)
        return true;
    if (!(c->method & p->methods)) {
        c->method_mismatch = true;
        return false;
    }
    if (p->nheaders)
        c->uncacheable = true;
    if (p->nheaders && !kv_match(c, p->headers, p->nheaders, p->match_all_header, get_header)) {
        c->header_mismatch = true;
        return false;
    }
    if (p->nqueries)
        c->uncacheable = true;
    if (p->nqueries && !kv_match(c, p->queries, p->nqueries, p->match_all_query, get_query)) {
        c->query_mismatch = true;
        return false;
    }
    if (!ip_allowed(c, p->ipf)) {
        c->ip_mismatch = true;
        return false;
    }
    return true;
}

typedef struct {
    const uint32_t *v;
    size_t n, i;
} src_t;

typedef struct {
    src_t *s;
    size_t n, cap;
    src_t local[48];
    bool oom;
} srcs_t;

static void srcs_add(srcs_t *ss, const ordvec *o)
{
    if (!o || !o->n)
        return;
    if (ss->n == ss->cap) {
        size_t cap = ss->cap * 2;
        src_t *s = ss->s == ss->local ? malloc(cap * sizeof *s) : realloc(ss->s, cap * sizeof *s);
        if (!s) {
            ss->oom = true;
            return;
        }
        if (ss->s == ss->local)
            memcpy(s, ss->local, ss->n * sizeof *s);
        ss->s = s;
        ss->cap = cap;
    }
    ss->s[ss->n++] = (src_t){o->v, o->n, 0};
}

static void gather(srcs_t *ss, const path_index *x, const char *path, size_t n)
{
    if (!x)
        return;
    srcs_add(ss, hmap_get(&x->exact, path, n));
    srcs_add(ss, &x->others);
    const rnode *node = x->prefixes;
    size_t pos = 0;
    while (node) {
        srcs_add(ss, &node->ords);
        if (pos >= n)
            break;
        const rnode *kid = rnode_kid(node, (unsigned char)path[pos]);
        if (!kid || n - pos < kid->len || memcmp(path + pos, kid->label, kid->len) != 0)
            break;
        pos += kid->len;
        node = kid;
    }
}

/* The smallest ordinal not yet visited across the sources, or UINT32_MAX. */
static uint32_t next_candidate(srcs_t *ss)
{
    uint32_t best = UINT32_MAX;
    for (size_t i = 0; i < ss->n; i++)
        if (ss->s[i].i < ss->s[i].n && ss->s[i].v[ss->s[i].i] < best)
            best = ss->s[i].v[ss->s[i].i];
    for (size_t i = 0; i < ss->n; i++)
        if (ss->s[i].i < ss->s[i].n && ss->s[i].v[ss->s[i].i] == best)
            ss->s[i].i++;
    return best;
}

static int finish(eg_route_match *m, int status)
{
    m->status = status;
    return status;
}

static int rewrite(mctx *c, const eg_route_path *rp, eg_route_match *m)
{
    const path_priv *p = rp->priv;
    if (!p->rewrite)
        return 0;
    char *out = NULL;
    if (p->exact && p->exact_len == c->path_len && memcmp(p->exact, c->path, c->path_len) == 0) {
        out = escape_path(p->rewrite, strlen(p->rewrite));
    } else if (p->prefix && c->path_len >= p->prefix_len &&
               memcmp(p->prefix, c->path, p->prefix_len) == 0) {
        size_t tl = strlen(p->rewrite), rest = c->path_len - p->prefix_len;
        char *t = malloc(tl + rest + 1);
        if (t) {
            memcpy(t, p->rewrite, tl);
            memcpy(t + tl, c->path + p->prefix_len, rest);
            out = escape_path(t, tl + rest);
            free(t);
        }
    } else if (p->re) {
        if (!c->md && !(c->md = pcre2_match_data_create(c->r->max_groups + 1, NULL)))
            return -1;
        char *t = replace_all(c->r, p->re, c->path, c->path_len, p->rewrite, c->md);
        if (t) {
            out = escape_path(t, strlen(t));
            free(t);
        }
    } else {
        return 0;
    }
    if (!out)
        return -1;
    m->rewritten_path = out;
    return 0;
}

static int search(mctx *c, eg_route_match *m)
{
    const eg_router *r = c->r;
    srcs_t ss;
    ss.s = ss.local;
    ss.n = 0;
    ss.cap = sizeof ss.local / sizeof ss.local[0];
    ss.oom = false;
    gather(&ss, hmap_get(&r->hosts, c->host, c->host_len), c->path, c->path_len);
    gather(&ss, &r->generic, c->path, c->path_len);
    const eg_route_path *found = NULL;
    size_t last_rule = SIZE_MAX;
    bool rule_ok = false;
    while (!ss.oom && !c->oom) {
        uint32_t ord = next_candidate(&ss);
        if (ord == UINT32_MAX)
            break;
        const eg_route_path *rp = &r->paths[ord];
        if (rp->rule_index != last_rule) {
            /* candidates come in order, so a rule's paths are consecutive */
            const rule_t *ru = &r->rules[rp->rule_index];
            last_rule = rp->rule_index;
            rule_ok = (ru->all_exact || host_match(c, ru));
            if (rule_ok && !ip_allowed(c, ru->ipf)) {
                c->ip_mismatch = true;
                rule_ok = false;
            }
        }
        if (rule_ok && path_match(c, rp->priv) && path_conditions(c, rp->priv)) {
            found = rp;
            break;
        }
    }
    if (ss.s != ss.local)
        free(ss.s);
    if (ss.oom || c->oom)
        return 500;
    if (found) {
        m->path = found;
        return rewrite(c, found, m) == 0 ? 0 : 500;
    }
    /* Easegress flags every host-matching rule whose ipFilter denies, path or not. */
    for (size_t i = 0; i < r->ipf_rules.n && !c->ip_mismatch; i++) {
        const rule_t *ru = &r->rules[r->ipf_rules.v[i]];
        if (host_match(c, ru) && !ip_allowed(c, ru->ipf))
            c->ip_mismatch = true;
    }
    if (c->ip_mismatch)
        return 403;
    if (c->header_mismatch || c->query_mismatch)
        return 400;
    if (c->method_mismatch)
        return 405;
    return 404;
}

/* ---- RadixTree search ---------------------------------------------------------------------- */

static bool radix_accept(void *ud, uint32_t ord)
{
    mctx *c = ud;
    return !c->oom && path_conditions(c, c->r->paths[ord].priv);
}

static bool radix_re(void *ud, const pcre2_code *re, const char *s, size_t n)
{
    return re_search(ud, re, s, n);
}

/* The captured values, paired with the pattern's keys, in one block m owns. */
static int set_captures(mctx *c, eg_route_match *m, const eg_radix_span *vals, size_t nvals)
{
    const path_priv *p = m->path->priv;
    size_t n = nvals < p->keys.nkeys ? nvals : p->keys.nkeys;
    if (n == 0)
        return 0;
    size_t bytes = 2 * n * sizeof(char *);
    for (size_t i = 0; i < n; i++)
        bytes += vals[i].len + 1;
    char **mem = malloc(bytes);
    if (!mem)
        return -1;
    const char **names = (const char **)mem, **values = names + n;
    char *text = (char *)(values + n);
    for (size_t i = 0; i < n; i++) {
        names[i] = p->keys.keys[i];
        memcpy(text, c->path + vals[i].off, vals[i].len);
        text[vals[i].len] = '\0';
        values[i] = text;
        text += vals[i].len + 1;
    }
    m->captures_mem = mem;
    m->captures = (eg_route_captures){names, values, n};
    return 0;
}

/* rewriteTarget: static, or with its {key}s replaced by the captured values. */
static int radix_rewrite(eg_route_match *m)
{
    const path_priv *p = m->path->priv;
    if (!p->rewrite)
        return 0;
    if (!p->rewrite_keys) {
        m->rewritten_path = escape_path(p->rewrite, strlen(p->rewrite));
        return m->rewritten_path ? 0 : -1;
    }
    buf_t b = {0};
    const char *t = p->rewrite;
    while (*t) {
        const char *close = *t == '{' ? strchr(t, '}') : NULL;
        const char *v = close ? eg_route_capture(&m->captures, t + 1, (size_t)(close - t - 1)) : NULL;
        if (v) {
            buf_add(&b, v, strlen(v));
            t = close + 1;
        } else {
            buf_add(&b, t, 1);
            t++;
        }
    }
    if (!b.oom)
        m->rewritten_path = escape_path(b.s ? b.s : "", b.n);
    free(b.s);
    return m->rewritten_path ? 0 : -1;
}

/* Easegress's radixTreeRouter.Search: rules in order; in a rule whose host matches and
 * whose ipFilter allows, the exact patterns first, then the tree. */
static int search_radix(mctx *c, eg_route_match *m)
{
    const eg_router *r = c->r;
    eg_radix_search rs = {radix_accept, radix_re, c};
    for (size_t ri = 0; ri < r->nrules && !c->oom; ri++) {
        const rule_t *ru = &r->rules[ri];
        if (!host_match(c, ru))
            continue;
        if (!ip_allowed(c, ru->ipf)) {
            c->ip_mismatch = true;
            continue;
        }
        const ordvec *v = hmap_get(&ru->radix_static, c->path, c->path_len);
        for (size_t i = 0; v && i < v->n && !c->oom; i++)
            if (path_conditions(c, r->paths[v->v[i]].priv)) {
                m->path = &r->paths[v->v[i]];
                return radix_rewrite(m) == 0 ? 0 : 500;
            }
        uint32_t ord;
        eg_radix_span vals[EG_RADIX_MAX_PARAMS];
        size_t nvals;
        if (eg_radix_find(ru->radix, c->path, c->path_len, &rs, &ord, vals, &nvals)) {
            m->path = &r->paths[ord];
            if (set_captures(c, m, vals, nvals) != 0 || radix_rewrite(m) != 0)
                return 500;
            return 0;
        }
    }
    if (c->oom)
        return 500;
    if (c->ip_mismatch)
        return 403;
    if (c->header_mismatch || c->query_mismatch)
        return 400;
    if (c->method_mismatch)
        return 405;
    return 404;
}

const char *eg_route_capture(const eg_route_captures *c, const char *name, size_t name_len)
{
    for (size_t i = 0; c && i < c->count; i++)
        if (strlen(c->names[i]) == name_len && memcmp(c->names[i], name, name_len) == 0)
            return c->values[i];
    return NULL;
}

const eg_route_captures *eg_route_captures_dup(eg_arena *a, const eg_route_captures *c)
{
    if (!c || c->count == 0)
        return NULL;
    eg_route_captures *out = eg_arena_alloc(a, sizeof *out);
    const char **names = eg_arena_alloc(a, 2 * c->count * sizeof *names), **values = names + c->count;
    for (size_t i = 0; i < c->count; i++) {
        names[i] = c->names[i];   /* the router's, alive while the request pins its snapshot */
        values[i] = eg_arena_strndup(a, c->values[i], strlen(c->values[i]));
    }
    *out = (eg_route_captures){names, values, c->count};
    return out;
}

bool eg_router_server_allows(const eg_router *r, const char *client_ip)
{
    if (!r || !r->server_ipf)
        return true;
    uint8_t ip[16];
    const uint8_t *ipp = client_ip && eg_ip_parse(client_ip, strlen(client_ip), ip) == 0 ? ip : NULL;
    return eg_ipfilter_allow(r->server_ipf, ipp);
}

int eg_router_match(const eg_router *r, const eg_route_request *req, eg_route_match *m)
{
    m->path = NULL;
    m->rewritten_path = NULL;
    m->captures = (eg_route_captures){0};
    m->captures_mem = NULL;
    m->cacheable = false;
    if (!r || !req)
        return finish(m, 404);
    uint8_t ip[16];
    const uint8_t *ipp = r->uses_ip && req->client_ip &&
                                 eg_ip_parse(req->client_ip, strlen(req->client_ip), ip) == 0
                             ? ip : NULL;
    /* mux.search: the server's ipFilter comes before everything, path errors included */
    if (!eg_ipfilter_allow(r->server_ipf, ipp))
        return finish(m, 403);
    char local[1024];
    char *npath = req->path_len < sizeof local ? local : malloc(req->path_len + 1);
    if (!npath)
        return finish(m, 500);
    long pl = eg_path_normalize(req->path, req->path_len, npath);
    if (pl < 0) {
        if (npath != local)
            free(npath);
        m->cacheable = true;
        return finish(m, 400);
    }
    mctx c = {
        .r = r,
        .req = req,
        .path = npath,
        .path_len = (size_t)pl,
        .ip = ipp,
        .method = req->method ? method_bit(req->method, req->method_len) : 0,
    };
    eg_host_strip_port(req->host ? req->host : "", req->host ? req->host_len : 0, &c.host,
                       &c.host_len);
    int status = r->radix ? search_radix(&c, m) : search(&c, m);
    m->cacheable = !c.uncacheable && status != 500;
    pcre2_match_data_free(c.md);
    free(c.qbuf);
    if (npath != local)
        free(npath);
    if (status != 0) {
        m->path = NULL;
        eg_route_match_release(m);
    }
    return finish(m, status);
}

void eg_route_match_release(eg_route_match *m)
{
    if (!m)
        return;
    free(m->rewritten_path);
    m->rewritten_path = NULL;
    free(m->captures_mem);
    m->captures_mem = NULL;
    m->captures = (eg_route_captures){0};
}
