/* store_file.c — the embedded file backend of the configuration store (see store.h).
 *
 * DIR/store.log is an append-only log; on open it is replayed into an in-memory map (a sorted
 * array: the store holds thousands of objects, not millions). Record layout, little-endian:
 *
 *   u32 magic | u32 crc32 | i64 revision | i64 create_revision | u32 op | u32 key_len |
 *   u32 value_len | key | value
 *
 * The CRC (zlib) covers every byte after the crc field, so a torn write anywhere fails it.
 * Ops: PUT and DELETE are changes, `revision` is the change's revision. A compacted log begins
 * with a HEADER holding the store's revision (so it never goes backwards, even when the newest
 * changes were deletes) followed by one SNAP per live key (revision = its mod revision).
 * create_revision travels in every record so compaction cannot lose it.
 *
 * Durability: a change is acknowledged (returns 0) only after its record is written and
 * fdatasync()ed; the log's creation and every compaction rename are followed by an fsync of the
 * directory. On open the first record that is short, has a bad magic or a CRC mismatch marks
 * where a write that was never acknowledged stopped: the file is truncated there. A record whose
 * checksum is right but whose content makes no sense (unknown op, revision going backwards) is
 * not a torn write: open fails rather than destroy data it does not understand.
 *
 * Compaction: when the log is more than 4x what a fresh one would take and more than 1 MiB, a
 * fresh log is written to store.log.tmp, fsynced, renamed over store.log and the directory
 * fsynced. The rename is the commit point; a leftover .tmp is garbage and removed on open.
 *
 * Threading: one thread (the server's main thread) uses a store; there are no locks. Watch
 * callbacks run synchronously on that thread and may read the store (get/list/revision) but not
 * change it: put/delete/watch from a callback return -EBUSY, and close is not allowed there.
 * The data-directory lock (flock) is taken by the master process, not here.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#define LOG_NAME "store.log"
#define TMP_NAME "store.log.tmp"

#define REC_MAGIC 0x31534745u /* "EGS1" as it appears in the file */
#define REC_HDR 36u
#define MAX_KEY (64u * 1024)          /* far beyond any object path; bounds a garbage header */
#define MAX_VALUE (256u * 1024 * 1024) /* fits u32 and zlib's uInt */
#define COMPACT_MIN (1024u * 1024)
#define COMPACT_RATIO 4

enum { OP_PUT = 1, OP_DELETE = 2, OP_HEADER = 3, OP_SNAP = 4 };

typedef struct {
    char *prefix;
    size_t prefix_len;
    int64_t from_rev;          /* only changes with a later revision are delivered */
    eg_store_watch_cb cb;
    void *ud;
} watcher;

typedef struct {
    eg_store base;             /* first, so an eg_store * is a file_store * */
    char *dir;                 /* for messages */
    int dirfd, fd;
    eg_kv *kvs;                /* sorted by key (strcmp) */
    size_t n, cap;
    int64_t rev;
    uint64_t log_size;         /* bytes of valid records: where the next one goes */
    uint64_t live_size;        /* what a compacted log would take */
    uint64_t compact_min;      /* don't compact below this (raised after a failed attempt) */
    watcher *w;
    size_t nw, capw;
    int broken;                /* sticky -errno: an fsync failed, durability is unknown */
    bool dir_dirty;            /* a rename not yet known durable: fsync the dir before acking */
    int in_cb;                 /* depth of watch callbacks running now */
} file_store;

/* ---- encoding ---- */

static void put_u32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p)
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i);
    return v;
}
static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static size_t rec_size(size_t klen, size_t vlen) { return REC_HDR + klen + vlen; }

