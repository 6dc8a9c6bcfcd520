/* router_radix.c — the path tree of a RadixTree router rule (see router_radix.h).
 *
 * The shape follows Easegress's tree (itself after go-chi's): static nodes split byte-wise
 * as in any radix tree, parameter nodes keyed by their tail byte (and their regexp), and at
 * most one wildcard node per parent. Children are kept per kind so the search can try them
 * in priority order; within the parameter kinds, the order is Easegress's: insertion order,
 * with the node whose tail is '/' moved last (its swap, reproduced, since it decides which
 * of two overlapping parameters wins). */
#include "router_radix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NT_STATIC, NT_REGEXP, NT_PARAM, NT_CATCHALL, NT_KINDS };

typedef struct rxnode {
    int type;
    char *label;            /* static: the text; regexp: the anchored pattern */
    size_t len;
    char tail;              /* parameters: the byte that ends the value */
    pcre2_code *re;
    struct rxnode **kids[NT_KINDS];
    size_t nkids[NT_KINDS];
    uint32_t *ords;         /* paths whose pattern ends here, in definition order */
    size_t nords;
} rxnode;

struct eg_radix {
    rxnode *root;
    uint32_t max_groups;
};

/* ---- patterns ---------------------------------------------------------------------------- */

typedef struct {
    int type;               /* NT_STATIC when the rest holds no parameter */
    size_t ps, pe;          /* the segment is pattern[ps, pe) */
    const char *key;
    size_t key_len;
    const char *re;         /* regexp text (without anchors), NULL for a plain parameter */
    size_t re_len;
    char tail;
} segment;

/* patNextSegment: the next parameter or wildcard of pat[0, n). */
static const char *next_segment(const char *pat, size_t n, segment *s)
{
    memset(s, 0, sizeof *s);
    const char *brace = memchr(pat, '{', n), *star = memchr(pat, '*', n);
    if (!brace && !star) {
        s->type = NT_STATIC;
        s->pe = n;
        return NULL;
    }
    if (brace && star && star < brace)
        return "wildcard '*' must be the last pattern in a route, otherwise use a '{param}'";
    if (brace) {
        size_t ps = (size_t)(brace - pat), pe = ps;
        int depth = 0;
        for (size_t i = ps; i < n; i++) {
            if (pat[i] == '{') {
                depth++;
            } else if (pat[i] == '}' && --depth == 0) {
                pe = i;
                break;
            }
        }
        if (pe == ps)
            return "route param closing delimiter '}' is missing";
        s->type = NT_PARAM;
        s->ps = ps;
        s->key = pat + ps + 1;
        s->key_len = pe - ps - 1;
        s->pe = pe + 1;
        s->tail = s->pe < n ? pat[s->pe] : '/';
        const char *colon = memchr(s->key, ':', s->key_len);
        if (colon) {
            s->type = NT_REGEXP;
            s->re = colon + 1;
            s->re_len = s->key_len - (size_t)(colon - s->key) - 1;
            s->key_len = (size_t)(colon - s->key);
        }
        return NULL;
    }
    if ((size_t)(star - pat) != n - 1)
        return "wildcard '*' must be the last value in a route; trim trailing text or use a '{param}' instead";
    s->type = NT_CATCHALL;
    s->key = EG_RADIX_WILDCARD;
    s->key_len = strlen(EG_RADIX_WILDCARD);
    s->ps = n - 1;
    s->pe = n;
    return NULL;
}

bool eg_radix_is_static(const char *pattern)
{
    return !strchr(pattern, '{') && !strchr(pattern, '*');
}

void eg_radix_keys_free(eg_radix_keys *k)
{
    for (size_t i = 0; i < k->nkeys; i++)
        free(k->keys[i]);
    free(k->keys);
    k->keys = NULL;
    k->nkeys = 0;
}

const char *eg_radix_parse_keys(const char *pattern, eg_radix_keys *out, char **bad)
{
    out->keys = NULL;
    out->nkeys = 0;
    *bad = NULL;
    const char *p = pattern;
    size_t n = strlen(pattern);
    for (;;) {
        segment s;
        const char *err = next_segment(p, n, &s);
        if (err) {
            eg_radix_keys_free(out);
            return err;
        }
        if (s.type == NT_STATIC)
            return NULL;
        for (size_t i = 0; i < out->nkeys; i++)
            if (strlen(out->keys[i]) == s.key_len && memcmp(out->keys[i], s.key, s.key_len) == 0) {
                *bad = strndup(s.key, s.key_len);
                eg_radix_keys_free(out);
                return "duplicate param key";
            }
        if (out->nkeys == EG_RADIX_MAX_PARAMS) {
            eg_radix_keys_free(out);
            return "too many params (at most 32)";
        }
        char **k = realloc(out->keys, (out->nkeys + 1) * sizeof *k);
        char *key = k ? strndup(s.key, s.key_len) : NULL;
        if (k)
            out->keys = k;
        if (!key) {
            eg_radix_keys_free(out);
            return "out of memory";
        }
        out->keys[out->nkeys++] = key;
        p += s.pe;
        n -= s.pe;
    }
}

