/* shared_dict.h — named key/value dictionaries shared by all worker threads (eg.shared).
 *
 * The registry of dictionaries is created once, before any worker starts, and is read-only
 * afterwards, so finding a dictionary takes no lock. Each dictionary is split into shards by
 * key hash; a shard has its own mutex, hash table and LRU list, so workers touching
 * different keys rarely meet on one lock. Capacity counts entries: a full shard evicts its
 * least recently used entry (an expired one first, if it finds one near the tail). Expired
 * entries are invisible at once and reclaimed when touched, evicted or listed. */
#ifndef EG_SHARED_DICT_H
#define EG_SHARED_DICT_H

#include <stdbool.h>
#include <stddef.h>
#include "buf.h"

#define EG_SHARED_DICT_DEFAULT "default"
#define EG_SHARED_DICT_DEFAULT_CAPACITY 10000
#define EG_SHARED_DICT_MAX_CAPACITY 100000000
#define EG_SHARED_DICT_MAX_NAME 63
#define EG_SHARED_DICT_MAX_KEY 65535
/* Longest TTL accepted, in seconds (about 31 years): keeps deadlines inside 64-bit ns. */
#define EG_SHARED_DICT_MAX_TTL 1e9

typedef struct eg_shared_dict eg_shared_dict;

typedef enum {
    EG_SV_NONE = 0,     /* no value: set() deletes */
    EG_SV_STRING,
    EG_SV_NUMBER,
    EG_SV_BOOLEAN,
} eg_sv_type;

typedef struct {
    eg_sv_type type;
    double number;
    bool boolean;
    const char *str;    /* STRING: the bytes (set: input; get: the caller's buffer) */
    size_t len;         /* STRING: the full length, even when get()'s buffer was too small */
} eg_shared_value;

typedef enum {
    EG_SD_OK = 0,
    EG_SD_NOT_FOUND,
    EG_SD_EXISTS,
    EG_SD_NOT_NUMBER,
    EG_SD_NO_MEMORY,
} eg_sd_status;

/* "NAME=CAPACITY" as given to --shared-dict. Returns false with a message in err. */
bool eg_shared_dict_parse_spec(const char *spec, char *name, size_t namecap, size_t *capacity,
                               char *err, size_t errlen);

/* Create the registry: `default` (10000 entries, unless a spec names it) plus one
 * dictionary per spec. Call before any thread uses a dictionary; calling again replaces
 * the registry (single-threaded callers only). The registry is freed at exit. Returns -1
 * with a message in err on a bad spec, a duplicate name or no memory. */
int eg_shared_dicts_init(const char *const *specs, int n, char *err, size_t errlen);
/* The same, logging an error (for the server and the spec runner: one call each). */
int eg_shared_dicts_start(const char *const *specs, int n);
/* Free the registry now (no thread may use a dictionary any more). */
void eg_shared_dicts_free(void);
/* By name, or NULL. */
eg_shared_dict *eg_shared_dict_find(const char *name, size_t len);

const char *eg_shared_dict_name(const eg_shared_dict *d);
size_t eg_shared_dict_capacity(const eg_shared_dict *d);
/* Live entries (expired ones are reclaimed on the way). */
size_t eg_shared_dict_count(eg_shared_dict *d);

/* The value of a live key: NOT_FOUND, or OK with *out filled. A string value is copied into
 * buf when out->len <= cap; otherwise call again with a buffer of out->len bytes (the value
 * may have changed meanwhile, so check again). */
eg_sd_status eg_shared_dict_get(eg_shared_dict *d, const char *key, size_t klen,
                                eg_shared_value *out, char *buf, size_t cap);
/* Store (replacing any value); ttl in seconds, 0 = never expires. A value of type NONE
 * deletes the key. OK or NO_MEMORY. */
eg_sd_status eg_shared_dict_set(eg_shared_dict *d, const char *key, size_t klen,
                                const eg_shared_value *v, double ttl);
/* Store only if the key has no live value: OK, EXISTS or NO_MEMORY. */
eg_sd_status eg_shared_dict_add(eg_shared_dict *d, const char *key, size_t klen,
                                const eg_shared_value *v, double ttl);
/* Atomically add delta to a number. A missing key is created as init + delta (with
 * init_ttl) when init is given, else NOT_FOUND; a non-number value is NOT_NUMBER. An
 * existing key keeps its TTL. */
eg_sd_status eg_shared_dict_incr(eg_shared_dict *d, const char *key, size_t klen, double delta,
                                 const double *init, double init_ttl, double *out);
/* True if a live key was removed. */
bool eg_shared_dict_delete(eg_shared_dict *d, const char *key, size_t klen);
/* Seconds left for a live key (0: it never expires), or NOT_FOUND. */
eg_sd_status eg_shared_dict_ttl(eg_shared_dict *d, const char *key, size_t klen, double *left);
/* Up to max live keys (0: all), appended to out as records of a native size_t length
 * followed by the key's bytes. Returns how many. */
size_t eg_shared_dict_keys(eg_shared_dict *d, size_t max, eg_buf *out);
/* Remove every entry. */
void eg_shared_dict_flush_all(eg_shared_dict *d);

#endif
