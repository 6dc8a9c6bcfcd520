/* stats.c — per-worker request statistics merged on read; see stats.h. */
#include "stats.h"
#include "hash.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One writer per shard: a relaxed load and store compile to a plain add, yet a reader on
 * another thread never sees a torn value. */
static inline void bump(uint64_t *p, uint64_t d)
{
    __atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + d, __ATOMIC_RELAXED);
}

static inline uint64_t rd(const uint64_t *p)
{
    return __atomic_load_n(p, __ATOMIC_RELAXED);
}

/* ---- histogram ---- */

#define SUB (1u << EG_HIST_SUB_BITS)

size_t eg_hist_bucket(uint64_t v)
{
    if (v < SUB)
        return (size_t)v;
    unsigned e = 63u - (unsigned)__builtin_clzll(v);       /* >= EG_HIST_SUB_BITS */
    size_t b = (size_t)(e - EG_HIST_SUB_BITS + 1) * SUB + (size_t)((v >> (e - EG_HIST_SUB_BITS)) & (SUB - 1));
    return b < EG_HIST_BUCKETS ? b : EG_HIST_BUCKETS - 1;
}

uint64_t eg_hist_bucket_low(size_t b)
{
    if (b < SUB)
        return b;
    unsigned e = (unsigned)(b / SUB) + EG_HIST_SUB_BITS - 1;
    return ((uint64_t)1 << e) + ((uint64_t)(b % SUB) << (e - EG_HIST_SUB_BITS));
}

static uint64_t bucket_width(size_t b)
{
    if (b < SUB)
        return 1;
    unsigned e = (unsigned)(b / SUB) + EG_HIST_SUB_BITS - 1;
    return (uint64_t)1 << (e - EG_HIST_SUB_BITS);
}

