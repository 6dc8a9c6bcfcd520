/* route_cache.c — see route_cache.h. A chained hash table over entries that also sit in a
 * doubly linked recency list; each entry is one allocation holding its key and a copy of
 * the result (rewritten path, captured values). */
#include "route_cache.h"
#include "hash.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    struct entry *hnext;           /* hash chain */
    struct entry *newer, *older;   /* recency list */
    uint64_t hash;
    int status;
    const eg_route_path *path;
    char *rewritten;               /* NULL or into this block */
    size_t ncaps;
    const char **names;            /* into the router */
    char **values;                 /* into this block */
    size_t key_len;
    char key[];
} entry;

struct eg_route_cache {
    uint64_t router_id;
    size_t capacity, count;
    entry **buckets;
    size_t nbuckets;               /* power of two */
    entry *newest, *oldest;
    uint64_t hits, misses;
};

static void unlink_lru(eg_route_cache *c, entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(eg_route_cache *c, entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

static void clear(eg_route_cache *c)
{
    for (entry *e = c->newest, *next; e; e = next) {
        next = e->older;
        free(e);
    }
    if (c->buckets)
        memset(c->buckets, 0, c->nbuckets * sizeof *c->buckets);
    c->newest = c->oldest = NULL;
    c->count = 0;
}

void eg_route_cache_free(eg_route_cache *c)
{
    if (!c)
        return;
    clear(c);
    free(c->buckets);
    free(c);
}

void eg_route_cache_stats_get(const eg_route_cache *c, eg_route_cache_stats *out)
{
    memset(out, 0, sizeof *out);
    if (!c)
        return;
    out->hits = c->hits;
    out->misses = c->misses;
    out->entries = c->count;
    out->capacity = c->capacity;
}

static void remove_entry(eg_route_cache *c, entry *e)
{
    entry **pp = &c->buckets[e->hash & (c->nbuckets - 1)];
    while (*pp != e)
        pp = &(*pp)->hnext;
    *pp = e->hnext;
    unlink_lru(c, e);
    c->count--;
    free(e);
}

/* Keep about one entry per bucket, up to the capacity. */
static void maybe_grow(eg_route_cache *c)
{
    if (c->count < c->nbuckets || c->nbuckets >= c->capacity)
        return;
    size_t n = c->nbuckets * 2;
    entry **b = calloc(n, sizeof *b);
    if (!b)
        return;   /* longer chains, still correct */
    for (entry *e = c->newest; e; e = e->older) {
        size_t i = e->hash & (n - 1);
        e->hnext = b[i];
        b[i] = e;
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static entry *lookup(eg_route_cache *c, const char *key, size_t n, uint64_t h)
{
    for (entry *e = c->buckets[h & (c->nbuckets - 1)]; e; e = e->hnext)
        if (e->hash == h && e->key_len == n && memcmp(e->key, key, n) == 0)
            return e;
    return NULL;
}

static void insert(eg_route_cache *c, const char *key, size_t n, uint64_t h, const eg_route_match *m)
{
    size_t rl = m->rewritten_path ? strlen(m->rewritten_path) + 1 : 0;
    size_t nc = m->captures.count;
    size_t bytes = sizeof(entry) + n + rl + 2 * nc * sizeof(char *);
    for (size_t i = 0; i < nc; i++)
        bytes += strlen(m->captures.values[i]) + 1;
    /* pointers after the flexible key need alignment */
    bytes += sizeof(char *);
    entry *e = malloc(bytes);
    if (!e)
        return;   /* not cached: the next request matches again */
    memset(e, 0, sizeof *e);
    e->hash = h;
    e->status = m->status;
    e->path = m->path;
    e->key_len = n;
    memcpy(e->key, key, n);
    uintptr_t at = (uintptr_t)(e->key + n);
    at = (at + sizeof(char *) - 1) & ~(uintptr_t)(sizeof(char *) - 1);
    e->ncaps = nc;
    e->names = (const char **)at;
    e->values = (char **)(e->names + nc);
    char *text = (char *)(e->values + nc);
    for (size_t i = 0; i < nc; i++) {
        size_t vl = strlen(m->captures.values[i]) + 1;
        e->names[i] = m->captures.names[i];
        e->values[i] = memcpy(text, m->captures.values[i], vl);
        text += vl;
    }
    if (rl)
        e->rewritten = memcpy(text, m->rewritten_path, rl);
    if (c->count >= c->capacity)
        remove_entry(c, c->oldest);
    size_t i = h & (c->nbuckets - 1);
    e->hnext = c->buckets[i];
    c->buckets[i] = e;
    push_newest(c, e);
    c->count++;
    maybe_grow(c);
}

/* Fill m from a cached entry, with its own copies (as eg_router_match would). */
static int answer(const entry *e, eg_route_match *m)
{
    memset(m, 0, sizeof *m);
    m->status = e->status;
    m->path = e->path;
    m->cacheable = true;
    if (e->rewritten && !(m->rewritten_path = strdup(e->rewritten)))
        goto oom;
    if (e->ncaps) {
        size_t bytes = 2 * e->ncaps * sizeof(char *);
        for (size_t i = 0; i < e->ncaps; i++)
            bytes += strlen(e->values[i]) + 1;
        const char **mem = malloc(bytes);
        if (!mem)
            goto oom;
        const char **values = mem + e->ncaps;
        char *text = (char *)(values + e->ncaps);
        for (size_t i = 0; i < e->ncaps; i++) {
            size_t vl = strlen(e->values[i]) + 1;
            mem[i] = e->names[i];
            values[i] = memcpy(text, e->values[i], vl);
            text += vl;
        }
        m->captures_mem = mem;
        m->captures = (eg_route_captures){mem, values, e->ncaps};
    }
    return m->status;
oom:
    eg_route_match_release(m);
    m->path = NULL;
    m->status = 500;
    return 500;
}

int eg_route_cache_match(eg_route_cache **cp, const eg_router *r, const eg_route_request *req,
                         eg_route_match *m)
{
    uint32_t cap = eg_router_cache_size(r);
    if (!cap || !req || !eg_router_server_allows(r, req->client_ip))
        return eg_router_match(r, req, m);
    eg_route_cache *c = *cp;
    if (!c) {
        c = calloc(1, sizeof *c);
        if (!c)
            return eg_router_match(r, req, m);
        *cp = c;
    }
    if (c->router_id != eg_router_id(r) || !c->buckets) {
        clear(c);
        c->router_id = eg_router_id(r);
        c->capacity = cap;
        if (!c->buckets) {
            c->nbuckets = 16;
            if (!(c->buckets = calloc(c->nbuckets, sizeof *c->buckets)))
                return eg_router_match(r, req, m);
        }
    }
    size_t n = req->method_len + 1 + req->host_len + 1 + req->path_len;
    char local[512];
    char *key = n <= sizeof local ? local : malloc(n);
    if (!key)
        return eg_router_match(r, req, m);
    char *k = key;
    if (req->method_len)
        memcpy(k, req->method, req->method_len);
    k += req->method_len;
    *k++ = '\0';
    if (req->host_len)
        memcpy(k, req->host, req->host_len);
    k += req->host_len;
    *k++ = '\0';
    if (req->path_len)
        memcpy(k, req->path, req->path_len);
    uint64_t h = eg_hash_bytes(key, n);
    entry *e = lookup(c, key, n, h);
    int status;
    if (e) {
        c->hits++;
        unlink_lru(c, e);
        push_newest(c, e);
        status = answer(e, m);
    } else {
        c->misses++;
        status = eg_router_match(r, req, m);
        if (m->cacheable && status != 500)
            insert(c, key, n, h, m);
    }
    if (key != local)
        free(key);
    return status;
}