/* Encodes one record into buf (rec_size(klen, vlen) bytes). */
static void rec_encode(uint8_t *buf, uint32_t op, int64_t rev, int64_t crev,
                       const char *key, size_t klen, const char *val, size_t vlen)
{
    put_u32(buf, REC_MAGIC);
    put_u64(buf + 8, (uint64_t)rev);
    put_u64(buf + 16, (uint64_t)crev);
    put_u32(buf + 24, op);
    put_u32(buf + 28, (uint32_t)klen);
    put_u32(buf + 32, (uint32_t)vlen);
    if (klen) memcpy(buf + REC_HDR, key, klen);
    if (vlen) memcpy(buf + REC_HDR + klen, val, vlen);
    uLong crc = crc32(0L, buf + 8, (uInt)(REC_HDR - 8 + klen + vlen));
    put_u32(buf + 4, (uint32_t)crc);
}

/* ---- small I/O helpers: every one returns 0 or -errno ---- */

static int pwrite_all(int fd, const void *buf, size_t len, uint64_t off)
{
    const uint8_t *p = buf;
    while (len) {
        ssize_t w = pwrite(fd, p, len, (off_t)off);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (w == 0) return -EIO;
        p += w, len -= (size_t)w, off += (uint64_t)w;
    }
    return 0;
}

static int pread_all(int fd, void *buf, size_t len, uint64_t off)
{
    uint8_t *p = buf;
    while (len) {
        ssize_t r = pread(fd, p, len, (off_t)off);
        if (r < 0) {
            if (errno == EINTR) continue;
            return -errno;
        }
        if (r == 0) return -EIO; /* the file shrank under us */
        p += r, len -= (size_t)r, off += (uint64_t)r;
    }
    return 0;
}

static int fsync_path(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return -errno;
    int rc = fsync(fd) ? -errno : 0;
    close(fd);
    return rc;
}

/* mkdir -p, fsyncing the parent of every directory it creates so the new entry is durable. */
static int mkdir_p(const char *dir)
{
    size_t len = strlen(dir);
    if (!len) return -EINVAL;
    char *p = strdup(dir);
    if (!p) return -ENOMEM;
    int rc = 0;
    ssize_t prev_slash = dir[0] == '/' ? 0 : -1; /* where the current component's parent ends */
    for (size_t i = 1; i <= len && !rc; i++) {
        if (i < len && p[i] != '/') continue;
        char saved = p[i];
        p[i] = '\0';
        if (mkdir(p, 0700) == 0) {
            /* 0700: the store holds configuration, which may include TLS keys */
            if (prev_slash < 0) {
                rc = fsync_path(".");
            } else if (prev_slash == 0) {
                rc = fsync_path("/");
            } else {
                p[prev_slash] = '\0';
                rc = fsync_path(p);
                p[prev_slash] = '/';
            }
        } else if (errno != EEXIST) {
            rc = -errno;
        }
        p[i] = saved;
        prev_slash = (ssize_t)i;
    }
    free(p);
    return rc;
}

/* ---- the in-memory map ---- */

/* Index of the first key >= key; *found says whether it is equal. */
static size_t map_find(const file_store *s, const char *key, bool *found)
{
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(s->kvs[mid].key, key) < 0) lo = mid + 1;
        else hi = mid;
    }
    *found = lo < s->n && strcmp(s->kvs[lo].key, key) == 0;
    return lo;
}

static int map_reserve(file_store *s)
{
    if (s->n < s->cap) return 0;
    size_t cap = s->cap ? s->cap * 2 : 64;
    eg_kv *k = realloc(s->kvs, cap * sizeof *k);
    if (!k) return -ENOMEM;
    s->kvs = k, s->cap = cap;
    return 0;
}

/* Installs a value at i (from map_find). Takes ownership of val, and of key when !found (when
 * found, key is not used). Capacity must be reserved: this cannot fail, so a durable change
 * is always applied. */
static void map_install(file_store *s, size_t i, bool found, char *key, char *val, size_t vlen,
                        int64_t crev, int64_t mrev)
{
    eg_kv *kv = &s->kvs[i];
    if (found) {
        s->live_size -= kv->value_len;
        free(kv->value);
    } else {
        memmove(kv + 1, kv, (s->n - i) * sizeof *kv);
        s->n++;
        kv->key = key;
        s->live_size += rec_size(strlen(key), 0);
    }
    kv->value = val;
    kv->value_len = vlen;
    kv->create_revision = crev;
    kv->mod_revision = mrev;
    s->live_size += vlen;
}

