/* stats.h — request statistics: per-worker shards written without locks or atomic
 * read-modify-write on the request path, merged when someone reads them.
 *
 * Each shard has exactly one writer (its worker thread); readers on the main thread see
 * every counter through relaxed atomic loads, so a read may be a few requests behind but
 * never torn. A stat set is named ("HTTPServer/web", "Pipeline/p/proxy/pool/0/server/...")
 * and lives in a registry owned by the supervisor; object versions hold references to it,
 * so figures survive updates of the object and vanish some time after it is deleted.
 *
 * Latencies go into a log-linear histogram (HDR-style: 32 sub-buckets per power of two,
 * values in microseconds; a bucket is at most ~3% wide), so percentiles are exact to the
 * bucket for any number of requests and cost one increment each. */
#ifndef EG_STATS_H
#define EG_STATS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include "node.h"
#include "strmap.h"

#define EG_HIST_SUB_BITS 5
#define EG_HIST_BUCKETS 1024   /* values up to 2^36 us (about 19 hours) */

typedef struct {
    uint64_t count, sum, min, max;   /* min is UINT64_MAX while empty */
    uint64_t buckets[EG_HIST_BUCKETS];
} eg_hist;

void eg_hist_init(eg_hist *h);
void eg_hist_record(eg_hist *h, uint64_t v);           /* single writer */
void eg_hist_merge(eg_hist *into, const eg_hist *from); /* reads `from` atomically */
/* The value at quantile q (0..1): the middle of the bucket holding it, clamped to the
 * recorded min and max. 0 for an empty histogram. */
uint64_t eg_hist_quantile(const eg_hist *h, double q);
/* Bucket index of v and the smallest value of a bucket (for tests and exporters). */
size_t eg_hist_bucket(uint64_t v);
uint64_t eg_hist_bucket_low(size_t b);

/* What one request adds. */
typedef struct {
    int status;
    uint64_t duration_us;
    uint64_t req_bytes, resp_bytes;
} eg_stat_sample;

#define EG_STAT_CODES 600
typedef struct {
    uint64_t count, errors, req_bytes, resp_bytes;
    uint64_t codes[EG_STAT_CODES];   /* by status code; codes outside 100..599 at [0] */
    eg_hist latency;
} eg_http_stat;

void eg_http_stat_init(eg_http_stat *s);
void eg_http_stat_record(eg_http_stat *s, const eg_stat_sample *sm);   /* single writer */
void eg_http_stat_merge(eg_http_stat *into, const eg_http_stat *from);

/* Per-worker table of path patterns for a server's top-N list. Slots are claimed by their
 * worker and published with a release store; readers walk them with acquire loads. */
#define EG_TOPN_SLOTS 128
typedef struct {
    _Atomic(char *) path;            /* set once; NULL = free */
    uint64_t hash;
    eg_http_stat *stat;
} eg_topn_slot;

typedef struct {
    _Alignas(64) eg_http_stat total;
    eg_topn_slot *paths;             /* EG_TOPN_SLOTS, NULL when the set has no top-N */
} eg_stat_shard;

/* Exponentially weighted moving rates, as go-metrics' Meter (5-second ticks). */
typedef struct {
    double m1, m5, m15;
    bool started;
} eg_ewma;

/* What exporters label a set with: its family ("httpserver", "pipeline", "proxy") and up
 * to four label pairs naming it. */
#define EG_STAT_MAX_LABELS 4
typedef struct {
    const char *family;
    const char *keys[EG_STAT_MAX_LABELS];
    const char *values[EG_STAT_MAX_LABELS];
} eg_stat_labels;

typedef struct eg_stat_set {
    atomic_int refs;
    char *name;
    const char *family;              /* static */
    const char *label_keys[EG_STAT_MAX_LABELS];   /* static; NULL after the last */
    char *label_values[EG_STAT_MAX_LABELS];
    int nworkers;
    bool topn;
    /* Main thread only: */
    uint64_t last_count, last_errors;
    eg_ewma rate, err_rate;
    eg_strmap path_rates;            /* path -> eg_path_rates* (top-N entries' meters) */
    /* Made by their worker on its first request: a set nobody uses costs a pointer per
     * worker (configurations with thousands of idle pipelines). */
    _Atomic(eg_stat_shard *) shards[];
} eg_stat_set;

typedef struct eg_stats_registry {
    eg_strmap sets;                  /* name -> eg_stat_set* (one reference each) */
    int nworkers;
} eg_stats_registry;

void eg_stats_registry_init(eg_stats_registry *r, int nworkers);
void eg_stats_registry_free(eg_stats_registry *r);
/* The set of that name, made on first use with those labels; the caller owns one
 * reference. */
eg_stat_set *eg_stats_acquire(eg_stats_registry *r, const char *name, const eg_stat_labels *labels, bool topn);
void eg_stat_set_ref(eg_stat_set *s);
void eg_stat_set_unref(eg_stat_set *s);   /* any thread */
eg_stat_set *eg_stats_find(eg_stats_registry *r, const char *name);
/* Every 5 seconds on the main thread: advance the meters, forget unreferenced sets. */
#define EG_STATS_TICK_MS 5000
void eg_stats_tick(eg_stats_registry *r);

/* The request path (worker `w`). `path` may be NULL (no top-N entry). */
void eg_stat_record(eg_stat_set *s, int worker, const eg_stat_sample *sm, const char *path,
                    size_t path_len);

/* The merged figures in Easegress's status format (count, m1.., errCount, min, p99 (ms),
 * reqSize, codes{}, and topN[] for servers) added to `into`. */
void eg_stat_set_status(eg_stat_set *s, eg_node *into);
/* All shards summed (caller frees with free()). */
eg_http_stat *eg_stat_set_total(eg_stat_set *s);

/* Path clustering for top-N: segments that look like identifiers (containing a digit, or
 * longer than 32 characters) become "*". Writes at most cap-1 characters to out. */
size_t eg_stats_path_pattern(const char *path, size_t len, char *out, size_t cap);

#endif
