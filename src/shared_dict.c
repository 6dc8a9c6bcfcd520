/* shared_dict.c — the store behind eg.shared: sharded, locked per shard, LRU-bounded.
 *
 * Work under a shard's lock is kept short: a new entry is allocated before the lock is
 * taken, and entries that leave the table (replaced, deleted, evicted, expired) are freed
 * after it is released. Only incr's create-on-miss allocates under the lock, since it must
 * decide and create atomically. */
#include "shared_dict.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include "log.h"

/* A shard holds at least this many entries before a dictionary gets more shards: small
 * dictionaries keep one exact LRU order, big ones spread their locks. */
#define MIN_PER_SHARD 64
#define MAX_SHARDS 16
/* How far from the LRU tail a full shard looks for an expired entry to drop first. */
#define EXPIRED_SCAN 8
#define MAX_DICTS 64

typedef struct lru_node {
    struct lru_node *prev, *next;
} lru_node;

typedef struct entry {
    lru_node lru;            /* first, so a node converts to its entry */
    struct entry *next;      /* bucket chain; the garbage list once unlinked */
    uint64_t hash;
    uint64_t expires;        /* CLOCK_MONOTONIC ns; 0 = never */
    double number;
    size_t vlen;             /* STRING: value bytes after the key */
    uint32_t klen;
    uint8_t type;            /* eg_sv_type */
    bool boolean;
    char data[];             /* key, then a string value */
} entry;

typedef struct {
    _Alignas(64) pthread_mutex_t lock;  /* one shard per cache line start: no false sharing */
    entry **buckets;
    size_t nbuckets;         /* power of two; grows with count up to max_buckets */
    size_t max_buckets;
    lru_node lru;            /* lru.next: most recent; lru.prev: least recent */
    size_t count, capacity;
} shard;

struct eg_shared_dict {
    char name[EG_SHARED_DICT_MAX_NAME + 1];
    size_t capacity;
    unsigned nshards;        /* power of two */
    shard *shards;
};

static eg_shared_dict *dicts;
static size_t ndicts;
static uint64_t hash_seed;

/* ---- helpers ---- */

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Seeded FNV-1a with a final mix: keys may come from clients, so the seed is random per
 * process (chains cannot be steered), and the mix spreads the bits shards and buckets use. */
static uint64_t hash_key(const char *key, size_t len)
{
    uint64_t h = 0xcbf29ce484222325u ^ hash_seed;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)key[i];
        h *= 0x100000001b3u;
    }
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdu;
    h ^= h >> 33;
    return h;
}

static uint64_t deadline(double ttl, uint64_t now)
{
    if (!(ttl > 0))
        return 0;
    if (ttl > EG_SHARED_DICT_MAX_TTL)
        ttl = EG_SHARED_DICT_MAX_TTL;
    uint64_t ns = (uint64_t)(ttl * 1e9);
    return now + (ns ? ns : 1);
}

static bool expired(const entry *e, uint64_t now) { return e->expires && e->expires <= now; }

static shard *shard_of(eg_shared_dict *d, uint64_t h)
{
    /* The top bits pick the shard, the low bits the bucket. */
    return &d->shards[(h >> 48) & (d->nshards - 1)];
}

static entry *entry_new(uint64_t h, const char *key, size_t klen, const eg_shared_value *v, uint64_t expires)
{
    size_t vlen = v->type == EG_SV_STRING ? v->len : 0;
    if (vlen > SIZE_MAX - sizeof(entry) - klen)
        return NULL;
    entry *e = malloc(sizeof *e + klen + vlen);
    if (!e)
        return NULL;
    e->lru.prev = e->lru.next = NULL;
    e->next = NULL;
    e->hash = h;
    e->expires = expires;
    e->number = v->type == EG_SV_NUMBER ? v->number : 0;
    e->boolean = v->type == EG_SV_BOOLEAN && v->boolean;
    e->vlen = vlen;
    e->klen = (uint32_t)klen;
    e->type = (uint8_t)v->type;
    memcpy(e->data, key, klen);
    if (vlen)
        memcpy(e->data + klen, v->str, vlen);
    return e;
}

static void free_list(entry *e)
{
    while (e) {
        entry *next = e->next;
        free(e);
        e = next;
    }
}

/* ---- one shard (its lock held) ---- */