void eg_hist_init(eg_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

void eg_hist_record(eg_hist *h, uint64_t v)
{
    bump(&h->buckets[eg_hist_bucket(v)], 1);
    bump(&h->count, 1);
    bump(&h->sum, v);
    if (v < rd(&h->min))
        __atomic_store_n(&h->min, v, __ATOMIC_RELAXED);
    if (v > rd(&h->max))
        __atomic_store_n(&h->max, v, __ATOMIC_RELAXED);
}

void eg_hist_merge(eg_hist *into, const eg_hist *from)
{
    into->count += rd(&from->count);
    into->sum += rd(&from->sum);
    uint64_t mn = rd(&from->min), mx = rd(&from->max);
    if (mn < into->min)
        into->min = mn;
    if (mx > into->max)
        into->max = mx;
    for (size_t i = 0; i < EG_HIST_BUCKETS; i++)
        into->buckets[i] += rd(&from->buckets[i]);
}

uint64_t eg_hist_quantile(const eg_hist *h, double q)
{
    /* The count is taken from the buckets: a concurrent writer may have bumped one but not
     * yet the other. */
    uint64_t total = 0;
    for (size_t i = 0; i < EG_HIST_BUCKETS; i++)
        total += h->buckets[i];
    if (!total)
        return 0;
    if (q >= 1.0)
        return h->max;
    uint64_t rank = (uint64_t)ceil(q * (double)total);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (size_t i = 0; i < EG_HIST_BUCKETS; i++) {
        seen += h->buckets[i];
        if (seen >= rank) {
            uint64_t v = eg_hist_bucket_low(i) + bucket_width(i) / 2;
            if (v < h->min)
                v = h->min;
            if (v > h->max)
                v = h->max;
            return v;
        }
    }
    return h->max;
}

/* ---- one request's figures ---- */

void eg_http_stat_init(eg_http_stat *s)
{
    memset(s, 0, sizeof *s);
    eg_hist_init(&s->latency);
}

void eg_http_stat_record(eg_http_stat *s, const eg_stat_sample *sm)
{
    bump(&s->count, 1);
    if (sm->status >= 400)
        bump(&s->errors, 1);
    bump(&s->req_bytes, sm->req_bytes);
    bump(&s->resp_bytes, sm->resp_bytes);
    bump(&s->codes[sm->status >= 100 && sm->status < EG_STAT_CODES ? sm->status : 0], 1);
    eg_hist_record(&s->latency, sm->duration_us);
}

void eg_http_stat_merge(eg_http_stat *into, const eg_http_stat *from)
{
    into->count += rd(&from->count);
    into->errors += rd(&from->errors);
    into->req_bytes += rd(&from->req_bytes);
    into->resp_bytes += rd(&from->resp_bytes);
    for (size_t i = 0; i < EG_STAT_CODES; i++)
        into->codes[i] += rd(&from->codes[i]);
    eg_hist_merge(&into->latency, &from->latency);
}

/* ---- top-N paths ---- */

static bool looks_like_id(const char *s, size_t n)
{
    if (n > 32)
        return true;
    for (size_t i = 0; i < n; i++)
        if (s[i] >= '0' && s[i] <= '9')
            return true;
    return false;
}

size_t eg_stats_path_pattern(const char *path, size_t len, char *out, size_t cap)
{
    size_t o = 0, i = 0;
    if (!cap)
        return 0;
    while (i < len && o + 1 < cap) {
        if (path[i] == '/') {
            out[o++] = '/';
            i++;
            continue;
        }
        size_t j = i;
        while (j < len && path[j] != '/')
            j++;
        if (looks_like_id(path + i, j - i)) {
            out[o++] = '*';
        } else {
            size_t n = j - i;
            if (n > cap - 1 - o)
                n = cap - 1 - o;
            memcpy(out + o, path + i, n);
            o += n;
        }
        i = j;
    }
    out[o] = 0;
    return o;
}

#define OTHER_PATHS "(other paths)"

/* The slot of `pattern` in a worker's table, claimed when new; the last slot is kept for
 * every pattern that no longer fits, so the table stays bounded whatever clients send. */
static eg_topn_slot *topn_slot(eg_topn_slot *t, const char *pattern, size_t n)
{
    uint64_t h = eg_hash_bytes(pattern, n);
    const size_t usable = EG_TOPN_SLOTS - 1;
    for (size_t k = 0; k < usable; k++) {
        eg_topn_slot *sl = &t[(h + k) % usable];
        char *p = atomic_load_explicit(&sl->path, memory_order_relaxed);
        if (!p) {
            eg_http_stat *st = malloc(sizeof *st);
            char *copy = malloc(n + 1);
            if (!st || !copy) {
                free(st);
                free(copy);
                return NULL;
            }
            eg_http_stat_init(st);
            memcpy(copy, pattern, n);
            copy[n] = 0;
            sl->hash = h;
            sl->stat = st;
            atomic_store_explicit(&sl->path, copy, memory_order_release);
            return sl;
        }
        if (sl->hash == h && !strcmp(p, pattern))
            return sl;
    }
    eg_topn_slot *other = &t[usable];
    if (!atomic_load_explicit(&other->path, memory_order_relaxed)) {
        eg_http_stat *st = malloc(sizeof *st);
        char *copy = strdup(OTHER_PATHS);
        if (!st || !copy) {
            free(st);
            free(copy);
            return NULL;
        }
        eg_http_stat_init(st);
        other->stat = st;
        atomic_store_explicit(&other->path, copy, memory_order_release);
    }
    return other;
}

static eg_stat_shard *shard_new(bool topn)
{
    eg_stat_shard *sh = aligned_alloc(64, (sizeof *sh + 63) & ~(size_t)63);
    if (!sh)
        return NULL;
    eg_http_stat_init(&sh->total);
    sh->paths = topn ? calloc(EG_TOPN_SLOTS, sizeof *sh->paths) : NULL;
    if (topn && !sh->paths) {
        free(sh);
        return NULL;
    }
    return sh;
}

/* A worker's shard as a reader on another thread may see it (NULL: no request yet). */
static const eg_stat_shard *shard_of(const eg_stat_set *s, int w)
{
    return atomic_load_explicit((_Atomic(eg_stat_shard *) *)&s->shards[w], memory_order_acquire);
}

void eg_stat_record(eg_stat_set *s, int worker, const eg_stat_sample *sm, const char *path,
                    size_t path_len)
{
    if (!s || worker < 0 || worker >= s->nworkers)
        return;
    eg_stat_shard *sh = atomic_load_explicit(&s->shards[worker], memory_order_relaxed);
    if (!sh) {
        sh = shard_new(s->topn);
        if (!sh)
            return;
        atomic_store_explicit(&s->shards[worker], sh, memory_order_release);
    }
    eg_http_stat_record(&sh->total, sm);
    if (sh->paths && path) {
        char pattern[256];
        size_t n = eg_stats_path_pattern(path, path_len, pattern, sizeof pattern);
        eg_topn_slot *sl = topn_slot(sh->paths, pattern, n);
        if (sl)
            eg_http_stat_record(sl->stat, sm);
    }
}

/* ---- sets and the registry ---- */

typedef struct {
    uint64_t last_count, last_errors;
    eg_ewma rate, err_rate;
} path_rates;

static eg_stat_set *set_new(const char *name, const eg_stat_labels *labels, int nworkers, bool topn)
{
    eg_stat_set *s = calloc(1, sizeof *s + (size_t)nworkers * sizeof s->shards[0]);
    if (!s)
        return NULL;
    atomic_init(&s->refs, 1);
    s->name = strdup(name);
    s->family = labels->family;
    for (size_t i = 0; i < EG_STAT_MAX_LABELS && labels->keys[i]; i++) {
        s->label_keys[i] = labels->keys[i];
        s->label_values[i] = strdup(labels->values[i]);
    }
    s->nworkers = nworkers;
    s->topn = topn;
    eg_strmap_init(&s->path_rates);
    return s;
}

static void set_free(eg_stat_set *s)
{
    for (int i = 0; i < s->nworkers; i++) {
        eg_stat_shard *sh = atomic_load(&s->shards[i]);
        if (!sh)
            continue;
        for (size_t k = 0; sh->paths && k < EG_TOPN_SLOTS; k++) {
            free(atomic_load(&sh->paths[k].path));
            free(sh->paths[k].stat);
        }
        free(sh->paths);
        free(sh);
    }
    const eg_strmap_slot *sl;
    for (size_t i = 0; eg_strmap_next(&s->path_rates, &i, &sl);)
        free(sl->value);
    eg_strmap_free(&s->path_rates);
    for (size_t i = 0; i < EG_STAT_MAX_LABELS; i++)
        free(s->label_values[i]);
    free(s->name);
    free(s);
}

void eg_stat_set_ref(eg_stat_set *s)
{
    atomic_fetch_add(&s->refs, 1);
}

void eg_stat_set_unref(eg_stat_set *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        set_free(s);
}

void eg_stats_registry_init(eg_stats_registry *r, int nworkers)
{
    eg_strmap_init(&r->sets);
    r->nworkers = nworkers;
}

void eg_stats_registry_free(eg_stats_registry *r)
{
    const eg_strmap_slot *sl;
    for (size_t i = 0; eg_strmap_next(&r->sets, &i, &sl);)
        eg_stat_set_unref(sl->value);
    eg_strmap_free(&r->sets);
}

eg_stat_set *eg_stats_find(eg_stats_registry *r, const char *name)
{
    return eg_strmap_get(&r->sets, name, strlen(name));
}

eg_stat_set *eg_stats_acquire(eg_stats_registry *r, const char *name, const eg_stat_labels *labels, bool topn)
{
    eg_stat_set *s = eg_stats_find(r, name);
    if (!s) {
        s = set_new(name, labels, r->nworkers, topn);
        if (!s)
            return NULL;
        eg_strmap_put(&r->sets, name, strlen(name), s);
    }
    eg_stat_set_ref(s);
    return s;
}

/* go-metrics' EWMA: alpha = 1 - exp(-interval / window); the first tick takes the rate as
 * it is. */
static void ewma_tick(eg_ewma *e, double rate)
{
    const double interval = EG_STATS_TICK_MS / 1000.0;
    double a1 = 1 - exp(-interval / 60.0), a5 = 1 - exp(-interval / 300.0),
           a15 = 1 - exp(-interval / 900.0);
    if (!e->started) {
        e->m1 = e->m5 = e->m15 = rate;
        e->started = true;
        return;
    }
    e->m1 += a1 * (rate - e->m1);
    e->m5 += a5 * (rate - e->m5);
    e->m15 += a15 * (rate - e->m15);
}

static void meter_tick(uint64_t count, uint64_t errors, uint64_t *last_count, uint64_t *last_errors,
                       eg_ewma *rate, eg_ewma *err_rate)
{
    const double interval = EG_STATS_TICK_MS / 1000.0;
    ewma_tick(rate, (double)(count - *last_count) / interval);
    ewma_tick(err_rate, (double)(errors - *last_errors) / interval);
    *last_count = count;
    *last_errors = errors;
}

/* Every path pattern of every worker, with that worker's figures for it. */
static void each_path_slot(eg_stat_set *s, void (*fn)(void *ud, const char *path, const eg_http_stat *st), void *ud)
{
    for (int w = 0; w < s->nworkers; w++) {
        const eg_stat_shard *sh = shard_of(s, w);
        eg_topn_slot *t = sh ? sh->paths : NULL;
        for (size_t k = 0; t && k < EG_TOPN_SLOTS; k++) {
            const char *p = atomic_load_explicit(&t[k].path, memory_order_acquire);
            if (p)
                fn(ud, p, t[k].stat);
        }
    }
}

typedef struct {
    uint64_t count, errors;
} counts;

static void add_path_counts(void *ud, const char *path, const eg_http_stat *st)
{
    eg_strmap *sums = ud;
    counts *c = eg_strmap_get(sums, path, strlen(path));
    if (!c) {
        c = calloc(1, sizeof *c);
        eg_strmap_put(sums, path, strlen(path), c);
    }
    c->count += rd(&st->count);
    c->errors += rd(&st->errors);
}

static void tick_path(eg_stat_set *s, const char *key, size_t len, counts *c)
{
    path_rates *pr = eg_strmap_get(&s->path_rates, key, len);
    if (!pr) {
        pr = calloc(1, sizeof *pr);
        eg_strmap_put(&s->path_rates, key, len, pr);
    }
    meter_tick(c->count, c->errors, &pr->last_count, &pr->last_errors, &pr->rate, &pr->err_rate);
    free(c);
}

static void tick_set(eg_stat_set *s)
{
    uint64_t count = 0, errors = 0;
    for (int w = 0; w < s->nworkers; w++) {
        const eg_stat_shard *sh = shard_of(s, w);
        if (!sh)
            continue;
        count += rd(&sh->total.count);
        errors += rd(&sh->total.errors);
    }
    meter_tick(count, errors, &s->last_count, &s->last_errors, &s->rate, &s->err_rate);
    if (s->topn) {
        eg_strmap sums;
        eg_strmap_init(&sums);
        each_path_slot(s, add_path_counts, &sums);
        const eg_strmap_slot *sl;
        for (size_t i = 0; eg_strmap_next(&sums, &i, &sl);)
            tick_path(s, sl->key, sl->key_len, sl->value);
        eg_strmap_free(&sums);
    }
}

void eg_stats_tick(eg_stats_registry *r)
{
    eg_stat_set **dead = NULL;
    size_t ndead = 0, cap = 0;
    const eg_strmap_slot *sl;
    for (size_t i = 0; eg_strmap_next(&r->sets, &i, &sl);) {
        eg_stat_set *s = sl->value;
        if (atomic_load(&s->refs) == 1) {   /* only the registry holds it: its object is gone */
            if (ndead == cap) {
                cap = cap ? cap * 2 : 8;
                dead = realloc(dead, cap * sizeof *dead);
            }
            dead[ndead++] = s;
            continue;
        }
        tick_set(s);
    }
    for (size_t i = 0; i < ndead; i++) {
        eg_strmap_del(&r->sets, dead[i]->name, strlen(dead[i]->name));
        eg_stat_set_unref(dead[i]);
    }
    free(dead);
}

/* ---- reading ---- */

eg_http_stat *eg_stat_set_total(eg_stat_set *s)
{
    eg_http_stat *t = malloc(sizeof *t);
    if (!t)
        return NULL;
    memset(t, 0, sizeof *t);
    t->latency.min = UINT64_MAX;
    for (int w = 0; w < s->nworkers; w++)
        if (shard_of(s, w))
            eg_http_stat_merge(t, &shard_of(s, w)->total);
    return t;
}

static eg_node *ms(uint64_t us)
{
    return eg_node_new_float((double)us / 1000.0);
}

static double percent(double part, double whole)
{
    return whole > 0 ? part * 100.0 / whole : 0;
}

/* Easegress's httpstat.Status fields, in its order. */
static void put_stat(eg_node *into, const eg_http_stat *t, const eg_ewma *rate, const eg_ewma *err_rate)
{
    eg_node_map_set(into, "count", eg_node_new_int((int64_t)t->count));
    eg_node_map_set(into, "m1", eg_node_new_float(rate->m1));
    eg_node_map_set(into, "m5", eg_node_new_float(rate->m5));
    eg_node_map_set(into, "m15", eg_node_new_float(rate->m15));
    eg_node_map_set(into, "errCount", eg_node_new_int((int64_t)t->errors));
    eg_node_map_set(into, "m1Err", eg_node_new_float(err_rate->m1));
    eg_node_map_set(into, "m5Err", eg_node_new_float(err_rate->m5));
    eg_node_map_set(into, "m15Err", eg_node_new_float(err_rate->m15));
    eg_node_map_set(into, "m1ErrPercent", eg_node_new_float(percent(err_rate->m1, rate->m1)));
    eg_node_map_set(into, "m5ErrPercent", eg_node_new_float(percent(err_rate->m5, rate->m5)));
    eg_node_map_set(into, "m15ErrPercent", eg_node_new_float(percent(err_rate->m15, rate->m15)));
    const eg_hist *h = &t->latency;
    bool empty = h->count == 0;
    eg_node_map_set(into, "min", ms(empty ? 0 : h->min));
    eg_node_map_set(into, "max", ms(h->max));
    eg_node_map_set(into, "mean", ms(empty ? 0 : h->sum / h->count));
    static const struct { const char *name; double q; } qs[] = {
        { "p25", 0.25 }, { "p50", 0.5 }, { "p75", 0.75 }, { "p95", 0.95 },
        { "p98", 0.98 }, { "p99", 0.99 }, { "p999", 0.999 },
    };
    for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
        eg_node_map_set(into, qs[i].name, ms(eg_hist_quantile(h, qs[i].q)));
    eg_node_map_set(into, "reqSize", eg_node_new_int((int64_t)t->req_bytes));
    eg_node_map_set(into, "respSize", eg_node_new_int((int64_t)t->resp_bytes));
    eg_node *codes = eg_node_new(EG_NODE_MAP);
    for (int c = 0; c < EG_STAT_CODES; c++)
        if (t->codes[c]) {
            char k[8];
            snprintf(k, sizeof k, "%d", c);
            eg_node_map_set(codes, k, eg_node_new_int((int64_t)t->codes[c]));
        }
    eg_node_map_set(into, "codes", codes);
}

typedef struct {
    char *path;
    eg_http_stat stat;
} path_total;

static void add_path_total(void *ud, const char *path, const eg_http_stat *st)
{
    eg_strmap *by_path = ud;
    path_total *pt = eg_strmap_get(by_path, path, strlen(path));
    if (!pt) {
        pt = calloc(1, sizeof *pt);
        pt->path = strdup(path);
        pt->stat.latency.min = UINT64_MAX;
        eg_strmap_put(by_path, path, strlen(path), pt);
    }
    eg_http_stat_merge(&pt->stat, st);
}

typedef struct {
    path_total **v;
    size_t n, cap;
} path_list;

static int by_count_desc(const void *a, const void *b)
{
    const path_total *x = *(path_total *const *)a, *y = *(path_total *const *)b;
    if (x->stat.count != y->stat.count)
        return x->stat.count < y->stat.count ? 1 : -1;
    return strcmp(x->path, y->path);
}

#define TOPN 10

static eg_node *topn_node(eg_stat_set *s)
{
    eg_strmap by_path;
    eg_strmap_init(&by_path);
    each_path_slot(s, add_path_total, &by_path);
    path_list l = { 0 };
    const eg_strmap_slot *sl;
    for (size_t i = 0; eg_strmap_next(&by_path, &i, &sl);) {
        if (l.n == l.cap) {
            l.cap = l.cap ? l.cap * 2 : 16;
            l.v = realloc(l.v, l.cap * sizeof *l.v);
        }
        l.v[l.n++] = sl->value;
    }
    if (l.n)
        qsort(l.v, l.n, sizeof *l.v, by_count_desc);
    eg_node *list = eg_node_new(EG_NODE_SEQ);
    static const eg_ewma none;
    for (size_t i = 0; i < l.n; i++) {
        path_total *pt = l.v[i];
        if (i < TOPN) {
            eg_node *e = eg_node_new(EG_NODE_MAP);
            eg_node_map_set(e, "path", eg_node_new_str(pt->path));
            const path_rates *pr = eg_strmap_get(&s->path_rates, pt->path, strlen(pt->path));
            put_stat(e, &pt->stat, pr ? &pr->rate : &none, pr ? &pr->err_rate : &none);
            eg_node_seq_push(list, e);
        }
        free(pt->path);
        free(pt);
    }
    free(l.v);
    eg_strmap_free(&by_path);
    return list;
}

void eg_stat_set_status(eg_stat_set *s, eg_node *into)
{
    eg_http_stat *t = eg_stat_set_total(s);
    if (!t)
        return;
    put_stat(into, t, &s->rate, &s->err_rate);
    free(t);
    if (s->topn)
        eg_node_map_set(into, "topN", topn_node(s));
}