/* ---- the tree ----------------------------------------------------------------------------- */

static rxnode *node_new(int type, const char *label, size_t len, char tail)
{
    rxnode *x = calloc(1, sizeof *x);
    if (!x)
        return NULL;
    x->type = type;
    x->tail = tail;
    x->len = len;
    x->label = malloc(len + 1);
    if (!x->label) {
        free(x);
        return NULL;
    }
    memcpy(x->label, label, len);
    x->label[len] = '\0';
    return x;
}

static void node_free(rxnode *x)
{
    if (!x)
        return;
    for (int t = 0; t < NT_KINDS; t++) {
        for (size_t i = 0; i < x->nkids[t]; i++)
            node_free(x->kids[t][i]);
        free(x->kids[t]);
    }
    free(x->label);
    pcre2_code_free(x->re);
    free(x->ords);
    free(x);
}

static bool add_kid(rxnode *parent, rxnode *kid)
{
    int t = kid->type;
    rxnode **k = realloc(parent->kids[t], (parent->nkids[t] + 1) * sizeof *k);
    if (!k)
        return false;
    parent->kids[t] = k;
    size_t n = ++parent->nkids[t];
    k[n - 1] = kid;
    /* Easegress's tailSort: the last parameter node whose tail is '/' swaps with the last. */
    if (t == NT_REGEXP || t == NT_PARAM)
        for (size_t i = n; i-- > 0;)
            if (k[i]->tail == '/') {
                rxnode *tmp = k[i];
                k[i] = k[n - 1];
                k[n - 1] = tmp;
                break;
            }
    return true;
}

static bool add_ord(rxnode *x, uint32_t ord)
{
    uint32_t *o = realloc(x->ords, (x->nords + 1) * sizeof *o);
    if (!o)
        return false;
    x->ords = o;
    x->ords[x->nords++] = ord;
    return true;
}

/* The static node for text s[0, n) under x, splitting nodes as needed. */
static rxnode *insert_static(rxnode *x, const char *s, size_t n)
{
    while (n > 0) {
        rxnode *kid = NULL;
        size_t ki = 0;
        for (; ki < x->nkids[NT_STATIC]; ki++)
            if (x->kids[NT_STATIC][ki]->label[0] == s[0]) {
                kid = x->kids[NT_STATIC][ki];
                break;
            }
        if (!kid) {
            kid = node_new(NT_STATIC, s, n, 0);
            if (!kid || !add_kid(x, kid)) {
                node_free(kid);
                return NULL;
            }
            return kid;
        }
        size_t common = 0;
        while (common < kid->len && common < n && kid->label[common] == s[common])
            common++;
        if (common < kid->len) {
            rxnode *mid = node_new(NT_STATIC, kid->label, common, 0);
            if (!mid || !add_kid(mid, kid)) {
                node_free(mid);
                return NULL;
            }
            memmove(kid->label, kid->label + common, kid->len - common + 1);
            kid->len -= common;
            x->kids[NT_STATIC][ki] = mid;
            kid = mid;
        }
        x = kid;
        s += common;
        n -= common;
    }
    return x;
}