static void lru_unlink(entry *e)
{
    e->lru.prev->next = e->lru.next;
    e->lru.next->prev = e->lru.prev;
}

static void lru_push_front(shard *s, entry *e)
{
    e->lru.prev = &s->lru;
    e->lru.next = s->lru.next;
    s->lru.next->prev = &e->lru;
    s->lru.next = &e->lru;
}

static void touch(shard *s, entry *e)
{
    if (s->lru.next != &e->lru) {
        lru_unlink(e);
        lru_push_front(s, e);
    }
}

/* The link that points at the entry for key (or at NULL, where it would go). */
static entry **find_link(shard *s, uint64_t h, const char *key, size_t klen)
{
    entry **link = &s->buckets[h & (s->nbuckets - 1)];
    for (; *link; link = &(*link)->next) {
        entry *e = *link;
        if (e->hash == h && e->klen == klen && memcmp(e->data, key, klen) == 0)
            break;
    }
    return link;
}

/* Take the entry at *link out of the table onto the garbage list. */
static void unlink_at(shard *s, entry **link, entry **garbage)
{
    entry *e = *link;
    *link = e->next;
    lru_unlink(e);
    s->count--;
    e->next = *garbage;
    *garbage = e;
}

static void unlink_entry(shard *s, entry *e, entry **garbage)
{
    unlink_at(s, find_link(s, e->hash, e->data, e->klen), garbage);
}

/* The live entry for key, or NULL (an expired one is dropped on the way). */
static entry *find_live(shard *s, uint64_t h, const char *key, size_t klen, uint64_t now, entry ***linkp, entry **garbage)
{
    entry **link = find_link(s, h, key, klen);
    entry *e = *link;
    if (e && expired(e, now)) {
        unlink_at(s, link, garbage);
        e = NULL;   /* *link is now the next entry of the chain */
    }
    if (linkp)
        *linkp = link;
    return e;
}

/* Double the buckets while the table is denser than one entry per bucket. A failed
 * allocation only leaves chains longer. */
static void maybe_grow(shard *s)
{
    if (s->count <= s->nbuckets || s->nbuckets >= s->max_buckets)
        return;
    size_t n = s->nbuckets * 2;
    entry **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < s->nbuckets; i++) {
        for (entry *e = s->buckets[i], *next; e; e = next) {
            next = e->next;
            entry **head = &b[e->hash & (n - 1)];
            e->next = *head;
            *head = e;
        }
    }
    free(s->buckets);
    s->buckets = b;
    s->nbuckets = n;
}

static void evict_to_capacity(shard *s, uint64_t now, entry **garbage)
{
    while (s->count > s->capacity) {
        lru_node *victim = s->lru.prev;
        lru_node *n = s->lru.prev;
        for (int i = 0; i < EXPIRED_SCAN && n != &s->lru; i++, n = n->prev) {
            if (expired((entry *)n, now)) {
                victim = n;
                break;
            }
        }
        unlink_entry(s, (entry *)victim, garbage);
    }
}

/* Add a new entry (no live entry for its key is in the table). */
static void insert(shard *s, entry *e, entry **link, uint64_t now, entry **garbage)
{
    e->next = *link;
    *link = e;
    lru_push_front(s, e);
    s->count++;
    evict_to_capacity(s, now, garbage);
    maybe_grow(s);
}

static bool check_key(size_t klen) { return klen > 0 && klen <= EG_SHARED_DICT_MAX_KEY; }

/* ---- registry ---- */

