/* store.h — where acknowledged configuration lives.
 *
 * Keys are strings ("/objects/default/pipeline-demo"), values opaque bytes (JSON specs).
 * Every change gets the next revision of a monotonic, persisted counter. A call that
 * returned 0 is durable: it survives kill -9 and power loss (data fsynced, directory
 * fsynced). The interface is shaped like etcd v3 (revisions, list by prefix, watch from a
 * revision) so an etcd backend can sit behind the same operations.
 */
#ifndef EG_STORE_H
#define EG_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct eg_store eg_store;

typedef struct {
    char *key;
    char *value;               /* NUL-terminated for convenience; value_len excludes it */
    size_t value_len;
    int64_t create_revision, mod_revision;
} eg_kv;

typedef enum { EG_STORE_PUT, EG_STORE_DELETE } eg_store_event_type;
typedef struct {
    eg_store_event_type type;
    const eg_kv *kv;           /* for DELETE: key set, value NULL */
    int64_t revision;
} eg_store_event;
typedef void (*eg_store_watch_cb)(const eg_store_event *ev, void *ud);

typedef struct eg_store_ops {
    int (*put)(eg_store *s, const char *key, const char *value, size_t len, int64_t *rev);
    int (*del)(eg_store *s, const char *key, int64_t *rev);
    int (*get)(eg_store *s, const char *key, eg_kv *out);
    int (*list)(eg_store *s, const char *prefix, eg_kv **out, size_t *n);
    int64_t (*revision)(eg_store *s);
    int (*watch)(eg_store *s, const char *prefix, int64_t from_rev, eg_store_watch_cb cb, void *ud);
    void (*close)(eg_store *s);
} eg_store_ops;

struct eg_store {
    const eg_store_ops *ops;
};

/* The file backend in `dir` (created if missing). NULL with `err` set on failure.
 * A store is used from one thread (the server's main thread); it has no locks. Watch
 * callbacks may read the store but not change it (put/delete/watch there return -EBUSY).
 * Watching from a revision older than the current one first replays the current value of
 * each key under the prefix modified since then, as PUT events in revision order; deletes
 * from that interval are not replayed (the file backend keeps no history). */
eg_store *eg_store_open_file(const char *dir, char *err, size_t errlen);

/* All return 0, or a negative errno (-ENOENT for a missing key on get/del). */
static inline int eg_store_put(eg_store *s, const char *k, const char *v, size_t n, int64_t *rev)
{ return s->ops->put(s, k, v, n, rev); }
static inline int eg_store_delete(eg_store *s, const char *k, int64_t *rev) { return s->ops->del(s, k, rev); }
static inline int eg_store_get(eg_store *s, const char *k, eg_kv *out) { return s->ops->get(s, k, out); }
/* Sorted by key. Free with eg_kv_free_all. */
static inline int eg_store_list(eg_store *s, const char *prefix, eg_kv **out, size_t *n)
{ return s->ops->list(s, prefix, out, n); }
static inline int64_t eg_store_revision(eg_store *s) { return s->ops->revision(s); }
/* Calls cb for each change under prefix after from_rev (the file backend: changes made through
 * this handle, synchronously, after they are durable). */
static inline int eg_store_watch(eg_store *s, const char *prefix, int64_t from_rev, eg_store_watch_cb cb, void *ud)
{ return s->ops->watch(s, prefix, from_rev, cb, ud); }
static inline void eg_store_close(eg_store *s) { s->ops->close(s); }

void eg_kv_free(eg_kv *kv);
void eg_kv_free_all(eg_kv *kvs, size_t n);

#endif