static rxnode *insert_param(rxnode *x, const segment *s, eg_radix *t, eg_radix_re_compile rc,
                            void *rc_ud, char *err, size_t errlen)
{
    char anchored[1024];
    size_t alen = 0;
    if (s->type == NT_REGEXP) {
        if (s->re_len + 3 > sizeof anchored) {
            snprintf(err, errlen, "regexp of param \"%.*s\" is too long", (int)s->key_len, s->key);
            return NULL;
        }
        /* As Easegress: anchored with ^ and $ unless the pattern already is (or is empty). */
        if (s->re_len && s->re[0] != '^')
            anchored[alen++] = '^';
        memcpy(anchored + alen, s->re, s->re_len);
        alen += s->re_len;
        if (s->re_len && s->re[s->re_len - 1] != '$')
            anchored[alen++] = '$';
        anchored[alen] = '\0';
    }
    for (size_t i = 0; i < x->nkids[s->type]; i++) {
        rxnode *k = x->kids[s->type][i];
        if (k->tail != s->tail)
            continue;
        if (s->type == NT_REGEXP && (k->len != alen || memcmp(k->label, anchored, alen) != 0))
            continue;
        return k;
    }
    rxnode *k = node_new(s->type, anchored, alen, s->tail);
    if (!k) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (s->type == NT_REGEXP) {
        k->re = rc(rc_ud, anchored, err, errlen);
        if (!k->re) {
            node_free(k);
            return NULL;
        }
        uint32_t groups = 0;
        pcre2_pattern_info(k->re, PCRE2_INFO_CAPTURECOUNT, &groups);
        if (groups > t->max_groups)
            t->max_groups = groups;
    }
    if (!add_kid(x, k)) {
        node_free(k);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    return k;
}

eg_radix *eg_radix_new(void)
{
    eg_radix *t = calloc(1, sizeof *t);
    if (t && !(t->root = node_new(NT_STATIC, "", 0, 0))) {
        free(t);
        return NULL;
    }
    return t;
}

void eg_radix_free(eg_radix *t)
{
    if (!t)
        return;
    node_free(t->root);
    free(t);
}

uint32_t eg_radix_max_groups(const eg_radix *t)
{
    return t ? t->max_groups : 0;
}

bool eg_radix_insert(eg_radix *t, const char *pattern, uint32_t ord, eg_radix_re_compile rc,
                     void *rc_ud, char *err, size_t errlen)
{
    rxnode *x = t->root;
    const char *p = pattern;
    size_t n = strlen(pattern);
    while (n > 0) {
        segment s;
        const char *e = next_segment(p, n, &s);
        if (e) {
            snprintf(err, errlen, "%s", e);
            return false;
        }
        size_t static_len = s.type == NT_STATIC ? n : s.ps;
        if (static_len && !(x = insert_static(x, p, static_len))) {
            snprintf(err, errlen, "out of memory");
            return false;
        }
        if (s.type == NT_STATIC)
            break;
        if (s.type == NT_CATCHALL) {
            if (!x->nkids[NT_CATCHALL]) {
                rxnode *k = node_new(NT_CATCHALL, "*", 1, 0);
                if (!k || !add_kid(x, k)) {
                    node_free(k);
                    snprintf(err, errlen, "out of memory");
                    return false;
                }
            }
            x = x->kids[NT_CATCHALL][0];
        } else if (!(x = insert_param(x, &s, t, rc, rc_ud, err, errlen))) {
            return false;
        }
        p += s.pe;
        n -= s.pe;
    }
    if (!add_ord(x, ord)) {
        snprintf(err, errlen, "out of memory");
        return false;
    }
    return true;
}

/* ---- search ------------------------------------------------------------------------------ */

typedef struct {
    const eg_radix_search *s;
    const char *path;
    size_t end;
    eg_radix_span *vals;
    size_t nvals;
    uint32_t ord;
} finder;

static bool leaf(finder *f, const rxnode *x)
{
    for (size_t i = 0; i < x->nords; i++)
        if (f->s->accept(f->s->ud, x->ords[i])) {
            f->ord = x->ords[i];
            return true;
        }
    return false;
}

static bool find(finder *f, const rxnode *x, size_t pos)
{
    size_t rem = f->end - pos;
    const char *at = f->path + pos;
    if (rem > 0) {
        for (size_t i = 0; i < x->nkids[NT_STATIC]; i++) {
            const rxnode *k = x->kids[NT_STATIC][i];
            if (k->label[0] != at[0])
                continue;
            if (rem >= k->len && memcmp(at, k->label, k->len) == 0) {
                size_t np = pos + k->len;
                if ((np == f->end && k->nords && leaf(f, k)) || find(f, k, np))
                    return true;
            }
            break;   /* static siblings differ in their first byte */
        }
    }
    for (int t = NT_REGEXP; t <= NT_PARAM && rem > 0; t++) {
        for (size_t i = 0; i < x->nkids[t]; i++) {
            const rxnode *k = x->kids[t][i];
            const char *tail = memchr(at, k->tail, rem);
            size_t p;
            if (tail) {
                p = (size_t)(tail - at);
                if (t == NT_REGEXP && p == 0)
                    continue;
            } else if (k->tail == '/') {
                p = rem;
            } else {
                continue;
            }
            if (t == NT_REGEXP ? !f->s->re_match(f->s->ud, k->re, at, p) : memchr(at, '/', p) != NULL)
                continue;
            if (f->nvals == EG_RADIX_MAX_PARAMS)
                continue;   /* cannot happen: no pattern has more parameters */
            f->vals[f->nvals++] = (eg_radix_span){pos, p};
            size_t np = pos + p;
            if ((np == f->end && k->nords && leaf(f, k)) || find(f, k, np))
                return true;
            f->nvals--;
        }
    }
    if (x->nkids[NT_CATCHALL] && f->nvals < EG_RADIX_MAX_PARAMS && leaf(f, x->kids[NT_CATCHALL][0])) {
        f->vals[f->nvals++] = (eg_radix_span){pos, rem};
        return true;
    }
    return false;
}

bool eg_radix_find(const eg_radix *t, const char *path, size_t n, const eg_radix_search *s,
                   uint32_t *ord, eg_radix_span vals[EG_RADIX_MAX_PARAMS], size_t *nvals)
{
    *nvals = 0;
    if (!t)
        return false;
    finder f = {.s = s, .path = path, .end = n, .vals = vals};
    if (!find(&f, t->root, 0))
        return false;
    *ord = f.ord;
    *nvals = f.nvals;
    return true;
}