static bool valid_name(const char *name, size_t len)
{
    if (len == 0 || len > EG_SHARED_DICT_MAX_NAME)
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

bool eg_shared_dict_parse_spec(const char *spec, char *name, size_t namecap, size_t *capacity, char *err, size_t errlen)
{
    const char *eq = strchr(spec, '=');
    if (!eq || !valid_name(spec, (size_t)(eq - spec))) {
        snprintf(err, errlen, "--shared-dict %s: expected NAME=CAPACITY, NAME of letters, digits, _ and - (at most %d)",
                 spec, EG_SHARED_DICT_MAX_NAME);
        return false;
    }
    const char *num = eq + 1;
    char *end;
    errno = 0;
    unsigned long long cap = (num[0] >= '0' && num[0] <= '9') ? strtoull(num, &end, 10) : 0;
    if (cap == 0 || errno || *end || cap > EG_SHARED_DICT_MAX_CAPACITY) {
        snprintf(err, errlen, "--shared-dict %s: CAPACITY must be a number of entries, 1..%d", spec,
                 EG_SHARED_DICT_MAX_CAPACITY);
        return false;
    }
    snprintf(name, namecap, "%.*s", (int)(eq - spec), spec);
    *capacity = (size_t)cap;
    return true;
}

static void dict_destroy(eg_shared_dict *d)
{
    if (!d->shards)
        return;
    for (unsigned i = 0; i < d->nshards; i++) {
        shard *s = &d->shards[i];
        for (lru_node *n = s->lru.next; n != &s->lru;) {
            lru_node *next = n->next;
            free(n);
            n = next;
        }
        free(s->buckets);
        pthread_mutex_destroy(&s->lock);
    }
    free(d->shards);
    d->shards = NULL;
}

static size_t pow2_at_least(size_t n)
{
    size_t p = 1;
    while (p < n)
        p *= 2;
    return p;
}

static bool dict_create(eg_shared_dict *d, const char *name, size_t capacity)
{
    memset(d, 0, sizeof *d);
    snprintf(d->name, sizeof d->name, "%s", name);
    d->capacity = capacity;
    d->nshards = 1;
    while (d->nshards < MAX_SHARDS && capacity / (d->nshards * 2) >= MIN_PER_SHARD)
        d->nshards *= 2;
    d->shards = aligned_alloc(_Alignof(shard), d->nshards * sizeof(shard));
    if (!d->shards)
        return false;
    memset(d->shards, 0, d->nshards * sizeof(shard));
    for (unsigned i = 0; i < d->nshards; i++) {
        shard *s = &d->shards[i];
        /* The remainder goes to the first shards: the capacities add up exactly. */
        s->capacity = capacity / d->nshards + (i < capacity % d->nshards);
        s->max_buckets = pow2_at_least(s->capacity);
        s->nbuckets = s->max_buckets < 16 ? s->max_buckets : 16;
        s->lru.prev = s->lru.next = &s->lru;
        pthread_mutex_init(&s->lock, NULL);
        s->buckets = calloc(s->nbuckets, sizeof *s->buckets);
        if (!s->buckets) {
            d->nshards = i + 1;
            dict_destroy(d);
            return false;
        }
    }
    return true;
}

void eg_shared_dicts_free(void)
{
    for (size_t i = 0; i < ndicts; i++)
        dict_destroy(&dicts[i]);
    free(dicts);
    dicts = NULL;
    ndicts = 0;
}

static void free_at_exit(void) { eg_shared_dicts_free(); }

int eg_shared_dicts_init(const char *const *specs, int n, char *err, size_t errlen)
{
    static bool at_exit;
    eg_shared_dicts_free();
    if (!at_exit) {
        /* Workers are joined before the process exits, so nothing uses a dictionary by then. */
        atexit(free_at_exit);
        at_exit = true;
    }
    if (getrandom(&hash_seed, sizeof hash_seed, GRND_NONBLOCK) != sizeof hash_seed)
        hash_seed = now_ns() ^ (uint64_t)(uintptr_t)&hash_seed;
    if (n < 0 || n > MAX_DICTS - 1) {
        snprintf(err, errlen, "at most %d shared dictionaries", MAX_DICTS - 1);
        return -1;
    }
    char names[MAX_DICTS][EG_SHARED_DICT_MAX_NAME + 1];
    size_t caps[MAX_DICTS];
    size_t count = 1;
    snprintf(names[0], sizeof names[0], "%s", EG_SHARED_DICT_DEFAULT);
    caps[0] = EG_SHARED_DICT_DEFAULT_CAPACITY;
    bool default_given = false;
    for (int i = 0; i < n; i++) {
        char name[EG_SHARED_DICT_MAX_NAME + 1];
        size_t cap;
        if (!eg_shared_dict_parse_spec(specs[i], name, sizeof name, &cap, err, errlen))
            return -1;
        size_t at = count;
        for (size_t j = 0; j < count; j++) {
            if (strcmp(names[j], name) != 0)
                continue;
            if (j != 0 || default_given) {
                snprintf(err, errlen, "--shared-dict %s: dictionary %s declared twice", specs[i], name);
                return -1;
            }
            /* `default` may be resized, once. */
            default_given = true;
            at = j;
        }
        memcpy(names[at], name, sizeof name);
        caps[at] = cap;
        if (at == count)
            count++;
    }
    dicts = calloc(count, sizeof *dicts);
    if (!dicts) {
        snprintf(err, errlen, "no memory for shared dictionaries");
        return -1;
    }
    for (size_t i = 0; i < count; i++) {
        if (!dict_create(&dicts[i], names[i], caps[i])) {
            ndicts = i;
            eg_shared_dicts_free();
            snprintf(err, errlen, "no memory for shared dictionary %s", names[i]);
            return -1;
        }
    }
    ndicts = count;
    return 0;
}

int eg_shared_dicts_start(const char *const *specs, int n)
{
    char err[512];
    if (eg_shared_dicts_init(specs, n, err, sizeof err) == 0)
        return 0;
    eg_error("%s", err);
    return -1;
}

eg_shared_dict *eg_shared_dict_find(const char *name, size_t len)
{
    for (size_t i = 0; i < ndicts; i++) {
        if (strlen(dicts[i].name) == len && memcmp(dicts[i].name, name, len) == 0)
            return &dicts[i];
    }
    return NULL;
}

const char *eg_shared_dict_name(const eg_shared_dict *d) { return d->name; }

size_t eg_shared_dict_capacity(const eg_shared_dict *d) { return d->capacity; }

/* ---- operations ---- */

/* Drop every expired entry of a shard. */
static void reclaim_expired(shard *s, uint64_t now, entry **garbage)
{
    for (lru_node *n = s->lru.next; n != &s->lru;) {
        lru_node *next = n->next;
        if (expired((entry *)n, now))
            unlink_entry(s, (entry *)n, garbage);
        n = next;
    }
}

size_t eg_shared_dict_count(eg_shared_dict *d)
{
    uint64_t now = now_ns();
    size_t total = 0;
    for (unsigned i = 0; i < d->nshards; i++) {
        shard *s = &d->shards[i];
        entry *garbage = NULL;
        pthread_mutex_lock(&s->lock);
        reclaim_expired(s, now, &garbage);
        total += s->count;
        pthread_mutex_unlock(&s->lock);
        free_list(garbage);
    }
    return total;
}

eg_sd_status eg_shared_dict_get(eg_shared_dict *d, const char *key, size_t klen, eg_shared_value *out, char *buf, size_t cap)
{
    memset(out, 0, sizeof *out);
    if (!check_key(klen))
        return EG_SD_NOT_FOUND;
    uint64_t h = hash_key(key, klen), now = now_ns();
    shard *s = shard_of(d, h);
    entry *garbage = NULL;
    eg_sd_status st = EG_SD_NOT_FOUND;
    pthread_mutex_lock(&s->lock);
    entry *e = find_live(s, h, key, klen, now, NULL, &garbage);
    if (e) {
        touch(s, e);
        out->type = e->type;
        out->number = e->number;
        out->boolean = e->boolean;
        out->len = e->vlen;
        if (e->type == EG_SV_STRING) {
            out->str = buf;
            if (e->vlen <= cap && e->vlen)
                memcpy(buf, e->data + e->klen, e->vlen);
        }
        st = EG_SD_OK;
    }
    pthread_mutex_unlock(&s->lock);
    free_list(garbage);
    return st;
}

static eg_sd_status store(eg_shared_dict *d, const char *key, size_t klen, const eg_shared_value *v, double ttl, bool only_new)
{
    if (!check_key(klen))
        return EG_SD_NOT_FOUND;
    if (!v || v->type == EG_SV_NONE) {
        if (!only_new)
            eg_shared_dict_delete(d, key, klen);
        return EG_SD_OK;
    }
    uint64_t h = hash_key(key, klen), now = now_ns();
    entry *e = entry_new(h, key, klen, v, deadline(ttl, now));
    if (!e)
        return EG_SD_NO_MEMORY;
    shard *s = shard_of(d, h);
    entry *garbage = NULL, **link;
    eg_sd_status st = EG_SD_OK;
    pthread_mutex_lock(&s->lock);
    if (find_live(s, h, key, klen, now, &link, &garbage)) {
        if (only_new) {
            st = EG_SD_EXISTS;
            e->next = garbage;
            garbage = e;
            e = NULL;
        } else {
            unlink_at(s, link, &garbage);
            link = find_link(s, h, key, klen);
        }
    }
    if (e)
        insert(s, e, link, now, &garbage);
    pthread_mutex_unlock(&s->lock);
    free_list(garbage);
    return st;
}

eg_sd_status eg_shared_dict_set(eg_shared_dict *d, const char *key, size_t klen, const eg_shared_value *v, double ttl)
{
    return store(d, key, klen, v, ttl, false);
}

eg_sd_status eg_shared_dict_add(eg_shared_dict *d, const char *key, size_t klen, const eg_shared_value *v, double ttl)
{
    return store(d, key, klen, v, ttl, true);
}

eg_sd_status eg_shared_dict_incr(eg_shared_dict *d, const char *key, size_t klen, double delta, const double *init,
                                 double init_ttl, double *out)
{
    if (!check_key(klen))
        return EG_SD_NOT_FOUND;
    uint64_t h = hash_key(key, klen), now = now_ns();
    shard *s = shard_of(d, h);
    entry *garbage = NULL, **link;
    eg_sd_status st = EG_SD_OK;
    pthread_mutex_lock(&s->lock);
    entry *e = find_live(s, h, key, klen, now, &link, &garbage);
    if (e && e->type != EG_SV_NUMBER)
        st = EG_SD_NOT_NUMBER;
    else if (e) {
        e->number += delta;
        *out = e->number;
        touch(s, e);
    } else if (!init)
        st = EG_SD_NOT_FOUND;
    else {
        eg_shared_value v = { .type = EG_SV_NUMBER, .number = *init + delta };
        e = entry_new(h, key, klen, &v, deadline(init_ttl, now));
        if (e) {
            insert(s, e, link, now, &garbage);
            *out = v.number;
        } else
            st = EG_SD_NO_MEMORY;
    }
    pthread_mutex_unlock(&s->lock);
    free_list(garbage);
    return st;
}

bool eg_shared_dict_delete(eg_shared_dict *d, const char *key, size_t klen)
{
    if (!check_key(klen))
        return false;
    uint64_t h = hash_key(key, klen), now = now_ns();
    shard *s = shard_of(d, h);
    entry *garbage = NULL, **link;
    pthread_mutex_lock(&s->lock);
    bool found = find_live(s, h, key, klen, now, &link, &garbage) != NULL;
    if (found)
        unlink_at(s, link, &garbage);
    pthread_mutex_unlock(&s->lock);
    free_list(garbage);
    return found;
}

eg_sd_status eg_shared_dict_ttl(eg_shared_dict *d, const char *key, size_t klen, double *left)
{
    if (!check_key(klen))
        return EG_SD_NOT_FOUND;
    uint64_t h = hash_key(key, klen), now = now_ns();
    shard *s = shard_of(d, h);
    entry *garbage = NULL;
    eg_sd_status st = EG_SD_NOT_FOUND;
    pthread_mutex_lock(&s->lock);
    entry *e = find_live(s, h, key, klen, now, NULL, &garbage);
    if (e) {
        *left = e->expires ? (double)(e->expires - now) / 1e9 : 0;
        st = EG_SD_OK;
    }
    pthread_mutex_unlock(&s->lock);
    free_list(garbage);
    return st;
}

size_t eg_shared_dict_keys(eg_shared_dict *d, size_t max, eg_buf *out)
{
    uint64_t now = now_ns();
    size_t n = 0;
    for (unsigned i = 0; i < d->nshards && (max == 0 || n < max); i++) {
        shard *s = &d->shards[i];
        entry *garbage = NULL;
        pthread_mutex_lock(&s->lock);
        reclaim_expired(s, now, &garbage);
        for (lru_node *node = s->lru.next; node != &s->lru && (max == 0 || n < max); node = node->next) {
            entry *e = (entry *)node;
            size_t klen = e->klen;
            eg_buf_append(out, &klen, sizeof klen);
            eg_buf_append(out, e->data, klen);
            n++;
        }
        pthread_mutex_unlock(&s->lock);
        free_list(garbage);
    }
    return n;
}

void eg_shared_dict_flush_all(eg_shared_dict *d)
{
    for (unsigned i = 0; i < d->nshards; i++) {
        shard *s = &d->shards[i];
        entry *garbage = NULL;
        pthread_mutex_lock(&s->lock);
        while (s->lru.next != &s->lru)
            unlink_entry(s, (entry *)s->lru.next, &garbage);
        pthread_mutex_unlock(&s->lock);
        free_list(garbage);
    }
}