/* Removes entry i; the caller owns what it returns. */
static eg_kv map_remove(file_store *s, size_t i)
{
    eg_kv kv = s->kvs[i];
    memmove(&s->kvs[i], &s->kvs[i + 1], (s->n - i - 1) * sizeof kv);
    s->n--;
    s->live_size -= rec_size(strlen(kv.key), kv.value_len);
    return kv;
}

static char *dup_bytes(const char *p, size_t len)
{
    char *d = malloc(len + 1);
    if (!d) return NULL;
    if (len) memcpy(d, p, len);
    d[len] = '\0';
    return d;
}

static int kv_copy(eg_kv *dst, const eg_kv *src)
{
    dst->key = strdup(src->key);
    dst->value = dup_bytes(src->value, src->value_len);
    if (!dst->key || !dst->value) {
        eg_kv_free(dst);
        return -ENOMEM;
    }
    dst->value_len = src->value_len;
    dst->create_revision = src->create_revision;
    dst->mod_revision = src->mod_revision;
    return 0;
}

void eg_kv_free(eg_kv *kv)
{
    if (!kv) return;
    free(kv->key);
    free(kv->value);
    kv->key = kv->value = NULL;
    kv->value_len = 0;
}

void eg_kv_free_all(eg_kv *kvs, size_t n)
{
    if (!kvs) return;
    for (size_t i = 0; i < n; i++) eg_kv_free(&kvs[i]);
    free(kvs);
}

static bool has_prefix(const char *key, const char *prefix, size_t plen)
{
    return strncmp(key, prefix, plen) == 0;
}

/* ---- writing ---- */

/* Appends one record and makes it durable. On a failed write the file is cut back so the next
 * record does not follow garbage; a failed fsync leaves durability unknown (the kernel may have
 * dropped the dirty pages), so the store refuses further writes. */
static int log_append(file_store *s, const uint8_t *buf, size_t len)
{
    if (s->broken) return s->broken;
    int rc = pwrite_all(s->fd, buf, len, s->log_size);
    if (rc) {
        if (ftruncate(s->fd, (off_t)s->log_size) != 0) s->broken = rc;
        return rc;
    }
    if (fdatasync(s->fd) != 0) {
        rc = -errno;
        fprintf(stderr, "store: %s/" LOG_NAME ": fdatasync: %s; refusing further writes\n",
                s->dir, strerror(-rc));
        s->broken = rc;
        return rc;
    }
    if (s->dir_dirty) {
        if (fsync(s->dirfd) != 0) {
            rc = -errno;
            fprintf(stderr, "store: %s: fsync: %s; refusing further writes\n", s->dir, strerror(-rc));
            s->broken = rc;
            return rc;
        }
        s->dir_dirty = false;
    }
    s->log_size += len;
    return 0;
}

/* Writes the live state to store.log.tmp and renames it over store.log. */
static int compact(file_store *s)
{
    int fd = openat(s->dirfd, TMP_NAME, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return -errno;
    int rc = 0;
    size_t cap = COMPACT_MIN, used = 0;
    uint8_t *buf = malloc(cap);
    uint64_t off = 0;
    if (!buf) {
        rc = -ENOMEM;
        goto fail;
    }
    rec_encode(buf, OP_HEADER, s->rev, 0, NULL, 0, NULL, 0);
    used = REC_HDR;
    for (size_t i = 0; i < s->n; i++) {
        const eg_kv *kv = &s->kvs[i];
        size_t klen = strlen(kv->key), need = rec_size(klen, kv->value_len);
        if (used + need > cap && used) { /* batch small records into ~1 MiB writes */
            if ((rc = pwrite_all(fd, buf, used, off))) goto fail;
            off += used, used = 0;
        }
        if (need > cap) {
            uint8_t *nb = realloc(buf, need);
            if (!nb) {
                rc = -ENOMEM;
                goto fail;
            }
            buf = nb, cap = need;
        }
        rec_encode(buf + used, OP_SNAP, kv->mod_revision, kv->create_revision,
                   kv->key, klen, kv->value, kv->value_len);
        used += need;
    }
    if ((rc = pwrite_all(fd, buf, used, off))) goto fail;
    off += used;
    free(buf);
    buf = NULL;
    if (fsync(fd) != 0 || renameat(s->dirfd, TMP_NAME, s->dirfd, LOG_NAME) != 0) {
        rc = -errno;
        goto fail;
    }
    /* Committed: the old log's inode is gone, so further appends must go to the new one. */
    close(s->fd);
    s->fd = fd;
    s->log_size = off;
    if (fsync(s->dirfd) != 0) {
        /* The new log holds everything, but its name may not be durable yet: the next change
         * retries the directory fsync before it is acknowledged. */
        fprintf(stderr, "store: %s: fsync after compaction: %s\n", s->dir, strerror(errno));
        s->dir_dirty = true;
    }
    return 0;
fail:
    free(buf);
    close(fd);
    unlinkat(s->dirfd, TMP_NAME, 0);
    return rc;
}

static void maybe_compact(file_store *s)
{
    if (s->broken || s->log_size <= s->compact_min || s->log_size <= COMPACT_RATIO * s->live_size)
        return;
    int rc = compact(s);
    if (rc) {
        /* The change that got us here is already durable; compaction only saves space. Back
         * off so a persistent error (ENOSPC) does not cost a full rewrite per change. */
        fprintf(stderr, "store: %s: compaction failed: %s\n", s->dir, strerror(-rc));
        s->compact_min = s->log_size + COMPACT_MIN;
    } else {
        s->compact_min = COMPACT_MIN;
    }
}

static void notify(file_store *s, eg_store_event_type type, const eg_kv *kv, int64_t rev)
{
    eg_store_event ev = { .type = type, .kv = kv, .revision = rev };
    s->in_cb++; /* callbacks cannot add watchers, so s->w stays put while we iterate */
    for (size_t i = 0; i < s->nw; i++) {
        const watcher *w = &s->w[i];
        if (rev > w->from_rev && has_prefix(kv->key, w->prefix, w->prefix_len)) w->cb(&ev, w->ud);
    }
    s->in_cb--;
}

/* ---- operations ---- */

static int fs_put(eg_store *base, const char *key, const char *value, size_t len, int64_t *rev)
{
    file_store *s = (file_store *)base;
    if (s->in_cb) return -EBUSY;
    if (!key || !*key || (len && !value)) return -EINVAL;
    size_t klen = strlen(key);
    if (klen > MAX_KEY || len > MAX_VALUE) return -E2BIG;

    bool found;
    size_t i = map_find(s, key, &found);
    int64_t r = s->rev + 1, crev = found ? s->kvs[i].create_revision : r;
    /* Everything the in-memory update needs is allocated before the write, so a change that
     * is durable is always applied. */
    char *nk = found ? NULL : strdup(key);
    char *nv = dup_bytes(value, len);
    uint8_t *rec = malloc(rec_size(klen, len));
    int rc = (!nv || !rec || (!found && !nk)) ? -ENOMEM : map_reserve(s);
    if (!rc) {
        rec_encode(rec, OP_PUT, r, crev, key, klen, value, len);
        rc = log_append(s, rec, rec_size(klen, len));
    }
    free(rec);
    if (rc) {
        free(nk);
        free(nv);
        return rc;
    }
    map_install(s, i, found, nk, nv, len, crev, r);
    s->rev = r;
    if (rev) *rev = r;
    notify(s, EG_STORE_PUT, &s->kvs[i], r);
    maybe_compact(s);
    return 0;
}

static int fs_del(eg_store *base, const char *key, int64_t *rev)
{
    file_store *s = (file_store *)base;
    if (s->in_cb) return -EBUSY;
    if (!key || !*key) return -EINVAL;
    bool found;
    size_t i = map_find(s, key, &found);
    if (!found) return -ENOENT;
    size_t klen = strlen(key);
    int64_t r = s->rev + 1;
    uint8_t *rec = malloc(rec_size(klen, 0));
    if (!rec) return -ENOMEM;
    rec_encode(rec, OP_DELETE, r, 0, key, klen, NULL, 0);
    int rc = log_append(s, rec, rec_size(klen, 0));
    free(rec);
    if (rc) return rc;
    eg_kv old = map_remove(s, i);
    s->rev = r;
    if (rev) *rev = r;
    /* As etcd reports it: the key, no value, mod_revision = the delete's revision. */
    eg_kv gone = { .key = old.key, .value = NULL, .value_len = 0,
                   .create_revision = 0, .mod_revision = r };
    notify(s, EG_STORE_DELETE, &gone, r);
    eg_kv_free(&old);
    maybe_compact(s);
    return 0;
}

static int fs_get(eg_store *base, const char *key, eg_kv *out)
{
    file_store *s = (file_store *)base;
    if (!key || !out) return -EINVAL;
    bool found;
    size_t i = map_find(s, key, &found);
    if (!found) return -ENOENT;
    return kv_copy(out, &s->kvs[i]);
}

static int fs_list(eg_store *base, const char *prefix, eg_kv **out, size_t *n)
{
    file_store *s = (file_store *)base;
    if (!out || !n) return -EINVAL;
    *out = NULL, *n = 0;
    if (!prefix) prefix = "";
    size_t plen = strlen(prefix);
    bool found;
    size_t first = map_find(s, prefix, &found), end = first;
    while (end < s->n && has_prefix(s->kvs[end].key, prefix, plen)) end++;
    if (end == first) return 0;
    eg_kv *kvs = calloc(end - first, sizeof *kvs);
    if (!kvs) return -ENOMEM;
    for (size_t i = first; i < end; i++) {
        if (kv_copy(&kvs[i - first], &s->kvs[i])) {
            eg_kv_free_all(kvs, i - first);
            return -ENOMEM;
        }
    }
    *out = kvs, *n = end - first;
    return 0;
}

static int64_t fs_revision(eg_store *base) { return ((file_store *)base)->rev; }

static int cmp_mod_rev(const void *a, const void *b)
{
    const eg_kv *x = *(const eg_kv *const *)a, *y = *(const eg_kv *const *)b;
    return (x->mod_revision > y->mod_revision) - (x->mod_revision < y->mod_revision);
}

/* Registers cb for changes under prefix with a revision > from_rev. If from_rev is older than
 * the current revision, the keys under prefix modified since then are first replayed as PUT
 * events in revision order, with their current values. Deletes and overwritten values from
 * that interval are not replayed: the file backend keeps no history, only the current state. */
static int fs_watch(eg_store *base, const char *prefix, int64_t from_rev, eg_store_watch_cb cb, void *ud)
{
    file_store *s = (file_store *)base;
    if (s->in_cb) return -EBUSY;
    if (!cb) return -EINVAL;
    if (!prefix) prefix = "";
    if (s->nw == s->capw) {
        size_t cap = s->capw ? s->capw * 2 : 8;
        watcher *w = realloc(s->w, cap * sizeof *w);
        if (!w) return -ENOMEM;
        s->w = w, s->capw = cap;
    }
    watcher w = { .prefix = strdup(prefix), .prefix_len = strlen(prefix),
                  .from_rev = from_rev, .cb = cb, .ud = ud };
    if (!w.prefix) return -ENOMEM;

    if (from_rev < s->rev) {
        bool found;
        size_t first = map_find(s, prefix, &found), end = first, m = 0;
        while (end < s->n && has_prefix(s->kvs[end].key, prefix, w.prefix_len)) end++;
        const eg_kv **replay = malloc((end - first + 1) * sizeof *replay);
        if (!replay) {
            free(w.prefix);
            return -ENOMEM;
        }
        for (size_t i = first; i < end; i++)
            if (s->kvs[i].mod_revision > from_rev) replay[m++] = &s->kvs[i];
        qsort(replay, m, sizeof *replay, cmp_mod_rev);
        s->in_cb++;
        for (size_t i = 0; i < m; i++) {
            eg_store_event ev = { .type = EG_STORE_PUT, .kv = replay[i],
                                  .revision = replay[i]->mod_revision };
            cb(&ev, ud);
        }
        s->in_cb--;
        free(replay);
    }
    s->w[s->nw++] = w;
    return 0;
}

static void fs_close(eg_store *base)
{
    file_store *s = (file_store *)base;
    if (!s) return;
    for (size_t i = 0; i < s->n; i++) eg_kv_free(&s->kvs[i]);
    free(s->kvs);
    for (size_t i = 0; i < s->nw; i++) free(s->w[i].prefix);
    free(s->w);
    if (s->fd >= 0) close(s->fd);
    if (s->dirfd >= 0) close(s->dirfd);
    free(s->dir);
    free(s);
}

static const eg_store_ops file_ops = {
    .put = fs_put, .del = fs_del, .get = fs_get, .list = fs_list,
    .revision = fs_revision, .watch = fs_watch, .close = fs_close,
};

/* ---- opening: replay ---- */

/* Applies one checksummed record. -EINVAL means it is well-formed but inconsistent. */
static int replay_record(file_store *s, uint32_t op, int64_t rev, int64_t crev,
                         const char *body, uint32_t klen, uint32_t vlen)
{
    if (op == OP_HEADER) {
        if (klen || vlen || rev < s->rev) return -EINVAL;
        s->rev = rev;
        return 0;
    }
    if (!klen || memchr(body, '\0', klen)) return -EINVAL;
    if (op == OP_PUT || op == OP_DELETE) {
        if (rev <= s->rev) return -EINVAL;
    } else if (op == OP_SNAP) {
        if (rev > s->rev || rev <= 0) return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (op != OP_DELETE && (crev <= 0 || crev > rev)) return -EINVAL;

    char *key = dup_bytes(body, klen);
    if (!key) return -ENOMEM;
    bool found;
    size_t i = map_find(s, key, &found);
    if (op == OP_DELETE) {
        free(key);
        if (found) {
            eg_kv old = map_remove(s, i);
            eg_kv_free(&old);
        }
        s->rev = rev;
        return 0;
    }
    char *val = dup_bytes(body + klen, vlen);
    int rc = val ? map_reserve(s) : -ENOMEM;
    if (rc) {
        free(key);
        free(val);
        return rc;
    }
    map_install(s, i, found, found ? NULL : key, val, vlen, crev, rev);
    if (found) free(key);
    if (op == OP_PUT) s->rev = rev;
    return 0;
}

static int replay(file_store *s, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(s->fd, &st) != 0) {
        snprintf(err, errlen, "%s/" LOG_NAME ": stat: %s", s->dir, strerror(errno));
        return -errno;
    }
    uint64_t size = (uint64_t)st.st_size, off = 0;
    uint8_t hdr[REC_HDR];
    char *body = NULL;
    size_t bodycap = 0;
    const char *torn = NULL;
    int rc = 0;
    while (off < size) {
        if (size - off < REC_HDR) {
            torn = "short header";
            break;
        }
        if ((rc = pread_all(s->fd, hdr, REC_HDR, off))) break;
        uint32_t klen = get_u32(hdr + 28), vlen = get_u32(hdr + 32);
        if (get_u32(hdr) != REC_MAGIC) {
            torn = "bad magic";
            break;
        }
        if (klen > MAX_KEY || vlen > MAX_VALUE) {
            torn = "impossible length";
            break;
        }
        size_t blen = (size_t)klen + vlen;
        if (size - off - REC_HDR < blen) {
            torn = "short record";
            break;
        }
        if (blen > bodycap) {
            char *nb = realloc(body, blen);
            if (!nb) {
                rc = -ENOMEM;
                break;
            }
            body = nb, bodycap = blen;
        }
        if ((rc = pread_all(s->fd, body, blen, off + REC_HDR))) break;
        uLong crc = crc32(0L, hdr + 8, REC_HDR - 8);
        if (blen) /* crc32() with a NULL buffer returns the initial value, not crc */
            crc = crc32(crc, (const Bytef *)body, (uInt)blen);
        if ((uint32_t)crc != get_u32(hdr + 4)) {
            torn = "checksum mismatch";
            break;
        }
        rc = replay_record(s, get_u32(hdr + 24), (int64_t)get_u64(hdr + 8),
                           (int64_t)get_u64(hdr + 16), body, klen, vlen);
        if (rc == -EINVAL) {
            snprintf(err, errlen, "%s/" LOG_NAME ": inconsistent record at offset %llu",
                     s->dir, (unsigned long long)off);
            free(body);
            return rc;
        }
        if (rc) break;
        off += REC_HDR + blen;
    }
    free(body);
    if (rc) {
        snprintf(err, errlen, "%s/" LOG_NAME ": read: %s", s->dir, strerror(-rc));
        return rc;
    }
    if (torn) {
        fprintf(stderr, "store: %s/" LOG_NAME ": %s at offset %llu; dropping %llu "
                "unacknowledged bytes\n", s->dir, torn, (unsigned long long)off,
                (unsigned long long)(size - off));
        /* Cut it so new records do not follow the garbage (and the cut is durable before any
         * of them is acknowledged). */
        if (ftruncate(s->fd, (off_t)off) != 0 || fdatasync(s->fd) != 0) {
            rc = -errno;
            snprintf(err, errlen, "%s/" LOG_NAME ": truncate: %s", s->dir, strerror(-rc));
            return rc;
        }
    }
    s->log_size = off;
    return 0;
}

eg_store *eg_store_open_file(const char *dir, char *err, size_t errlen)
{
    char dummy[1];
    if (!err || !errlen) err = dummy, errlen = sizeof dummy;
    err[0] = '\0';
    if (!dir || !*dir) {
        snprintf(err, errlen, "store: empty directory name");
        return NULL;
    }
    file_store *s = calloc(1, sizeof *s);
    if (!s || !(s->dir = strdup(dir))) {
        free(s);
        snprintf(err, errlen, "store: out of memory");
        return NULL;
    }
    s->base.ops = &file_ops;
    s->fd = s->dirfd = -1;
    s->compact_min = COMPACT_MIN;
    s->live_size = REC_HDR; /* a compacted log always has its header */

    int rc = mkdir_p(dir);
    if (rc) {
        snprintf(err, errlen, "%s: create: %s", dir, strerror(-rc));
        goto fail;
    }
    /* Everything else goes through dirfd, so a later chdir cannot redirect us. */
    s->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (s->dirfd < 0) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        goto fail;
    }
    /* A compaction that never reached its rename: the log is still authoritative. */
    if (unlinkat(s->dirfd, TMP_NAME, 0) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "%s/" TMP_NAME ": %s", dir, strerror(errno));
        goto fail;
    }
    s->fd = openat(s->dirfd, LOG_NAME, O_RDWR | O_CLOEXEC);
    if (s->fd < 0 && errno == ENOENT) {
        s->fd = openat(s->dirfd, LOG_NAME, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (s->fd >= 0 && (fsync(s->fd) != 0 || fsync(s->dirfd) != 0)) {
            snprintf(err, errlen, "%s/" LOG_NAME ": fsync: %s", dir, strerror(errno));
            goto fail;
        }
    }
    if (s->fd < 0) {
        snprintf(err, errlen, "%s/" LOG_NAME ": %s", dir, strerror(errno));
        goto fail;
    }
    if (replay(s, err, errlen)) goto fail;
    maybe_compact(s);
    return &s->base;
fail:
    fs_close(&s->base);
    return NULL;
}
